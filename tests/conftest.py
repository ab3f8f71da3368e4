"""Fixtures: a fresh workspace per test on each backend (SQLite file, PostgreSQL schema)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from runyard import Experiment, NotFoundError, RunyardError, Workspace
from runyard.compute.submit import runner_log_folder
from runyard.sdk.workspace import close_all
from runyard.store.database import Database

T = TypeVar("T")

PG_URL = os.environ.get("RUNYARD_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]
TRANSPORTS = ["local", "http"]


def poll_until(
    condition: Callable[[], T],
    timeout: float,
    what: str | Callable[[], str] = "the condition",
    every: float = 0.05,
) -> T:
    """Call `condition` until it returns something truthy, and return that; fail after
    `timeout` seconds saying `what` was awaited (a callable is asked only then, so it can
    describe the state at the deadline). The one way tests wait: no bare sleeps."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            pytest.fail(f"not within {timeout:g} s: {said}")
        time.sleep(every)


def runner_log(run_id: str) -> str:
    """A submitted run's runner log (for messages, and to know the runner has ended)."""
    path = runner_log_folder() / f"{run_id}.log"
    return path.read_text(errors="replace") if path.is_file() else ""


def runner_ended(run_id: str) -> bool:
    """Whether the run's runner has finished (it logs "ended", or crashed)."""
    text = runner_log(run_id)
    return " ended " in text or "Traceback" in text


def stop_runs(experiment: Experiment, timeout: float = 30.0) -> None:
    """Cancel the experiment's unfinished submitted runs and wait (at most `timeout`, without
    failing: this is clean-up) for every runner of them to end."""
    try:
        runs = [r for r in experiment.get_runs(include_children=True) if r.type == "script"]
    except NotFoundError:  # nothing was submitted
        return
    for run in runs:
        if run.get_status() not in ("Completed", "Failed", "Canceled"):
            with contextlib.suppress(RunyardError):
                run.cancel()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(runner_ended(r.id) for r in runs):
        time.sleep(0.1)


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0]


_PG_PROBLEM: str | None = None
_PG_CHECKED = False


def require_postgres() -> None:
    """Skip (loudly, with the reason) when the PostgreSQL test server cannot be reached."""
    global _PG_PROBLEM, _PG_CHECKED
    if not _PG_CHECKED:
        _PG_PROBLEM = _postgres_problem()
        _PG_CHECKED = True
    if _PG_PROBLEM is not None:
        pytest.skip(f"POSTGRESQL NOT AVAILABLE at {PG_URL}: {_PG_PROBLEM}")


def fresh_store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A store URL nobody else uses: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'runyard.db'}"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        close_all()
        Database.close_url(url)  # servers built in-process (TestClient) share this pool
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store on the backend under test."""
    yield from fresh_store_url(backend, tmp_path)


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A real `runyard server` in a subprocess, on loopback, stopped by its pid."""

    def __init__(self, store: str, artifacts: Path, *extra: str, env: dict[str, str] | None = None):
        self.store = store
        self.artifacts = artifacts
        self.extra = extra
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> ServerProcess:
        """Start it and wait until it answers (a loaded CI machine takes a minute to import)."""
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "runyard",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--store",
                self.store,
                "--artifacts",
                str(self.artifacts),
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **(self.env or {})},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"runyard server exited with {self.proc.returncode}: {err}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("runyard server did not answer in time")

    def kill(self) -> None:
        """SIGKILL: the server dies mid-flight."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        """Terminate it (kill after 5 s)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """One server per backend for the session; tests keep apart by workspace name."""
    servers: dict[str, ServerProcess] = {}
    schemas: list[str] = []

    def server_for(backend: str) -> str:
        if backend not in servers:
            folder = tmp_path_factory.mktemp(f"server-{backend}")
            if backend == "sqlite":
                url = f"sqlite:///{folder / 'runyard.db'}"
            else:
                require_postgres()
                schema = f"s_{uuid.uuid4().hex[:12]}"
                engine = create_engine(PG_URL)
                with engine.begin() as conn:
                    conn.execute(text(f"CREATE SCHEMA {schema}"))
                engine.dispose()
                schemas.append(schema)
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
            servers[backend] = ServerProcess(url, folder / "artifacts").start()
        return servers[backend].url

    yield server_for
    for server in servers.values():
        server.stop()
    if schemas:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """Each test using it runs in-process (embedded store) and over HTTP (a real server)."""
    return str(request.param)


@pytest.fixture
def workspace(
    backend: str,
    transport: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Workspace]:
    """A fresh workspace: its own store and files, or its own workspace on a server."""
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    if transport == "local":
        store = request.getfixturevalue("store_url")
        ws = Workspace("test", store_url=store, artifacts_url=str(tmp_path / "artifacts"))
    else:
        server_for = request.getfixturevalue("shared_server")
        ws = Workspace(f"t{uuid.uuid4().hex[:12]}", server_url=server_for(backend))
    yield ws
    close_all()


@pytest.fixture
def experiment(workspace: Workspace) -> Experiment:
    """An experiment in the fresh workspace."""
    return Experiment(workspace, "explore-runs")


@pytest.fixture(autouse=True)
def _no_git_provenance(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite runs inside a git checkout: runs would record its commit as properties.
    Tests of provenance turn it back on (`monkeypatch.delenv`)."""
    monkeypatch.setenv("RUNYARD_NO_GIT_PROVENANCE", "1")

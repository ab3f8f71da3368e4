"""The server dies, is overloaded, or is away: real server and client processes, nothing
lost and nothing stored twice (the spool, idempotency keys, `runyard sync`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from runyard import Workspace
from runyard.client.spool import SpooledBatch, read_pending
from runyard.core.limits import Limits
from tests.conftest import ServerProcess, poll_until

pytestmark = pytest.mark.slow

#: A client: creates a run, prints its id, logs `count` points of "x" (value = index),
#: pausing every 1,000 points, then completes the run.
_CLIENT = """
import sys, time
from runyard import Experiment, Workspace

url, workspace, count, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
run = Experiment(Workspace(workspace, server_url=url), "robust").start_logging()
print(run.id, flush=True)
for i in range(count):
    run.log("x", float(i))
    if pause and i % 1000 == 999:
        time.sleep(pause)
run.complete()
"""

#: A client that stores 10,000 points, waits for a line on stdin (the test stops the
#: server meanwhile), logs 10,000 more and completes, timing complete(); with a second
#: argument it then leaves at once with os._exit, as a killed or forked process does.
_CLIENT_SERVER_DOWN = """
import os, sys, time
from runyard import Experiment, Workspace

run = Experiment(Workspace("down", server_url=sys.argv[1]), "down").start_logging()
for i in range(10_000):
    run.log("x", float(i))
run.flush()
print(run.id, flush=True)
sys.stdin.readline()
for i in range(10_000, 20_000):
    run.log("x", float(i))
started = time.monotonic()
run.complete()
print(f"complete took {time.monotonic() - started:.3f}", flush=True)
if len(sys.argv) > 2:
    os._exit(0)
"""

#: A script in offline mode: a run with scalars, a table, tags, properties and a file.
_CLIENT_OFFLINE = """
import sys
from pathlib import Path
from runyard import Experiment, Workspace

run = Experiment(Workspace("offline", server_url=sys.argv[1]), "offline-exp").start_logging()
for i in range(5_000):
    run.log("loss", 1.0 / (i + 1))
run.log("message", "Hello from run!")
run.log_table("curve", {"epoch": [1, 2, 3], "acc": [0.5, 0.75, 0.875]})
run.tag("quality", "fantastic run")
run.tag("flag")
run.add_properties({"author": "azureml-user", "seed": "42"})
model = Path(sys.argv[2])
model.write_bytes(bytes(range(256)) * 40)
run.upload_file("outputs/model.bin", str(model))
run.complete()
print(run.id, flush=True)
"""


@dataclass
class _Client:
    """A script run in its own Python process, its output in files."""

    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()

    def first_line(self, timeout: float = 60.0) -> str:
        """The first line it prints (a run id), waiting for it with a deadline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout()
            if "\n" in text:
                return text.split("\n", 1)[0].strip()
            if self.proc.poll() is not None:
                pytest.fail(f"client exited with {self.proc.returncode}: {self.stderr()}")
            time.sleep(0.05)
        pytest.fail(f"client printed nothing in {timeout} s: {self.stderr()}")

    def wait(self, timeout: float) -> int | None:
        """Its exit code, or None if it is still running at the deadline."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


@dataclass
class _Processes:
    """Every process a test starts, stopped by pid at teardown."""

    tmp_path: Path
    spool_dir: Path
    servers: list[ServerProcess] = field(default_factory=list)
    clients: list[_Client] = field(default_factory=list)

    def server(self, store: str, *extra: str, port: int | None = None) -> ServerProcess:
        """A server on the store; on `port` (an earlier server's, to restart it) if given."""
        server = ServerProcess(store, self.tmp_path / "artifacts", *extra)
        if port is not None:
            server.port = port
            server.url = f"http://127.0.0.1:{port}"
        self.servers.append(server)
        return server.start()

    def client(self, source: str, *args: str, stdin: bool = False, **env: str) -> _Client:
        """Run a client script with the test's spool folder."""
        index = len(self.clients)
        script = self.tmp_path / f"client_{abs(hash(source)):x}.py"
        if not script.exists():
            script.write_text(textwrap.dedent(source))
        out = self.tmp_path / f"client_{index}.out"
        err = self.tmp_path / f"client_{index}.err"
        with out.open("wb") as out_file, err.open("wb") as err_file:
            proc = subprocess.Popen(
                [sys.executable, str(script), *args],
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=out_file,
                stderr=err_file,
                env=self.env(**env),
                cwd=self.tmp_path,
            )
        client = _Client(proc, out, err)
        self.clients.append(client)
        return client

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every process started for a client or a sync."""
        return {**os.environ, "RUNYARD_SPOOL_DIR": str(self.spool_dir), **extra}

    def sync(self, workspace: Workspace) -> subprocess.CompletedProcess[str]:
        """`python -m runyard sync -w config.json` for the workspace, as a user runs it."""
        config = workspace.write_config(self.tmp_path / f"config-{workspace.name}")
        done = subprocess.run(
            [sys.executable, "-m", "runyard", "sync", "-w", str(config)],
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.tmp_path,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done

    def stop_all(self) -> None:
        for client in self.clients:
            if client.proc.poll() is None:
                client.proc.terminate()
                try:
                    client.proc.wait(5)
                except subprocess.TimeoutExpired:
                    client.proc.kill()
                    client.proc.wait(5)
            if client.proc.stdin is not None:
                client.proc.stdin.close()
        for server in self.servers:
            server.stop()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[_Processes]:
    """Servers and clients for one test, all stopped at its end."""
    started = _Processes(tmp_path, tmp_path / "spool")
    try:
        yield started
    finally:
        started.stop_all()


class _Reader:
    """Reads a workspace of a server over the native API (no SDK, so no spool of its own)."""

    def __init__(self, url: str, workspace: str) -> None:
        self.url = url
        self.base = f"{url}/api/v1/workspaces/{workspace}"

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.base}{path}", params=params, timeout=60)
        response.raise_for_status()
        return response.json()

    def run(self, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/runs/{run_id}"))

    def series(self, run_id: str, name: str) -> dict[str, Any]:
        (found,) = self.get(f"/runs/{run_id}/metrics/series", name=name)
        return dict(found)

    def count(self, run_id: str, name: str = "x") -> int:
        """Points of a metric stored so far (0 while the server is away or the run unknown)."""
        try:
            infos = self.get(f"/runs/{run_id}/metrics")
        except httpx.HTTPError:
            return 0
        return sum(m["count"] for m in infos if m["name"] == name)


def _assert_exactly_once(reader: _Reader, run_id: str, count: int) -> None:
    """The run holds 0..count-1 in order, each once, and is Completed."""
    series = reader.series(run_id, "x")
    values = series["values"]
    assert len(values) == count, f"run {run_id}: {len(values)} points stored, {count} logged"
    assert values == [float(i) for i in range(count)], f"run {run_id}: points lost or doubled"
    assert series["steps"] == list(range(count))
    assert reader.run(run_id)["status"] == "Completed"


def _spooled_points(spool_dir: Path) -> int:
    """Points in spool segments that were never acknowledged."""
    limits = Limits.from_env()
    return sum(
        sum(len(b.values) for b in item.batches)
        for segment in spool_dir.rglob("*.spool")
        for item in read_pending(segment, limits)
        if isinstance(item, SpooledBatch)
    )


def test_server_killed_during_ingest_loses_and_doubles_nothing(
    store_url: str, processes: _Processes, backend: str
) -> None:
    count, clients = 30_000, 4
    first = processes.server(store_url)
    started = [
        processes.client(
            _CLIENT, first.url, "robust", str(count), "0.1", RUNYARD_FLUSH_TIMEOUT="120"
        )
        for _ in range(clients)
    ]
    run_ids = [client.first_line() for client in started]
    reader = _Reader(first.url, "robust")

    stored = poll_until(
        lambda: sum(reader.count(run_id) for run_id in run_ids),
        60,
        "a client to get points into the server",
    )
    first.kill()
    assert stored < clients * count, "the clients had finished before the kill"
    time.sleep(1.0)  # the scenario itself: the server is down for a second
    processes.server(store_url, port=first.port)

    deadline = time.monotonic() + 180  # complete() may wait RUNYARD_FLUSH_TIMEOUT=120 s
    unfinished = [c for c in started if c.wait(max(deadline - time.monotonic(), 0)) is None]
    assert any("server is unreachable" in c.stderr() for c in started), "no client saw it down"
    for client in started:
        if client not in unfinished:
            assert client.proc.returncode == 0, client.stderr()
    if unfinished:
        for client in unfinished:
            client.proc.kill()
            client.proc.wait(10)
        processes.sync(Workspace("robust", server_url=first.url))
    print(
        f"\n[{backend}] {stored} of {clients * count} points stored at the kill; "
        f"clients needing `runyard sync`: {len(unfinished)}"
    )
    for run_id in run_ids:
        _assert_exactly_once(reader, run_id, count)
    assert not unfinished, f"{len(unfinished)} clients did not finish after the restart"


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(parents.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) * 1024 if match else 0
    return total


class _PeakRss:
    """Samples a process tree's RSS every 0.2 s in a thread; `peak` is the largest sum."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(self.pid))
            self._stop.wait(0.2)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


#: 16 writers x 50,000 points; RSS of the whole server tree (supervisor + 2 workers).
#: A worker of this app idles near 100 MB (Python, FastAPI, SQLAlchemy, pydantic); an
#: ingest request holds one batch (bounded by the body limit) while it is decoded and
#: written, so the tree should stay far below 600 MB. Growth with the number of points
#: (800,000 points would be ~100+ MB as Python objects) would break it.
_RSS_BOUND = 600 * 1024 * 1024


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sixteen_clients_exact_counts_and_bounded_memory(
    store_url: str, processes: _Processes, backend: str
) -> None:
    clients, count = 16, 50_000
    server = processes.server(store_url, "--workers", "2")
    assert server.proc is not None
    idle = _tree_rss(server.proc.pid)
    with _PeakRss(server.proc.pid) as rss:
        started_at = time.monotonic()
        started = [
            processes.client(_CLIENT, server.url, "crowd", str(count), "0") for _ in range(clients)
        ]
        for client in started:
            assert client.wait(timeout=150) == 0, client.stderr()
        wall = time.monotonic() - started_at
    reader = _Reader(server.url, "crowd")
    for client in started:
        _assert_exactly_once(reader, client.first_line(), count)
    rate = clients * count / wall
    print(
        f"\n[{backend}] {clients} x {count} points in {wall:.1f} s "
        f"({rate:,.0f} points/s incl. client start-up); "
        f"server RSS {idle / 2**20:.0f} MB idle, {rss.peak / 2**20:.0f} MB at peak"
    )
    assert rss.peak < _RSS_BOUND, f"server tree peaked at {rss.peak / 2**20:.0f} MB"


def test_complete_returns_in_bounded_time_when_the_server_is_down(
    processes: _Processes, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    first = processes.server(store)
    client = processes.client(_CLIENT_SERVER_DOWN, first.url, stdin=True, RUNYARD_FLUSH_TIMEOUT="2")
    run_id = client.first_line()
    first.kill()
    assert client.proc.stdin is not None
    client.proc.stdin.write(b"go\n")
    client.proc.stdin.flush()

    exit_code = client.wait(timeout=60)
    assert exit_code == 0, client.stderr()
    took = float(re.findall(r"complete took ([\d.]+)", client.stdout())[0])
    print(f"\ncomplete() took {took:.2f} s with the server down and RUNYARD_FLUSH_TIMEOUT=2")
    assert took < 2 + 1.5, f"complete() took {took:.1f} s with RUNYARD_FLUSH_TIMEOUT=2"
    err = client.stderr()
    left = re.search(r"ends with (\d+) metric points not yet stored", err)
    assert left is not None, err
    assert "runyard sync" in err
    assert _spooled_points(processes.spool_dir) == int(left.group(1)) == 10_000

    second = processes.server(store, port=first.port)
    reader = _Reader(second.url, "down")
    assert reader.count(run_id) == 10_000
    assert reader.run(run_id)["status"] == "Running"
    done = processes.sync(Workspace("down", server_url=second.url))
    assert "(10000 metric points)" in done.stderr
    _assert_exactly_once(reader, run_id, 20_000)


def test_complete_with_the_server_down_lets_the_process_exit_promptly(
    processes: _Processes, tmp_path: Path
) -> None:
    """Everything unsent is in the spool when complete() returns: exiting waits no longer
    than RUNYARD_FLUSH_TIMEOUT either."""
    first = processes.server(f"sqlite:///{tmp_path / 'runyard.db'}")
    client = processes.client(_CLIENT_SERVER_DOWN, first.url, stdin=True, RUNYARD_FLUSH_TIMEOUT="2")
    client.first_line()
    first.kill()
    assert client.proc.stdin is not None
    client.proc.stdin.write(b"go\n")
    client.proc.stdin.flush()
    asked = time.monotonic()
    assert client.wait(timeout=60) == 0, client.stderr()
    exited = time.monotonic() - asked
    assert exited < 2 + 5, f"the script exited {exited:.1f} s after its last call"


def _offline_run_then_sync(processes: _Processes, tmp_path: Path) -> tuple[str, _Reader, str]:
    """Run the offline script with no server listening, then start the server on the URL
    the script used and sync; (run id, a reader, what the sync printed)."""
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    server = ServerProcess(store, tmp_path / "artifacts")
    client = processes.client(
        _CLIENT_OFFLINE, server.url, str(tmp_path / "model.bin"), RUNYARD_MODE="offline"
    )
    assert client.wait(timeout=60) == 0, client.stderr()
    run_id = client.first_line()
    # 5,000 losses, one message, two table columns of three rows.
    assert _spooled_points(processes.spool_dir) == 5_000 + 1 + 2 * 3

    processes.server(store, port=server.port)
    synced = processes.sync(Workspace("offline", server_url=server.url))
    return run_id, _Reader(server.url, "offline"), synced.stderr


def test_completed_status_is_spooled_before_complete_returns_with_the_server_down(
    processes: _Processes, tmp_path: Path
) -> None:
    """complete() with the server away: once it returns, the process may die at once and
    `runyard sync` still marks the run Completed."""
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    first = processes.server(store)
    client = processes.client(
        _CLIENT_SERVER_DOWN, first.url, "exit-now", stdin=True, RUNYARD_FLUSH_TIMEOUT="2"
    )
    run_id = client.first_line()
    first.kill()
    assert client.proc.stdin is not None
    client.proc.stdin.write(b"go\n")
    client.proc.stdin.flush()
    assert client.wait(timeout=60) == 0, client.stderr()

    second = processes.server(store, port=first.port)
    processes.sync(Workspace("down", server_url=second.url))
    reader = _Reader(second.url, "down")
    assert reader.count(run_id) == 20_000
    assert reader.run(run_id)["status"] == "Completed"


def test_offline_mode_then_sync(processes: _Processes, tmp_path: Path) -> None:
    run_id, reader, synced = _offline_run_then_sync(processes, tmp_path)
    assert "(5007 metric points)" in synced

    doc = reader.run(run_id)
    assert doc["status"] == "Completed"
    assert doc["experimentName"] == "offline-exp"
    assert doc["tags"] == {"quality": "fantastic run", "flag": None}
    assert doc["properties"] == {"author": "azureml-user", "seed": "42"}
    loss = reader.series(run_id, "loss")
    assert loss["values"] == [1.0 / (i + 1) for i in range(5_000)]
    assert reader.series(run_id, "message")["values"] == ["Hello from run!"]
    curve = {s["column"]: s["values"] for s in reader.get(f"/runs/{run_id}/metrics/series")}
    assert curve["epoch"] == [1, 2, 3] and curve["acc"] == [0.5, 0.75, 0.875]
    assert reader.get(f"/runs/{run_id}/files")["files"] == ["outputs/model.bin"]
    model = httpx.get(f"{reader.base}/runs/{run_id}/files/outputs/model.bin", timeout=30)
    assert model.content == bytes(range(256)) * 40

    everything = reader.get(f"/runs/{run_id}/metrics/series")
    again = processes.sync(Workspace("offline", server_url=reader.url))
    assert "synced 0 spooled items (0 metric points)" in again.stderr
    assert reader.run(run_id) == doc
    assert reader.get(f"/runs/{run_id}/metrics/series") == everything
    assert reader.get(f"/runs/{run_id}/files")["files"] == ["outputs/model.bin"]


def test_sync_leaves_nothing_of_an_offline_run_in_the_spool(
    processes: _Processes, tmp_path: Path
) -> None:
    """Once synced, the segments and the copies of uploaded files are gone from the spool."""
    _offline_run_then_sync(processes, tmp_path)
    left = [p for p in processes.spool_dir.rglob("*") if p.is_file()]
    assert left == [], "left in the spool after the sync"

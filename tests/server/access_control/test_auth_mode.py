"""When a real server asks for tokens: `--auth auto|required|off`, and a server that has had
tokens stays locked when the last one is revoked."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, poll_until
from tests.server.access_control.secured import OFF_LOOPBACK, bearer, create_token, runyard_cli
from tests.server.access_control.test_loopback_and_first_token import _outcome

#: Longer than any token cache of the server (2 s now, 5 s before): a reopened server
#: would answer 200 within it.
LOCKED_FOR = 8.0


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runyard.db'}"


@pytest.fixture
def served(store: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server on `store` in the default auth mode (auto)."""
    process = ServerProcess(store, tmp_path / "artifacts")
    try:
        yield process.start()
    finally:
        process.stop()


def experiments(server: ServerProcess, token: str | None = None) -> int:
    headers = {} if token is None else {"authorization": bearer(token)}
    url = f"{server.url}/api/v1/workspaces/team-a/experiments"
    return httpx.get(url, headers=headers, timeout=30).status_code


def test_revoking_the_last_token_keeps_the_server_locked(served: ServerProcess, store: str) -> None:
    assert experiments(served) == 200
    token = create_token(store, "team-a", "owner")
    poll_until(lambda: experiments(served) == 401, 20, "the server locks once a token exists")

    revoked = runyard_cli("token", "revoke", token, "--store", store)

    assert revoked.returncode == 0, revoked.stderr
    poll_until(lambda: experiments(served, token) == 401, 20, "the revoked token is refused")
    # Nothing may change from here on: poll for longer than any cache lives.
    deadline = time.monotonic() + LOCKED_FOR
    while time.monotonic() < deadline:
        assert experiments(served) == 401, "revoking the last token reopened the server"
        time.sleep(0.25)
    write = httpx.put(f"{served.url}/api/v1/workspaces/team-a/experiments/intruder", timeout=30)
    assert write.status_code == 401


def test_auth_required_locks_a_server_that_has_no_token_yet(store: str, tmp_path: Path) -> None:
    process = ServerProcess(store, tmp_path / "artifacts", "--auth", "required")
    try:
        process.start()
        assert experiments(process) == 401
        token = create_token(store, "team-a", "reader")
        poll_until(lambda: experiments(process, token) == 200, 20, "the new token is accepted")
        assert experiments(process) == 401
    finally:
        process.stop()


def test_auth_off_is_an_explicit_choice_that_opens_a_locked_store(
    store: str, tmp_path: Path
) -> None:
    token = create_token(store, "team-a", "owner")
    process = ServerProcess(store, tmp_path / "artifacts", "--auth", "off")
    try:
        process.start()
        assert experiments(process) == 200
        assert experiments(process, token) == 200
    finally:
        process.stop()
    assert process.proc is not None and process.proc.stderr is not None
    assert "auth is off" in process.proc.stderr.read().decode()


def test_auth_off_is_refused_off_loopback(store: str, tmp_path: Path) -> None:
    create_token(store, "team-a", "owner")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "runyard", "server", "--host", OFF_LOOPBACK, "--auth", "off",
            "--store", store, "--artifacts", str(tmp_path / "artifacts"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip

    code, err = _outcome(proc)

    assert code != 0
    assert "--auth off" in err and OFF_LOOPBACK in err
    assert "runyard server on" not in err

"""An open loopback server closes when its first token exists, and a server never runs
open off loopback.

The fixtures (`secured`, `client`, `victim`, `sdk_env`) are in this package's conftest.py.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from runyard import Experiment, Run, Workspace
from runyard.core.errors import AuthenticationError
from runyard.sdk.workspace import close_all
from tests.conftest import ServerProcess, free_port, poll_until
from tests.server.access_control.secured import (
    CACHE_DEADLINE,
    OFF_LOOPBACK,
    TEAM_A,
    bearer,
    create_token,
)

# 1-2: an open loopback server closes when the first token exists


def test_loopback_server_is_open_until_the_first_token_exists(
    store_url: str, tmp_path: Path, sdk_env: None
) -> None:
    server = ServerProcess(store_url, tmp_path / "artifacts").start()
    try:
        experiments = f"{server.url}/api/v1/workspaces/a/experiments"
        assert httpx.get(experiments, timeout=30).status_code == 200
        ws = Workspace("a", server_url=server.url)
        run = Experiment(ws, "open").start_logging()
        run.log("loss", 0.5)
        run.complete()
        assert Run(Experiment(ws, "open"), run.id).get_metrics() == {"loss": 0.5}
        # team-a is used before its token exists: see test_token_create_works_for_a_new_workspace.
        team_a = f"{server.url}/api/v1/workspaces/{TEAM_A}/experiments"
        assert httpx.get(team_a, timeout=30).status_code == 200

        token = create_token(store_url, TEAM_A, "owner")

        poll_until(
            lambda: httpx.get(experiments, timeout=30).status_code == 401,
            CACHE_DEADLINE,
            "a token-less request is refused once a token exists",
        )
        answer = httpx.get(experiments, timeout=30)
        assert answer.json()["error"]["type"] == "AuthenticationError"
        with pytest.raises(AuthenticationError):
            Experiment.list(Workspace("a", server_url=server.url))
        own = httpx.get(team_a, headers={"authorization": bearer(token)}, timeout=30)
        assert own.status_code == 200
    finally:
        close_all()
        server.stop()


def test_token_create_works_for_a_new_workspace(store_url: str) -> None:
    """An admin creates the first token of a workspace nobody has used yet."""
    try:
        token = create_token(store_url, "brand-new", "owner", timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("`runyard token create` for a workspace not in the store yet hung (>20 s)")
    assert token


# 6: never open off loopback


def _address_is_foreign(host: str) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, 0))
        except OSError:
            return True
    return False


def _serve_off_loopback(store: str, artifacts: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "runyard", "server", "--host", OFF_LOOPBACK, "--port", str(port),
            "--store", store, "--artifacts", str(artifacts),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _outcome(proc: subprocess.Popen[str], timeout: float = 30.0) -> tuple[int, str]:
    """Its exit code and stderr; stopped by its pid (terminate, then kill) if still running."""
    try:
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate(timeout=5)


def test_server_refuses_to_start_off_loopback_without_tokens(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    port = free_port()

    code, err = _outcome(_serve_off_loopback(store, tmp_path / "artifacts", port))

    lines = err.strip().splitlines()
    assert code != 0
    assert len(lines) == 1, err
    assert "token" in lines[0]
    assert OFF_LOOPBACK in lines[0]
    assert "runyard server on" not in err
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_server_with_a_token_gets_past_the_loopback_check(tmp_path: Path) -> None:
    if not _address_is_foreign(OFF_LOOPBACK):
        pytest.skip(f"{OFF_LOOPBACK} is an address of this machine")
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    # Used before its token is made: see test_token_create_works_for_a_new_workspace.
    Experiment.list(Workspace(TEAM_A, store_url=store, artifacts_url=str(tmp_path / "artifacts")))
    close_all()
    create_token(store, TEAM_A, "owner")

    code, err = _outcome(_serve_off_loopback(store, tmp_path / "artifacts", free_port()))

    assert code != 0
    assert "refusing" not in err
    assert "runyard server on" in err
    assert "address" in err.lower(), err

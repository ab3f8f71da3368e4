"""What a SIGKILLed process leaves behind (temporary upload files, partial artifact files) is
removed by the next server when it starts, and on a schedule; live uploads are left alone."""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

import httpx

from tests.conftest import ServerProcess, poll_until

PARTIAL = ".runyard-partial-" + "0" * 32


def start_upload(server: ServerProcess, run_path: str, declared: int) -> socket.socket:
    """Begin a file upload and send part of it; the socket is left open."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    head = (
        f"PUT {run_path}/files/big.bin HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + b"x" * 65536)
    return sock


def uploads_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("runyard-upload-*"))


def test_leftovers_of_a_killed_server_are_removed_when_the_next_one_starts(
    tmp_path: Path,
) -> None:
    temp = tmp_path / "server-tmp"
    temp.mkdir()
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    artifacts = tmp_path / "artifacts"
    env = {"TMPDIR": str(temp), "RUNYARD_STALE_TEMP_SECONDS": "3600"}
    first = ServerProcess(store, artifacts, env=env).start()
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    run_path = f"/api/v1/workspaces/w/runs/{run_id}"
    created = httpx.post(
        f"{first.url}/api/v1/workspaces/w/runs",
        json={"runs": [{"run_id": run_id, "experiment_name": "e"}]},
        timeout=30,
    )
    assert created.status_code == 200, created.text
    sock = start_upload(first, run_path, 10 * 1024 * 1024)
    try:
        poll_until(lambda: len(uploads_in(temp)) == 1, 30, "the upload is being spooled")
        first.kill()
    finally:
        sock.close()
    killed_upload = uploads_in(temp)
    assert len(killed_upload) == 1, "kill -9 left no upload file: nothing to test"
    run_folder = artifacts / "e" / run_id
    run_folder.mkdir(parents=True, exist_ok=True)
    stale_partial = run_folder / PARTIAL
    stale_partial.write_bytes(b"half a file")
    two_hours_ago = time.time() - 7200
    os.utime(stale_partial, (two_hours_ago, two_hours_ago))
    fresh_partial = run_folder / (".runyard-partial-" + "1" * 32)
    fresh_partial.write_bytes(b"a live writer's file")
    someone_elses = temp / "runyard-upload-notapid-keep"
    someone_elses.write_bytes(b"recent, owner unknown")

    second = ServerProcess(store, artifacts, env=env).start()
    try:
        poll_until(
            lambda: not killed_upload[0].exists() and not stale_partial.exists(),
            30,
            "the leftovers are removed at start",
        )
        assert fresh_partial.exists(), "a partial file written within the hour was removed"
        assert someone_elses.exists()
        # The upload spool of a live server is not a leftover.
        sock = start_upload(second, run_path, 10 * 1024 * 1024)
        try:
            poll_until(lambda: len(uploads_in(temp)) == 2, 30, "the new upload is being spooled")
        finally:
            sock.close()
    finally:
        second.stop()


def test_leftovers_are_removed_on_a_schedule(tmp_path: Path) -> None:
    temp = tmp_path / "server-tmp"
    temp.mkdir()
    artifacts = tmp_path / "artifacts"
    env = {
        "TMPDIR": str(temp),
        "RUNYARD_STALE_TEMP_SECONDS": "2",
        "RUNYARD_CLEANUP_INTERVAL": "0.5",
    }
    server = ServerProcess(f"sqlite:///{tmp_path / 'runyard.db'}", artifacts, env=env).start()
    try:
        folder = artifacts / "e" / "r"
        folder.mkdir(parents=True)
        partial = folder / PARTIAL
        partial.write_bytes(b"left by a killed writer")
        upload = temp / "runyard-upload-999999999-abc"
        upload.write_bytes(b"left by a killed server")

        poll_until(lambda: not partial.exists() and not upload.exists(), 20, "the schedule cleans")
    finally:
        server.stop()

"""The spool keeps what a run logs while its server is away, from the very first batch."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runyard import Experiment, Run, Workspace
from runyard.client.spool import spool_folder
from runyard.client.sync import sync_spool
from runyard.sdk.workspace import close_all
from tests.conftest import ServerProcess


def test_points_logged_before_the_first_flush_survive_a_server_that_just_died(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT", "1")
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    server = ServerProcess(store, tmp_path / "artifacts").start()
    try:
        ws = Workspace("away", server_url=server.url)
        run = Experiment(ws, "spool").start_logging()
        server.kill()  # before the run's first batch was sent
        for i in range(1000):
            run.log("x", float(i))
        started = time.monotonic()
        run.complete()  # the server is down: bounded, and everything is in the spool
        assert time.monotonic() - started < 10
        close_all()
        again = ServerProcess(store, tmp_path / "artifacts")
        again.port, again.url = server.port, server.url
        again.start()
        try:
            ws = Workspace("away", server_url=again.url)
            sync_spool(ws, spool_folder(again.url, "away"))
            found = Run.get(ws, run.id)
            assert found.get_metrics("x")["x"] == [float(i) for i in range(1000)]
            assert found.get_status() == "Completed"
        finally:
            close_all()
            again.stop()
    finally:
        server.stop()

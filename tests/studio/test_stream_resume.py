"""The run page's live stream survives a dropped connection (here: the server restarts):
it reopens where it stopped, so what was logged meanwhile shows once, nothing twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from runyard import Experiment, Workspace
from runyard.core.metrics import MetricKind, PointBatch
from runyard.sdk.workspace import close_all
from runyard.store.sql import SqlTrackingStore
from tests.conftest import ServerProcess
from tests.studio.conftest import screenshot


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    """A server of its own: this test stops and restarts it."""
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    process = ServerProcess(f"sqlite:///{tmp_path / 'runyard.db'}", tmp_path / "artifacts")
    yield process.start(timeout=120)
    close_all()
    process.stop()


def _while_down(server: ServerProcess, write: Any) -> None:
    """Stop the server (every open stream drops), write straight to its store, restart it
    on the same address."""
    server.stop()
    store = SqlTrackingStore(server.store)
    try:
        write(store)
    finally:
        store.close()
    server.start(timeout=120)


def test_live_logs_and_chart_resume_after_a_dropped_stream(
    server: ServerProcess, page: Any
) -> None:
    ws = Workspace(server_url=server.url)
    run = Experiment(ws, "resume").start_logging(display_name="resumed")
    for i in range(10):
        run.log("drop", float(i))
    run.flush()
    ws.transport.store.append_log_lines(run.id, "stdout", [f"line {i}" for i in range(5)])

    page.goto(f"{server.url}/?run={run.id}&tab=outputs")
    log = page.get_by_test_id("log-view")
    expect(log).to_contain_text("line 4")
    expect(page.locator(".live-dot")).to_be_visible()

    def gap_lines(store: SqlTrackingStore) -> None:
        store.append_log_lines(run.id, "stdout", ["line 5", "line 6", "line 7"])

    _while_down(server, gap_lines)
    expect(log).to_contain_text("line 7", timeout=20_000)  # logged while no stream was open
    shown = [ln for ln in log.inner_text().splitlines() if ln.startswith("line ")]
    assert shown == [f"line {i}" for i in range(8)]  # each once, in order
    screenshot(page, "run-logs-resumed")

    page.get_by_role("tab", name="Metrics").click()
    notes = page.locator('[data-testid="metric-chart"][data-metric="drop"] .chart-notes')
    expect(notes).to_contain_text("10 points")

    def gap_points(store: SqlTrackingStore) -> None:
        steps = list(range(10, 15))
        values = [float(s) for s in steps]
        batch = PointBatch("drop", MetricKind.SCALAR, "", "", steps, values, [time.time()] * 5)
        store.log_points(run.id, [batch])

    _while_down(server, gap_points)
    expect(notes).to_contain_text("15 points", timeout=20_000)
    for i in range(15, 18):
        run.log("drop", float(i))
    run.flush()
    expect(notes).to_contain_text("18 points", timeout=20_000)
    page.wait_for_timeout(1000)  # nothing more arrives: no point came twice
    expect(notes).to_contain_text("18 points")
    screenshot(page, "run-chart-resumed")
    run.complete()
    assert page.watched.errors == []

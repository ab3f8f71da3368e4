"""A user follows a submitted run as it works, browses its snapshot, and cancels it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from runyard import Run
from tests.studio.conftest import StudioServer, screenshot
from tests.studio.seed import submit_live_run
from tests.studio.test_browse import open_run


@pytest.fixture(scope="module")
def live_run(studio_server: StudioServer) -> Iterator[Run]:
    """A submitted script logging a point and a line every 0.2 s (canceled at the end)."""
    run = submit_live_run(studio_server.url, studio_server.folder)
    yield run
    if run.get_status() not in ("Completed", "Failed", "Canceled"):
        run.cancel()


def _wait_running(run: Run, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while run.get_status() != "Running":
        assert time.monotonic() < deadline, f"the run is still {run.get_status()}"
        time.sleep(0.2)


def _wait_for_output(url: str, run: Run, timeout: float = 60.0) -> None:
    """Until the run's stdout has lines (the page is opened on a run that has printed)."""
    deadline = time.monotonic() + timeout
    streams = f"{url}/api/v1/workspaces/default/runs/{run.id}/logs/streams"
    while not httpx.get(streams).json().get("stdout"):
        assert time.monotonic() < deadline, "the run printed nothing"
        time.sleep(0.2)


def _line_count(page: Any) -> int:
    text = page.get_by_test_id("log-view").first.inner_text()
    return text.count("live line")


def test_browse_the_snapshot(studio_server: StudioServer, live_run: Run, page: Any) -> None:
    open_run(page, studio_server, live_run.id, "snapshot")
    tree = page.get_by_test_id("snapshot-tree")
    tree.get_by_role("button", name="train.py").click()
    expect(page.get_by_test_id("file-preview")).to_contain_text('run.log("live_loss"')
    download = page.get_by_role("link", name="Download snapshot (zip)")
    expect(download).to_have_attribute(
        "href", f"/api/v1/workspaces/default/runs/{live_run.id}/snapshot/zip"
    )
    screenshot(page, "run-snapshot")
    assert page.watched.errors == []


def test_watch_a_submitted_runs_logs_and_chart_update_live(
    studio_server: StudioServer, live_run: Run, page: Any
) -> None:
    _wait_running(live_run)
    _wait_for_output(studio_server.url, live_run)
    open_run(page, studio_server, live_run.id, "outputs")
    log = page.get_by_test_id("log-view").first
    expect(log).to_contain_text("live line")
    before = _line_count(page)
    deadline = time.monotonic() + 15
    while _line_count(page) <= before + 3:  # new lines arrive with no reload
        assert time.monotonic() < deadline, "no new log lines reached the page"
        page.wait_for_timeout(200)
    screenshot(page, "run-logs-live")

    page.get_by_role("tab", name="Metrics").click()
    chart = page.locator('[data-testid="metric-chart"][data-metric="live_loss"]')
    canvas = chart.locator("canvas").first
    expect(canvas).to_be_visible()
    first = canvas.evaluate("c => c.toDataURL()")
    deadline = time.monotonic() + 15
    while canvas.evaluate("c => c.toDataURL()") == first:  # new points drawn as they arrive
        assert time.monotonic() < deadline, "the chart did not change while the run logged"
        page.wait_for_timeout(250)
    screenshot(page, "run-metrics-live")
    assert page.watched.errors == []


def test_cancel_a_running_run_from_its_page(
    studio_server: StudioServer, live_run: Run, page: Any
) -> None:
    _wait_running(live_run)
    open_run(page, studio_server, live_run.id)
    badge = page.get_by_test_id("run-page").get_by_test_id("status-badge").first
    expect(badge).to_have_attribute("data-status", "Running")
    page.get_by_test_id("cancel-run").click()
    dialog = page.get_by_test_id("cancel-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Yes, cancel run").click()
    expect(badge).to_have_attribute("data-status", "Canceled", timeout=30_000)
    expect(page.get_by_test_id("cancel-run")).to_have_count(0)
    assert live_run.get_status() == "Canceled"
    screenshot(page, "run-canceled")
    assert page.watched.errors == []

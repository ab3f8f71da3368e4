"""The studio in a real browser (Debian's chromium, Playwright) against a real server.

Seeded: 100,000 runs in one experiment, each with a scalar metric `loss` (rows written in
bulk straight into the store's tables: creating them one API call at a time would take
longer than the benchmark), and one run with a 1,000,000-point metric logged through the
store's `log_points` (so its rollups are the ones ingest writes). Timed, median of a few:
- runs table: navigation to the experiment until the first rows are visible (≤ 500 ms);
- sorting by a metric column: click on its header until the new first row shows (≤ 300 ms);
- run page: navigation until the 1M-point chart is drawn (≤ 300 ms);
- zoom: a drag on that chart until the re-queried range is drawn (≤ 150 ms);
- live: a point logged by a script (SDK over HTTP, flushed) until the open chart counts it
  (≤ 1 s);
- the initial JavaScript, gzipped (≤ 100 KB);
- the API calls behind them with the server alone (httpx, no browser): the first table
  page, deep pages, a text search, the chart history and a zoom (information, no target).
"""

from __future__ import annotations

import gzip
import math
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from _common import cli, note, print_table, row, temp_folder

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXPERIMENT = "big"
BIG_METRIC = "big"
DIST = Path(__file__).parents[1] / "src" / "runyard" / "server" / "studio_dist"


def seed_runs(store_url: str, n: int) -> None:
    """n runs with a `loss` summary each, in bulk (one transaction, executemany)."""
    from sqlalchemy import insert, select

    from runyard.core.entities import NewRun
    from runyard.store.schema import experiments, metrics, runs
    from runyard.store.sql import SqlTrackingStore

    store = SqlTrackingStore(store_url)
    store.create_runs([NewRun(run_id="big-first", experiment_name=EXPERIMENT)])
    now = time.time()
    with store.db.write() as conn:
        exp_id = conn.execute(
            select(experiments.c.id).where(experiments.c.name == EXPERIMENT)
        ).scalar_one()
        statuses = ["Completed", "Failed", "Completed", "Canceled"]
        conn.execute(
            insert(runs),
            [
                {
                    "run_id": f"big-{i:06d}",
                    "experiment_id": exp_id,
                    "number": i + 2,
                    "status": statuses[i % 4],
                    "display_name": f"trial {i}",
                    "target": "local",
                    "run_type": "interactive",
                    "submitted_by": ("alice", "bob", "carol")[i % 3],
                    "created_time": now + i * 1e-3,
                    "start_time": now + i * 1e-3,
                    "end_time": now + i * 1e-3 + (i % 100),
                    "run_definition": "{}",
                }
                for i in range(n - 1)
            ],
        )
        pks = conn.execute(select(runs.c.id).where(runs.c.experiment_id == exp_id)).scalars()
        conn.execute(
            insert(metrics),
            [
                {
                    "run_id": pk,
                    "name": "loss",
                    "column": "",
                    "kind": "scalar",
                    "description": "",
                    "count": 10,
                    "value_types": 1,
                    "last_step": 9,
                    "max_step": 9,
                    "last_number": math.sin(pk) + 2,
                    "last_vtype": 0,
                    "min_value": math.sin(pk) + 1,
                    "max_value": math.sin(pk) + 3,
                }
                for pk in pks
            ],
        )
    store.close()


def seed_long_metric(store_url: str, points: int) -> str:
    """A run with a `points`-long scalar metric, logged through the store; its id."""
    from runyard.core.entities import NewRun
    from runyard.core.metrics import MetricKind, PointBatch
    from runyard.core.status import Status
    from runyard.store.sql import SqlTrackingStore

    store = SqlTrackingStore(store_url)
    run_id = f"long-{uuid.uuid4().hex[:8]}"
    store.create_runs([NewRun(run_id=run_id, experiment_name="long", status=Status.COMPLETED)])
    chunk = 100_000
    for first in range(0, points, chunk):
        steps = list(range(first, min(points, first + chunk)))
        values = [math.sin(s / 5000) + (s % 997) / 5000 for s in steps]
        batch = PointBatch(BIG_METRIC, MetricKind.SCALAR, "", "", steps, values, [0.0] * len(steps))
        store.log_points(run_id, [batch])
    store.close()
    return run_id


def initial_js_gzip_kb() -> float:
    """Gzipped size of the JavaScript index.html loads before anything else (entry and
    modulepreloads), in KB."""
    html = (DIST / "index.html").read_text()
    total = 0
    for path in re.findall(r'(?:src|href)="/(assets/[^"]+\.js)"', html):
        data = (DIST / path).read_bytes()
        total += len(gzip.compress(data, 9))
    return total / 1024


def median_ms(measure: Callable[[], float], repeats: int) -> float:
    """Median of `repeats` measurements (milliseconds) after one untimed warm-up."""
    measure()
    return statistics.median(measure() for _ in range(repeats))


def start_server(folder: Path, store_url: str) -> tuple[subprocess.Popen[bytes], str]:
    """A `runyard server` on a free loopback port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "runyard", "server", "--port", str(port)),
            *("--store", store_url, "--artifacts", str(folder / "artifacts")),
        ],
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/api/v1/health", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def measure(
    page: Any, url: str, long_run: str, repeats: int, sizes: tuple[str, str]
) -> list[dict[str, Any]]:
    """The browser figures, as result rows."""
    rows = []

    def first_rows() -> float:
        start = time.perf_counter()
        page.goto(f"{url}/?experiment={EXPERIMENT}&col=last:loss")
        page.wait_for_selector('[data-testid="run-row"]')
        return (time.perf_counter() - start) * 1000

    rows.append(
        row(
            f"runs table ({sizes[0]} runs): first rows",
            median_ms(first_rows, repeats),
            "ms",
            target=500,
        )
    )

    def sort_by_metric() -> float:
        page.goto(f"{url}/?experiment={EXPERIMENT}&col=last:loss")
        page.wait_for_selector('[data-testid="run-row"]')
        first = page.locator('[data-testid="run-row"]').first.get_attribute("data-run-id")
        button = page.get_by_role("columnheader", name=re.compile("loss")).get_by_role("button")
        start = time.perf_counter()
        button.click()
        page.wait_for_function(
            "first => { const r = document.querySelector('[data-testid=run-row]');"
            " return r && r.dataset.runId !== first; }",
            arg=first,
        )
        return (time.perf_counter() - start) * 1000

    rows.append(
        row(
            "runs table: sort by a metric column",
            median_ms(sort_by_metric, repeats),
            "ms",
            target=300,
        )
    )

    chart = f'[data-testid="metric-chart"][data-metric="{BIG_METRIC}"]'

    def chart_drawn() -> float:
        start = time.perf_counter()
        page.goto(f"{url}/?run={long_run}&tab=metrics")
        page.wait_for_selector(f"{chart} canvas")
        page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
        return (time.perf_counter() - start) * 1000

    rows.append(
        row(
            f"run page: {sizes[1]}-point chart drawn",
            median_ms(chart_drawn, repeats),
            "ms",
            target=300,
        )
    )

    def zoom() -> float:
        page.goto(f"{url}/?run={long_run}&tab=metrics")
        over = page.locator(f"{chart} .u-over")
        over.wait_for()
        box = over.bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.4, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.45, y, steps=4)
        start = time.perf_counter()
        page.mouse.up()
        page.locator(chart).get_by_text("zoomed:").wait_for()
        page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
        return (time.perf_counter() - start) * 1000

    rows.append(row("run page: zoom re-query drawn", median_ms(zoom, repeats), "ms", target=150))
    return rows


def api_timings(url: str, long_run: str, n_runs: int, repeats: int) -> list[dict[str, Any]]:
    """The page's API calls with the server alone (no browser): which part of a figure
    above is the server's."""
    ws = f"{url}/api/v1/workspaces/default"
    table = {"experiment": EXPERIMENT, "metrics": ["loss"], "offset": 0, "limit": 100}
    deep = (n_runs // 100 - 100) * 100  # a page near the end (page 900 of 100,000 runs)
    history = f"{ws}/runs/{long_run}/metrics/history"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("table: first page, with count", "POST", {**table, "with_total": True}),
        (
            "table: first page by a metric, no count",
            "POST",
            {**table, "sort": "metric:loss:last", "with_total": False},
        ),
        (f"table: page at offset {deep:,}", "POST", {**table, "offset": deep}),
        (
            f"table: page at offset {deep:,} by a metric",
            "POST",
            {**table, "offset": deep, "sort": "metric:loss:last"},
        ),
        (
            f"table: page at offset {deep:,} by name",
            "POST",
            {**table, "offset": deep, "sort": "name"},
        ),
        (
            "table: text search (no match), with count",
            "POST",
            {**table, "text": "zzz", "with_total": True},
        ),
        ("history: whole metric, 1,000 buckets", "GET", {"name": BIG_METRIC, "max_points": 1000}),
        (
            "history: 5% zoom, 1,000 buckets",
            "GET",
            {"name": BIG_METRIC, "max_points": 1000, "min_step": 0},
        ),
    ]
    rows = []
    with httpx.Client(timeout=60) as client:
        span = client.get(history, params={"name": BIG_METRIC, "max_points": 1}).json()["count"]
        for label, method, body in calls:
            if "min_step" in body:
                body = {**body, "min_step": span * 2 // 5, "max_step": span * 9 // 20}

            def call(method: str = method, body: dict[str, Any] = body) -> float:
                start = time.perf_counter()
                if method == "POST":
                    answer = client.post(f"{ws}/runs/table", json=body)
                else:
                    answer = client.get(history, params=body)
                answer.raise_for_status()
                return (time.perf_counter() - start) * 1000

            rows.append(row(f"API alone: {label}", median_ms(call, repeats), "ms"))
    return rows


def live_latency(page: Any, url: str, repeats: int) -> float:
    """Milliseconds from `run.log(); run.flush()` in a script until the open chart counts it."""
    from runyard import Experiment, Workspace

    run = Experiment(Workspace(server_url=url), "live").start_logging()
    for i in range(10):
        run.log("live", float(i))
    run.flush()
    page.goto(f"{url}/?run={run.id}&tab=metrics")
    notes = page.locator('[data-testid="metric-chart"][data-metric="live"] .chart-notes')
    notes.get_by_text("10 points").wait_for()
    timings = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        run.log("live", float(i))
        run.flush()
        notes.get_by_text(f"{11 + i} points").wait_for()
        timings.append((time.perf_counter() - start) * 1000)
    run.complete()
    return statistics.median(timings[1:])


def main(quick: bool) -> list[dict[str, Any]]:
    """Seed, serve, drive chromium; print the table."""
    from playwright.sync_api import sync_playwright

    if not (DIST / "index.html").is_file():
        raise SystemExit("the studio is not built: run `make ui` first")
    n_runs, n_points, repeats = (5_000, 50_000, 3) if quick else (100_000, 1_000_000, 5)
    with temp_folder("studio") as folder:
        store_url = f"sqlite:///{folder}/runyard.db"
        note(f"seeding {n_runs:,} runs")
        seed_runs(store_url, n_runs)
        note(f"logging a {n_points:,}-point metric")
        long_run = seed_long_metric(store_url, n_points)
        proc, url = start_server(folder, store_url)
        os.environ.setdefault("RUNYARD_SPOOL_DIR", str(folder / "spool"))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                sizes = (f"{n_runs:,}", f"{n_points:,}")
                rows = measure(page, url, long_run, repeats, sizes)
                live = live_latency(page, url, repeats)
                rows.append(row("live: logged point on the open chart", live, "ms", target=1000))
                browser.close()
            rows.extend(api_timings(url, long_run, n_runs, repeats))
        finally:
            from runyard.sdk.workspace import close_all

            close_all()
            proc.terminate()
            proc.wait(10)
    rows.append(row("initial JavaScript (gzip)", initial_js_gzip_kb(), "KB", target=100))
    print_table(
        f"studio in chromium: {n_runs:,} runs, a {n_points:,}-point metric",
        rows,
        caption="median of several; the machine may be shared",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

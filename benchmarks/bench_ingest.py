"""End-to-end ingest: 1,000,000 points logged in a loop, committed to SQLite (≥ 300k points/s).

runyard: the clock runs from the first `run.log` call until `run.flush()` returns (every
point committed). Each repetition uses a fresh workspace; the median is reported, and the
stored count is checked twice afterwards (the store's metric count and a raw COUNT(*) on
the SQLite file). MLflow: `log_batch` with 1,000 `Metric`s per call.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from typing import Any

from _common import (
    cli,
    mlflow_client,
    mlflow_missing,
    note,
    print_table,
    row,
    runyard_workspace,
    temp_folder,
)

TARGET_POINTS_PER_S = 300_000
MLFLOW_BATCH = 1_000


def ingest_once(values: list[float]) -> dict[str, float]:
    """Log every value as "loss" in a fresh workspace; seconds for the loop and the flush."""
    from runyard import Experiment

    n = len(values)
    with temp_folder("ingest") as folder:
        with runyard_workspace(folder) as ws:
            run = Experiment(ws, "bench").start_logging()
            log = run.log
            clock = time.perf_counter
            start = clock()
            for v in values:
                log("loss", v)
            logged = clock()
            left = run.flush()
            done = clock()
            if left:
                raise RuntimeError(f"{left} points still queued after flush()")
            infos = ws.transport.store.list_metrics(run.id)
            counted = {i.name: i.count for i in infos}.get("loss")
            run.complete()
        with sqlite3.connect(folder / "runyard.db") as db:
            (rows,) = db.execute("SELECT COUNT(*) FROM metric_points").fetchone()
    if counted != n or rows != n:
        raise RuntimeError(f"expected {n} stored points; metric count {counted}, rows {rows}")
    return {"loop": logged - start, "flush": done - logged, "total": done - start}


def time_mlflow(points: int) -> float:
    """Points per second of MlflowClient.log_batch on SQLite."""
    from mlflow.entities import Metric

    with temp_folder("ingest-mlflow") as folder:
        client, experiment_id = mlflow_client(folder)
        run_id = client.create_run(experiment_id).info.run_id
        clock = time.perf_counter
        start = clock()
        for first in range(0, points, MLFLOW_BATCH):
            now = int(time.time() * 1000)
            batch = [
                Metric("loss", random.random(), now, step)
                for step in range(first, min(first + MLFLOW_BATCH, points))
            ]
            client.log_batch(run_id, metrics=batch)
        elapsed = clock() - start
        stored = len(client.get_metric_history(run_id, "loss"))
        if stored != points:
            raise RuntimeError(f"MLflow stored {stored} points, expected {points}")
        client.set_terminated(run_id)
    return points / elapsed


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the workload; returns the result rows (and prints them as a table)."""
    n, repeats, mlflow_points = (100_000, 1, 5_000) if quick else (1_000_000, 3, 50_000)
    values = [random.random() for _ in range(n)]
    results = []
    for i in range(repeats):
        note(f"ingest: runyard {n:,} points, repetition {i + 1}/{repeats}")
        results.append(ingest_once(values))
    totals = sorted(results, key=lambda r: r["total"])
    median = totals[len(totals) // 2]
    rate = n / median["total"]
    missing = mlflow_missing()
    mlflow_rate = None
    if missing is None:
        note(f"ingest: MLflow log_batch, {mlflow_points:,} points")
        mlflow_rate = time_mlflow(mlflow_points)
    rows = [
        row(
            f"{n:,} points logged → committed (end to end)",
            rate,
            "points/s",
            target=TARGET_POINTS_PER_S,
            lower_is_better=False,
            mlflow=mlflow_rate,
            mlflow_note=f"log_batch ×{MLFLOW_BATCH:,}, {mlflow_points:,} points",
            mlflow_missing=missing,
        ),
        row("  of which: the log loop", median["loop"], "s"),
        row("  of which: flush() after the loop", median["flush"], "s"),
    ]
    spread = ", ".join(f"{n / r['total']:,.0f}" for r in results)
    print_table(
        "Ingest into SQLite",
        rows,
        caption=f"runyard: median of {repeats} (points/s each: {spread}); stored count verified",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

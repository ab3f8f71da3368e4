"""Reading a long series back: `run.get_metrics("loss")` of 1,000,000 points (≤ 1 s).

runyard: 1M points are logged and flushed, then `get_metrics` is timed several times,
each time on a fresh `Run` object (no cache in the SDK), median reported. A series of
MLflow's size is read too, for a like-for-like comparison. MLflow: `get_metric_history`
of a 200,000-point metric written with `log_batch` (MLflow writes ~10k points/s, so a 1M
series would take minutes to set up); the ratio of the 1M row is per point.
"""

from __future__ import annotations

import random
import statistics
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

TARGET_S = 1.0
MLFLOW_BATCH = 1_000


def time_runyard(n: int, small: int, repeats: int) -> dict[str, float]:
    """Median seconds of get_metrics for an n-point and a small-point series."""
    from runyard import Experiment
    from runyard.sdk.run import Run

    with temp_folder("get") as folder, runyard_workspace(folder) as ws:
        exp = Experiment(ws, "bench")
        run = exp.start_logging()
        for v in [random.random() for _ in range(n)]:
            run.log("loss", v)
        for v in [random.random() for _ in range(small)]:
            run.log("loss_small", v)
        run.complete()
        timings: dict[str, list[float]] = {"loss": [], "loss_small": []}
        for _ in range(repeats):
            for name, size in (("loss", n), ("loss_small", small)):
                fresh = Run(exp, run.id)
                start = time.perf_counter()
                values = fresh.get_metrics(name)[name]
                timings[name].append(time.perf_counter() - start)
                if len(values) != size:
                    raise RuntimeError(f"{name}: expected {size} points, got {len(values)}")
    return {name: statistics.median(t) for name, t in timings.items()}


def time_mlflow(points: int, repeats: int) -> float:
    """Median seconds of MlflowClient.get_metric_history of a `points`-point metric."""
    from mlflow.entities import Metric

    with temp_folder("get-mlflow") as folder:
        client, experiment_id = mlflow_client(folder)
        run_id = client.create_run(experiment_id).info.run_id
        now = int(time.time() * 1000)
        for first in range(0, points, MLFLOW_BATCH):
            batch = [
                Metric("loss", random.random(), now, step)
                for step in range(first, min(first + MLFLOW_BATCH, points))
            ]
            client.log_batch(run_id, metrics=batch)
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            history = client.get_metric_history(run_id, "loss")
            timings.append(time.perf_counter() - start)
            if len(history) != points:
                raise RuntimeError(f"MLflow returned {len(history)} points, expected {points}")
    return statistics.median(timings)


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the workload; returns the result rows (and prints them as a table)."""
    n, ml_points, repeats = (100_000, 20_000, 3) if quick else (1_000_000, 200_000, 5)
    note(f"get_metrics: runyard setup {n:,} + {ml_points:,} points, {repeats} reads each")
    ry = time_runyard(n, ml_points, repeats)
    missing = mlflow_missing()
    ml = None
    if missing is None:
        note(f"get_metrics: MLflow setup {ml_points:,} points via log_batch, {repeats} reads")
        ml = time_mlflow(ml_points, min(repeats, 3))
    per_point_ratio = None if ml is None else (ml / ml_points) / (ry["loss"] / n)
    rows = [
        row(
            f"get_metrics of a {n:,}-point series",
            ry["loss"],
            "s",
            target=TARGET_S,
            mlflow=ml,
            mlflow_note=f"{ml_points:,} points; ratio per point",
            mlflow_missing=missing,
            ratio=per_point_ratio,
        ),
        row(
            f"get_metrics of a {ml_points:,}-point series",
            ry["loss_small"],
            "s",
            mlflow=ml,
            mlflow_note="get_metric_history",
            mlflow_missing=missing,
        ),
    ]
    print_table(
        "Reading a metric series",
        rows,
        caption=f"median of {repeats} reads, each on a fresh Run object; point counts verified",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

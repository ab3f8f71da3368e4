"""Cost of one `run.log(name, float)` call (target: median ≤ 3 µs per call).

runyard: 200,000 calls timed in batches of 1,000 with perf_counter_ns; the figures are the
median and p99 over batches of the per-call cost. The background flusher runs meanwhile,
as it does in a real script. MLflow: `MlflowClient.log_metric(run_id, "loss", v, step=i)`
on a SQLite store, each call timed on its own (it writes synchronously).
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
    percentile,
    print_table,
    row,
    runyard_workspace,
    temp_folder,
)

TARGET_US = 3.0
BATCH = 1_000


def time_runyard(total: int, step_total: int) -> dict[str, float]:
    """Per-call costs (µs) of run.log, plain and with step=, measured in batches."""
    from runyard import Experiment

    values = [random.random() for _ in range(BATCH)]
    with temp_folder("log") as folder, runyard_workspace(folder) as ws:
        run = Experiment(ws, "bench").start_logging()
        log = run.log
        clock = time.perf_counter_ns
        for v in values:  # warm-up: the first call of a name validates it
            log("loss", v)
        run.flush()
        per_call = []
        for _ in range(total // BATCH):
            start = clock()
            for v in values:
                log("loss", v)
            per_call.append((clock() - start) / BATCH / 1000)
        with_step = []
        step = 0
        for _ in range(step_total // BATCH):
            start = clock()
            for v in values:
                log("loss_step", v, step=step)
                step += 1
            with_step.append((clock() - start) / BATCH / 1000)
        run.complete()
        stored = run.get_metrics("loss")["loss"]
        if len(stored) != total + BATCH:
            raise RuntimeError(f"expected {total + BATCH} stored points, found {len(stored)}")
    return {
        "median": statistics.median(per_call),
        "p99": percentile(per_call, 99),
        "mean": statistics.fmean(per_call),
        "step_median": statistics.median(with_step),
    }


def time_mlflow(calls: int) -> dict[str, float]:
    """Per-call costs (µs) of MlflowClient.log_metric on SQLite."""
    with temp_folder("log-mlflow") as folder:
        client, experiment_id = mlflow_client(folder)
        run_id = client.create_run(experiment_id).info.run_id
        for i in range(5):  # warm-up, not timed
            client.log_metric(run_id, "warmup", 0.5, step=i)
        clock = time.perf_counter_ns
        costs = []
        for i in range(calls):
            v = random.random()
            start = clock()
            client.log_metric(run_id, "loss", v, step=i)
            costs.append((clock() - start) / 1000)
        client.set_terminated(run_id)
    return {"median": statistics.median(costs), "p99": percentile(costs, 99)}


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the workload; returns the result rows (and prints them as a table)."""
    total, step_total, mlflow_calls = (20_000, 5_000, 30) if quick else (200_000, 50_000, 300)
    note(f"log_call: runyard run.log × {total:,} (+ {step_total:,} with step=)")
    ry = time_runyard(total, step_total)
    missing = mlflow_missing()
    ml: dict[str, float | None] = {"median": None, "p99": None}
    if missing is None:
        note(f"log_call: MLflow log_metric × {mlflow_calls}")
        ml = dict(time_mlflow(mlflow_calls))
    rows = [
        row(
            "run.log(name, float): median per call",
            ry["median"],
            "µs",
            target=TARGET_US,
            mlflow=ml["median"],
            mlflow_note=f"log_metric, {mlflow_calls} calls",
            mlflow_missing=missing,
        ),
        row(
            "run.log(name, float): p99 of 1k-call batches",
            ry["p99"],
            "µs",
            mlflow=ml["p99"],
            mlflow_note="p99 per call",
            mlflow_missing=missing,
        ),
        row(
            "run.log(name, float, step=i): median",
            ry["step_median"],
            "µs",
            mlflow=ml["median"],
            mlflow_missing=missing,
        ),
    ]
    print_table(
        "run.log call cost",
        rows,
        caption=f"runyard: {total:,} calls in batches of {BATCH:,}, mean "
        f"{ry['mean']:.2f} µs/call, stored count verified",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

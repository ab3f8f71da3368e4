"""Cost of one `mlflow.log_metric` call through runyard's in-process plugin (target ≤ 50 µs)
beside MLflow's own local stores (SQLite, and the file store), in one process, one run each.

The plugin: `mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())` of a local SQLite
workspace; calls timed in batches of 1,000 (they only queue), median and p99 over batches;
the stored count is verified after a read. MLflow: each call timed on its own (it writes
synchronously). Rows split the cost: the fluent call, the same with MLFLOW_REGISTRY_URI set
(mlflow then skips its per-call `import pyspark` probe: runyard's runner sets it), the
client call, and the plugin store's own `log_metric` (what runyard adds).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    cli,
    mlflow_missing,
    note,
    percentile,
    print_table,
    quiet_mlflow,
    row,
    temp_folder,
)

TARGET_US = 50.0
BATCH = 1_000


def _batched(call: Callable[[int], None], total: int) -> list[float]:
    """Per-call µs of `call(step)`, one figure per batch of BATCH calls."""
    clock = time.perf_counter_ns
    costs = []
    step = 0
    for _ in range(total // BATCH):
        start = clock()
        for _ in range(BATCH):
            call(step)
            step += 1
        costs.append((clock() - start) / BATCH / 1000)
    return costs


def _single(call: Callable[[int], None], total: int) -> list[float]:
    """Per-call µs of `call(step)`, each call timed on its own."""
    clock = time.perf_counter_ns
    costs = []
    for step in range(total):
        start = clock()
        call(step)
        costs.append((clock() - start) / 1000)
    return costs


def _measure(uri: str, total: int, timer: Callable[..., list[float]]) -> dict[str, list[float]]:
    """The four ways of logging one metric point, on the store `uri` names."""
    import mlflow
    from mlflow.entities import Metric

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench")
    value = random.random()
    out: dict[str, list[float]] = {}
    with mlflow.start_run() as active:
        run_id = active.info.run_id
        client = mlflow.MlflowClient()
        store = client._tracking_client.store
        for i in range(5):  # warm-up: the run known, the store open
            mlflow.log_metric("warm", value, step=i)
        out["fluent"] = timer(lambda s: mlflow.log_metric("fluent", value, step=s), total)
        os.environ["MLFLOW_REGISTRY_URI"] = uri
        try:
            out["fluent_registry"] = timer(
                lambda s: mlflow.log_metric("fluent_reg", value, step=s), total
            )
        finally:
            del os.environ["MLFLOW_REGISTRY_URI"]
        out["client"] = timer(lambda s: client.log_metric(run_id, "client", value, step=s), total)
        out["store"] = timer(
            lambda s: store.log_metric(run_id, Metric("store", value, 1_700_000_000_000, s)),
            total,
        )
        stored = len(client.get_metric_history(run_id, "fluent"))
        if stored != (total // BATCH) * BATCH and stored != total:
            raise RuntimeError(f"{uri}: expected {total} stored points, found {stored}")
    return out


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the workload; returns the result rows (and prints them as a table)."""
    missing = mlflow_missing()
    if missing is not None:
        print(f"bench_mlflow_plugin needs mlflow: {missing}")
        return []
    quiet_mlflow()
    from runyard import Workspace
    from runyard.sdk.workspace import close_all

    plugin_calls, mlflow_calls = (5_000, 30) if quick else (20_000, 300)
    with temp_folder("mlflow-plugin") as folder:
        ws = Workspace(
            "bench",
            store_url=f"sqlite:///{folder / 'runyard.db'}",
            artifacts_url=str(folder / "artifacts"),
        )
        note(f"mlflow_plugin: runyard:// plugin × {plugin_calls:,} per way")
        ry = _measure(ws.get_mlflow_tracking_uri(), plugin_calls, _batched)
        close_all()
        note(f"mlflow_plugin: MLflow's SQLite store × {mlflow_calls} per way")
        sqlite = _measure(f"sqlite:///{folder / 'mlflow.db'}", mlflow_calls, _single)
        note(f"mlflow_plugin: MLflow's file store × {mlflow_calls} per way")
        # mlflow 3 refuses its file store unless asked (it is "in maintenance mode").
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        files = _measure(Path(folder / "mlruns").as_uri(), mlflow_calls, _single)
    labels = {
        "fluent": "mlflow.log_metric(key, v, step=i)",
        "fluent_registry": "mlflow.log_metric, MLFLOW_REGISTRY_URI set",
        "client": "MlflowClient().log_metric(run_id, …)",
        "store": "the tracking store's log_metric alone",
    }
    rows = []
    for key, label in labels.items():
        median = statistics.median(ry[key])
        rows.append(
            row(
                f"{label}: median",
                median,
                "µs",
                target=TARGET_US if key == "fluent" else None,
                mlflow=statistics.median(sqlite[key]),
                mlflow_note=f"SQLite; file store {statistics.median(files[key]):,.0f} µs",
            )
        )
    rows.append(
        row(
            "mlflow.log_metric: p99 of 1k-call batches",
            percentile(ry["fluent"], 99),
            "µs",
            mlflow=percentile(sqlite["fluent"], 99),
            mlflow_note="SQLite, p99 per call",
        )
    )
    print_table(
        "mlflow.log_metric through runyard's in-process plugin",
        rows,
        caption=f"runyard: {plugin_calls:,} calls per row in batches of {BATCH:,} (stored "
        f"count verified); MLflow: {mlflow_calls} calls per row, each timed",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

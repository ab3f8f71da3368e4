"""Cost of one `mlflow.log_metric` call through runyard's in-process plugin (target ≤ 50 µs)
beside MLflow's own local stores (SQLite, and the file store), in one process, one run each.

The plugin: `mlflow.set_tracking_uri(ws.get_mlflow_tracking_uri())` of a local SQLite
workspace; calls timed in batches of 1,000 (they only queue), median and p99 over batches;
the stored count is verified after a read. MLflow: each call timed on its own (it writes
synchronously). The ways take turns, batch by batch, so a shift of a shared machine's load
falls on all of them. Rows split the cost: the fluent call; the same with
MLFLOW_REGISTRY_URI set (runyard's runner sets it; mlflow then skips its per-call probe for
a Spark session, two failed `import pyspark` a call, each a walk of sys.path); the client
call; the plugin store's own `log_metric` (what runyard adds); and from these, mlflow's own
share of the fluent call and the probe's.
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


Way = tuple[Callable[[int], None], dict[str, str]]


def _interleaved(ways: dict[str, Way], total: int, size: int) -> dict[str, list[float]]:
    """Per-call µs of each way's `call(step)`, one figure per batch of `size` calls, the
    ways taking turns batch by batch (a change of the machine's load falls on all of them
    alike). A way's environment variables are set around its batches, outside the clock."""
    clock = time.perf_counter_ns
    costs: dict[str, list[float]] = {name: [] for name in ways}
    for turn in range(total // size):
        for name, (call, env) in ways.items():
            saved = {key: os.environ.get(key) for key in env}
            os.environ.update(env)
            step = turn * size
            start = clock()
            for i in range(step, step + size):
                call(i)
            costs[name].append((clock() - start) / size / 1000)
            for key, value in saved.items():
                if value is None:
                    del os.environ[key]
                else:
                    os.environ[key] = value
    return costs


def _measure(uri: str, total: int, size: int) -> dict[str, list[float]]:
    """The ways of logging one metric point on the store `uri` names, and mlflow's probe
    for a Spark session (what a fluent call without a registry URI spends most on)."""
    import mlflow
    from mlflow.entities import Metric
    from mlflow.utils._spark_utils import _get_active_spark_session

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench")
    value = random.random()
    with mlflow.start_run() as active:
        run_id = active.info.run_id
        client = mlflow.MlflowClient()
        store = client._tracking_client.store
        for i in range(5):  # warm-up: the run known, the store open
            mlflow.log_metric("warm", value, step=i)
        ways: dict[str, Way] = {
            "fluent": (lambda s: mlflow.log_metric("fluent", value, step=s), {}),
            "fluent_registry": (
                lambda s: mlflow.log_metric("fluent_reg", value, step=s),
                {"MLFLOW_REGISTRY_URI": uri},
            ),
            "client": (lambda s: client.log_metric(run_id, "client", value, step=s), {}),
            "store": (
                lambda s: store.log_metric(run_id, Metric("store", value, 1_700_000_000_000, s)),
                {},
            ),
            "probe": (lambda s: _get_active_spark_session(), {}),
        }
        out = _interleaved(ways, total, size)
        stored = len(client.get_metric_history(run_id, "fluent"))
        if stored != (total // size) * size:
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
        ry = _measure(ws.get_mlflow_tracking_uri(), plugin_calls, BATCH)
        close_all()
        note(f"mlflow_plugin: MLflow's SQLite store × {mlflow_calls} per way")
        sqlite = _measure(f"sqlite:///{folder / 'mlflow.db'}", mlflow_calls, 1)
        note(f"mlflow_plugin: MLflow's file store × {mlflow_calls} per way")
        # mlflow 3 refuses its file store unless asked (it is "in maintenance mode").
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        files = _measure(Path(folder / "mlruns").as_uri(), mlflow_calls, 1)
    labels = {
        "fluent": "mlflow.log_metric(key, v, step=i)",
        "fluent_registry": "mlflow.log_metric, MLFLOW_REGISTRY_URI set (runner)",
        "client": "MlflowClient().log_metric(run_id, …)",
        "store": "the tracking store's log_metric alone",
    }
    median = {key: statistics.median(costs) for key, costs in ry.items()}
    rows = []
    for key, label in labels.items():
        rows.append(
            row(
                f"{label}: median",
                median[key],
                "µs",
                target=TARGET_US if key.startswith("fluent") else None,
                mlflow=statistics.median(sqlite[key]),
                mlflow_note=f"SQLite; file store {statistics.median(files[key]):,.0f} µs",
            )
        )
    # Where a fluent call's time goes: what mlflow spends around the store, the part of it
    # that is two failed `import pyspark` (no registry URI set), and runyard's store.
    rows.append(
        row(
            "  of which mlflow's, around the store (registry URI set)",
            median["fluent_registry"] - median["store"],
            "µs",
        )
    )
    rows.append(
        row(
            "  mlflow's Spark-session probe (2 per call, no registry URI)",
            2 * median["probe"],
            "µs",
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
        caption=f"runyard: {plugin_calls:,} calls per row in batches of {BATCH:,}, the rows "
        f"taking turns (stored count verified); MLflow: {mlflow_calls} calls per row, each "
        f"timed, taking turns",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

"""MLflow's metrics/get-history-bulk-interval: one metric of up to 100 runs, sampled to about
`max_results` steps per run the way MLflow samples (the range's ends and each run's first
and last steps always kept), what MLflow's UI charts read."""

from __future__ import annotations

import bisect
from typing import Any

from runyard.core.metrics import MetricKind
from runyard.core.roles import Role
from runyard.mlflow import mapping
from runyard.mlflow.endpoints import Access, integer, route, string
from runyard.mlflow.errors import invalid
from runyard.mlflow.tracking import run_document

#: MLflow's bounds (mlflow/server/handlers.py).
MAX_RUNS_GET_METRIC_HISTORY_BULK = 100
MAX_RESULTS_PER_RUN = 2500


def _evenly_spaced(total: int, most: int) -> list[int]:
    if total <= most:
        return list(range(total))
    if most == 1:
        return [total - 1]
    step = (total - 1) / (most - 1)
    return sorted({round(i * step) for i in range(most)})


def _sampled_steps(
    runs: list[list[int]], start: int | None, end: int | None, most: int
) -> list[int]:
    edges = {s for steps in runs if steps for s in (min(steps), max(steps))}
    every = sorted({s for steps in runs for s in steps})
    if start is None or end is None:
        start, end = 0, (every[-1] if every else 0)
    edges = {s for s in edges if start <= s <= end}
    low, high = bisect.bisect_left(every, start), bisect.bisect_right(every, end)
    if high - low <= most:
        chosen = set(every[low:high])
    else:
        interval = (high - low) / most
        chosen = {
            every[low + int(i * interval)] for i in range(most) if low + int(i * interval) < high
        }
        chosen.add(every[high - 1])
    return sorted(chosen | edges)


@route("GET", "metrics/get-history-bulk-interval", Role.READER)
def get_history_bulk_interval(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    run_ids = body.get("run_ids")
    if isinstance(run_ids, str):
        run_ids = [run_ids]
    if not run_ids:
        raise invalid("Missing value for required parameter 'run_ids'.")
    if not isinstance(run_ids, list) or not all(isinstance(r, str) for r in run_ids):
        raise invalid("Invalid value for parameter 'run_ids': expected a list of run ids")
    if len(run_ids) > MAX_RUNS_GET_METRIC_HISTORY_BULK:
        raise invalid(
            f"GetMetricHistoryBulkInterval request must specify at most "
            f"{MAX_RUNS_GET_METRIC_HISTORY_BULK} run_ids. Received {len(run_ids)} run_ids."
        )
    key = string(body, "metric_key")
    assert key is not None
    most = integer(body, "max_results", MAX_RESULTS_PER_RUN)
    assert most is not None
    if not 1 <= most <= MAX_RESULTS_PER_RUN:
        raise invalid(f"max_results must be between 1 and {MAX_RESULTS_PER_RUN}.")
    start, end = integer(body, "start_step"), integer(body, "end_step")
    if (start is None) != (end is None):
        raise invalid("If either start step or end step are specified, both must be specified.")
    if start is not None and end is not None and start > end:
        raise invalid(
            "end_step must be greater than start_step. "
            f"Found start_step={start} and end_step={end}."
        )
    histories: dict[str, list[tuple[int, float, float]]] = {}
    for run_id in run_ids:
        run_document(access.store, run_id)
        points: list[tuple[int, float, float]] = []
        for series in access.store.get_metric_series(run_id, [key]):
            if series.kind == MetricKind.SCALAR and not series.column:
                points.extend(
                    (s, t, v)
                    for s, v, t in zip(series.steps, series.values, series.times, strict=True)
                    if isinstance(v, (int, float))
                )
        histories[run_id] = sorted(points, key=lambda p: (p[0], p[1]))
    steps = _sampled_steps([[p[0] for p in h] for h in histories.values()], start, end, most)
    wanted = set(steps)
    per_run = max(most, len(steps))
    metrics: list[dict[str, Any]] = []
    for run_id in run_ids:
        kept = [p for p in histories[run_id] if p[0] in wanted]
        metrics.extend(
            {
                "key": key,
                "value": mapping.metric_value_to_json(kept[i][2]),
                "timestamp": mapping.seconds_to_ms(kept[i][1]),
                "step": kept[i][0],
                "run_id": run_id,
            }
            for i in _evenly_spaced(len(kept), per_run)
        )
    return {"metrics": metrics}

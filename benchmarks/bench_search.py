"""Finding runs by tag: `exp.get_runs(tags={"group": "g7"})` over 100,000 runs (≤ 50 ms).

runyard: 100k runs with tags {"group": g0…g999, "quality": …} and two properties are
created through the store's bulk `create_runs` (1,000 per call); the timed call is
`list(exp.get_runs(tags={"group": "g7"}))` (100 matches), median of several repetitions
after one warm-up. Also timed: the first result of broad queries (no filter, and a tag
most runs have), and the same tag query over 5,000 runs, MLflow's size.
MLflow: 5,000 runs made with `MlflowClient.create_run` (~7 ms each, so 100k would take
minutes) with "group" g0…g49, so g7 also has 100 matches; timed is
`search_runs(filter_string="tags.group = 'g7'")`.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

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

TARGET_MS = 50.0
CHUNK = 1_000
T = TypeVar("T")


def tags_of(i: int, groups: int) -> dict[str, str | None]:
    """The tags of the i-th run: `groups` groups of equal size; "fantastic" on one run in 10."""
    return {"group": f"g{i % groups}", "quality": "fantastic run" if i % 10 == 0 else "good"}


def median_ms(call: Callable[[], T], repeats: int) -> tuple[float, T]:
    """Median milliseconds of `call()` after one untimed warm-up; and its last result."""
    result = call()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings), result


def create_runyard_runs(ws: Any, experiment: str, n: int, groups: int) -> None:
    """n completed runs in `experiment`, created CHUNK at a time through the store."""
    from runyard.core.entities import NewRun
    from runyard.core.status import Status

    store = ws.transport.store
    for first in range(0, n, CHUNK):
        store.create_runs(
            [
                NewRun(
                    run_id=str(uuid.uuid4()),
                    experiment_name=experiment,
                    status=Status.COMPLETED,
                    submitted_by="bench",
                    tags=tags_of(i, groups),
                    properties={"author": f"user{i % 20}", "seed": str(i)},
                )
                for i in range(first, min(first + CHUNK, n))
            ]
        )


def time_runyard(n: int, groups: int, repeats: int) -> dict[str, float]:
    """Milliseconds of the tag query and of the first result of broad queries."""
    from runyard import Experiment

    expected = n // groups
    with temp_folder("search") as folder, runyard_workspace(folder) as ws:
        start = time.perf_counter()
        create_runyard_runs(ws, "bench", n, groups)
        note(f"search: {n:,} runyard runs created in {time.perf_counter() - start:.1f} s")
        exp = Experiment(ws, "bench")
        tag_ms, found = median_ms(lambda: list(exp.get_runs(tags={"group": "g7"})), repeats)
        if len(found) != expected:
            raise RuntimeError(f"g7: expected {expected} runs, found {len(found)}")
        first_ms, _ = median_ms(lambda: next(iter(exp.get_runs())), repeats)
        first_tag_ms, _ = median_ms(
            lambda: next(iter(exp.get_runs(tags={"quality": "good"}))), repeats
        )
    return {"tag": tag_ms, "first": first_ms, "first_tag": first_tag_ms}


def time_runyard_small(n: int, groups: int, repeats: int) -> float:
    """Milliseconds of the tag query over n runs (MLflow's size)."""
    from runyard import Experiment

    with temp_folder("search-small") as folder, runyard_workspace(folder) as ws:
        create_runyard_runs(ws, "bench", n, groups)
        exp = Experiment(ws, "bench")
        ms, found = median_ms(lambda: list(exp.get_runs(tags={"group": "g7"})), repeats)
        if len(found) != n // groups:
            raise RuntimeError(f"g7: expected {n // groups} runs, found {len(found)}")
    return ms


def time_mlflow(n: int, groups: int, repeats: int) -> dict[str, float]:
    """Milliseconds of MLflow's tag search and first page of an unfiltered search."""
    with temp_folder("search-mlflow") as folder:
        client, experiment_id = mlflow_client(folder)
        start = time.perf_counter()
        for i in range(n):
            client.create_run(experiment_id, tags=tags_of(i, groups))
        note(f"search: {n:,} MLflow runs created in {time.perf_counter() - start:.1f} s")
        ids = [experiment_id]
        tag_ms, found = median_ms(
            lambda: client.search_runs(ids, filter_string="tags.group = 'g7'", max_results=1000),
            repeats,
        )
        if len(found) != n // groups:
            raise RuntimeError(f"MLflow g7: expected {n // groups}, found {len(found)}")
        first_ms, _ = median_ms(lambda: client.search_runs(ids, max_results=100), repeats)
    return {"tag": tag_ms, "first": first_ms}


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the workload; returns the result rows (and prints them as a table)."""
    n, ml_runs, repeats = (10_000, 500, 5) if quick else (100_000, 5_000, 9)
    groups, ml_groups = 1_000, 50
    note(f"search: runyard setup, {n:,} runs")
    ry = time_runyard(n, groups, repeats)
    note(f"search: runyard setup, {ml_runs:,} runs")
    ry_small = time_runyard_small(ml_runs, ml_groups, repeats)
    missing = mlflow_missing()
    ml: dict[str, float | None] = {"tag": None, "first": None}
    if missing is None:
        note(f"search: MLflow setup, {ml_runs:,} runs")
        ml = dict(time_mlflow(ml_runs, ml_groups, repeats))
    ml_note = f"{ml_runs:,} runs"
    rows = [
        row(
            f"get_runs(tags=group) over {n:,} runs ({n // groups} hits)",
            ry["tag"],
            "ms",
            target=TARGET_MS,
            mlflow=ml["tag"],
            mlflow_note=ml_note,
            mlflow_missing=missing,
        ),
        row(
            f"get_runs(tags=group) over {ml_runs:,} runs ({ml_runs // ml_groups} hits)",
            ry_small,
            "ms",
            mlflow=ml["tag"],
            mlflow_note=ml_note,
            mlflow_missing=missing,
        ),
        row(
            f"first result, no filter, {n:,} runs",
            ry["first"],
            "ms",
            mlflow=ml["first"],
            mlflow_note=f"first 100 of {ml_runs:,} runs",
            mlflow_missing=missing,
        ),
        row(f"first result, tags=quality (90% hit), {n:,} runs", ry["first_tag"], "ms"),
    ]
    print_table(
        "Searching runs by tag",
        rows,
        caption=f"median of {repeats} after a warm-up; match counts verified; "
        f"MLflow figures are over {ml_runs:,} runs",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

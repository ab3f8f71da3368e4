"""Ingest spread over many metric names: stored exactly, at a per-point (not per-metric) cost."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from runyard.core.entities import NewRun
from runyard.core.metrics import MetricKind, PointBatch
from runyard.store.sql import SqlTrackingStore


@pytest.fixture
def store(store_url: str) -> Iterator[SqlTrackingStore]:
    """A fresh store with one run, "r"."""
    found = SqlTrackingStore(store_url)
    found.create_runs([NewRun(run_id="r", experiment_name="many")])
    yield found
    found.close()


def _scalar(name: str, values: list[float], steps: list[int | None] | None = None) -> PointBatch:
    steps = steps if steps is not None else [None] * len(values)
    return PointBatch(name, MetricKind.SCALAR, "", "", steps, values, [1.0] * len(values))


def test_hundred_thousand_metric_names_in_one_batch_are_all_stored(
    store: SqlTrackingStore,
) -> None:
    n = 100_000
    store.log_points("r", [_scalar(f"layer{i}/grad", [i * 0.5]) for i in range(n)])
    infos = store.list_metrics("r")
    assert len(infos) == n
    assert [i.name for i in infos[:3]] == ["layer0/grad", "layer1/grad", "layer2/grad"]
    assert all(i.count == 1 and i.last_step == 0 for i in infos)
    assert [i.last_value for i in infos[::9_999]] == [i * 0.5 for i in range(0, n, 9_999)]
    # A second wide call appends to existing metrics: step 1, sequence 1.
    store.log_points("r", [_scalar(f"layer{i}/grad", [-1.0]) for i in range(0, n, 20)])
    infos = store.list_metrics("r")
    assert len(infos) == n and sum(i.count for i in infos) == n + n // 20
    assert all(i.count == 2 and i.last_step == 1 for i in infos[::20])
    assert infos[20].min_value == -1.0 and infos[20].max_value == 10.0
    series = store.get_metric_series("r", ["layer12340/grad", "layer12341/grad"])
    assert [(s.steps, s.values) for s in series] == [([0, 1], [6170.0, -1.0]), ([0], [6170.5])]


def test_a_call_mixing_new_old_repeated_and_typed_metrics_stores_each_exactly(
    store: SqlTrackingStore,
) -> None:
    store.log_points("r", [_scalar("old", [1.0] * 150)])
    store.log_points(
        "r",
        [
            _scalar("old", [2.0, math.nan]),
            _scalar("fresh", [5.0, 6.0], [10, 20]),
            PointBatch("labels", MetricKind.LIST, "", "", [None, None], [1, "b"], [1.0, 1.0]),
            _scalar("old", [0.5]),  # the same metric twice in one call keeps its order
            _scalar("fresh", [7.0]),
            PointBatch("empty", MetricKind.SCALAR, "", "words", [], [], []),
        ],
    )
    infos = {i.name: i for i in store.list_metrics("r")}
    assert set(infos) == {"old", "fresh", "labels", "empty"}
    assert infos["old"].count == 153 and infos["old"].last_value == 0.5
    assert infos["old"].min_value == 0.5 and infos["old"].max_value == 2.0
    assert infos["fresh"].count == 3 and infos["fresh"].last_step == 21
    assert infos["empty"].count == 0 and infos["empty"].description == "words"
    series = {s.name: s for s in store.get_metric_series("r")}
    assert series["old"].steps[148:] == [148, 149, 150, 151, 152]
    assert series["old"].values[149:151] == [1.0, 2.0] and math.isnan(series["old"].values[151])
    assert series["fresh"].values == [5.0, 6.0, 7.0]
    assert series["labels"].values == [1, "b"]
    # Rollup blocks spanning both calls merge: block 1 holds points 100-152.
    history = store.get_metric_history("r", "old", max_points=1)
    assert history.downsampled and history.counts == [152]  # NaN is not counted
    assert history.min == [0.5] and history.max == [2.0]


def test_metric_kind_conflict_in_a_wide_call_stores_nothing(store: SqlTrackingStore) -> None:
    store.log_points("r", [_scalar("loss", [1.0])])
    wide = [_scalar(f"m{i}", [1.0]) for i in range(2_000)]
    wide.append(PointBatch("loss", MetricKind.LIST, "", "", [None], [[1]], [1.0]))
    with pytest.raises(Exception, match="was logged as scalar"):
        store.log_points("r", wide)
    assert [i.name for i in store.list_metrics("r")] == ["loss"]


def _rollup_rows(store: SqlTrackingStore) -> list[tuple[object, ...]]:
    with store.db.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT m.name, r.block, r.count, r.min_value, r.max_value, r.sum_value, "
            "r.first_step, r.last_step FROM metric_rollups r JOIN metrics m ON m.id = r.metric_id "
            "ORDER BY m.name, r.block"
        )]  # fmt: skip


def test_first_rollup_block_is_written_when_a_metric_reaches_a_block_of_points(
    store: SqlTrackingStore,
) -> None:
    # One point per call (the wide-call path) up to 99 points: no rollup row at all.
    for i in range(99):
        store.log_points("r", [_scalar("a", [float(i)]), _scalar(f"wide{i}", [1.0])])
    assert _rollup_rows(store) == []
    # The 100th point completes block 0, from the stored points; later calls merge as before.
    store.log_points("r", [_scalar("a", [math.nan])])
    store.log_points("r", [_scalar("a", [500.0, -3.0])])
    assert _rollup_rows(store) == [
        ("a", 0, 99, 0.0, 98.0, float(sum(range(99))), 0, 99),
        ("a", 1, 2, -3.0, 500.0, 497.0, 100, 101),
    ]
    history = store.get_metric_history("r", "a", max_points=1)
    assert history.downsampled and history.counts == [101]
    assert history.min == [-3.0] and history.max == [500.0]
    # A batch that crosses the boundary in one call, on top of earlier one-point calls.
    store.log_points("r", [_scalar("b", [1.0])])
    store.log_points("r", [_scalar("b", [2.0] * 150)])
    assert [r for r in _rollup_rows(store) if r[0] == "b"] == [
        ("b", 0, 100, 1.0, 2.0, 199.0, 0, 99),
        ("b", 1, 51, 2.0, 2.0, 102.0, 100, 150),
    ]


def test_a_stale_first_block_row_is_replaced_not_merged(store: SqlTrackingStore) -> None:
    # Versions before deferred first blocks wrote block 0 from the first point on.
    store.log_points("r", [_scalar("a", [1.0] * 50)])
    with store.db.write() as conn:
        conn.exec_driver_sql(
            "INSERT INTO metric_rollups (metric_id, block, count, min_value, max_value, "
            "sum_value, first_step, last_step, last_value) "
            "SELECT id, 0, 50, 1.0, 1.0, 50.0, 0, 49, 1.0 FROM metrics WHERE name = 'a'"
        )
    store.log_points("r", [_scalar("a", [3.0] * 50)])
    assert _rollup_rows(store) == [("a", 0, 100, 1.0, 3.0, 200.0, 0, 99)]


def _sqlite_steps(store: SqlTrackingStore, run_id: str, batches: list[PointBatch]) -> int:
    """Work SQLite does to ingest `batches`, counted by itself: virtual-machine steps, in
    thousands (deterministic, unlike time)."""
    from runyard.store.ingest import write_points

    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    with store.db.write() as conn:
        pk = store._run_pk(conn, run_id)
        driver = conn.connection.driver_connection
        driver.set_progress_handler(count, 1000)  # type: ignore[union-attr]
        try:
            write_points(conn, pk, batches, 10**9)
        finally:
            driver.set_progress_handler(None, 0)  # type: ignore[union-attr]
    return steps[0]


def test_a_call_reads_only_its_own_metrics_whatever_the_run_holds(
    store: SqlTrackingStore, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL's planner picks index probes or a scan by its statistics")
    names = [f"m{i}" for i in range(0, 30_000, 20)]  # 1,500 names in one call
    store.create_runs([NewRun(run_id="wide", experiment_name="many")])
    store.log_points("wide", [_scalar(f"m{i}", [1.0]) for i in range(30_000)])
    store.log_points("r", [_scalar(name, [1.0]) for name in names])
    in_small_run = _sqlite_steps(store, "r", [_scalar(name, [2.0]) for name in names])
    in_wide_run = _sqlite_steps(store, "wide", [_scalar(name, [2.0]) for name in names])
    # Reading all 30,000 metric rows of the wide run costs 2.5 times as much.
    assert 0 < in_wide_run <= 1.5 * in_small_run
    assert [i.count for i in store.list_metrics("wide")[::20]] == [2] * 1_500


def test_ten_thousand_new_metrics_cost_a_bounded_multiple_of_as_many_points(
    store: SqlTrackingStore, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("counted in SQLite virtual-machine steps")
    store.create_runs([NewRun(run_id="wide", experiment_name="many")])
    one_metric = _sqlite_steps(store, "r", [_scalar("loss", [0.5] * 10_000)])
    wide = _sqlite_steps(store, "wide", [_scalar(f"m{i}", [0.5]) for i in range(10_000)])
    # A new metric row (its unique key and three sort indexes) costs a few points' worth;
    # before first blocks were deferred and lookups bounded, 4.3 times the one metric.
    assert wide <= 3.5 * one_metric
    assert len(store.list_metrics("wide")) == 10_000


def _wide_new_metrics() -> list[PointBatch]:
    return [
        _scalar("plain", [1.5]),
        _scalar("stepped", [2.5], [7]),
        _scalar("nan", [math.nan]),
        PointBatch("described", MetricKind.SCALAR, "", "words", [None], [4.0], [2.0]),
        _scalar("negative zero", [-0.0]),
        PointBatch("whole", MetricKind.SCALAR, "", "", [None], [3], [1.0]),
        PointBatch("listed", MetricKind.LIST, "", "", [None], [0.25], [1.0]),
        PointBatch("cells", MetricKind.TABLE, "col", "", [None], [9.0], [1.0]),
    ]


def test_new_one_point_metrics_of_a_wide_call_are_stored_as_a_repeated_name_call_stores_them(
    store: SqlTrackingStore,
) -> None:
    # Names logged once each take the direct row path; a repeated name sends the whole
    # call through the general one. Both must store the same rows and points.
    store.create_runs([NewRun(run_id="general", experiment_name="many")])
    store.log_points("r", _wide_new_metrics())
    store.log_points(
        "general", [*_wide_new_metrics(), _scalar("dup", [1.0]), _scalar("dup", [2.0])]
    )

    def stored(run_id: str) -> list[tuple[object, ...]]:
        infos = [i for i in store.list_metrics(run_id) if i.name != "dup"]
        series = {(s.name, s.column): s for s in store.get_metric_series(run_id)}
        return [
            (i.name, i.column, i.kind, i.description, i.count, repr(i.last_value), i.last_step,
             i.min_value, i.max_value, series[(i.name, i.column)].steps,
             repr(series[(i.name, i.column)].values))
            for i in infos
        ]  # fmt: skip

    fast = stored("r")
    assert fast == stored("general")
    assert [row[0] for row in fast] == [
        "plain", "stepped", "nan", "described", "negative zero", "whole", "listed", "cells"
    ]  # fmt: skip
    assert fast[1][6] == 7 and fast[2][7] is None and fast[3][3] == "words"
    # The next point of each goes on from the stored row: step and sequence 1 (stepped: 8).
    store.log_points("r", [_scalar("plain", [0.5]), _scalar("stepped", [9.0])])
    series = {s.name: s for s in store.get_metric_series("r", ["plain", "stepped"])}
    assert series["plain"].steps == [0, 1] and series["stepped"].steps == [7, 8]
    assert {i.name: i.min_value for i in store.list_metrics("r")}["plain"] == 0.5


def test_a_wide_call_of_new_metrics_inserts_their_rows_once_and_updates_none(
    store: SqlTrackingStore, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("statements traced through SQLite's trace callback")
    from runyard.store.ingest import write_points

    statements: list[str] = []
    with store.db.write() as conn:
        pk = store._run_pk(conn, "r")
        driver = conn.connection.driver_connection
        driver.set_trace_callback(statements.append)  # type: ignore[union-attr]
        try:
            write_points(conn, pk, [_scalar(f"m{i}", [0.5]) for i in range(1_000)], 10**9)
        finally:
            driver.set_trace_callback(None)  # type: ignore[union-attr]
    inserts = [s for s in statements if s.startswith("INSERT INTO metrics ")]
    assert len(inserts) == 1_000  # one executemany: a traced statement per row
    assert not [s for s in statements if s.startswith("UPDATE")]
    assert len([s for s in statements if s.startswith("INSERT INTO metric_points")]) == 1_000
    infos = store.list_metrics("r")
    assert len(infos) == 1_000 and all(i.last_value == 0.5 and i.min_value == 0.5 for i in infos)

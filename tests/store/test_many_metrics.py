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

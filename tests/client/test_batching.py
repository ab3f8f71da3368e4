"""Queue items become per-run work: points grouped by metric in order, calls in place."""

from __future__ import annotations

from runyard.client.batching import BatchItem, Call, CallItem, Points, QueueItem, group_work
from runyard.core.metrics import MetricKind, PointBatch


def _scalar(run_id: str, name: str, value: float, step: int | None = None) -> QueueItem:
    return (run_id, name, value, step, float(value), "")


def test_a_burst_of_one_metric_becomes_one_batch_in_order() -> None:
    items = [_scalar("r", "x", float(i)) for i in range(10_000)]
    (work,) = group_work(items)
    assert isinstance(work, Points) and work.run_id == "r"
    (batch,) = work.batches
    assert (batch.name, batch.kind, batch.column) == ("x", MetricKind.SCALAR, "")
    assert batch.values == [float(i) for i in range(10_000)]
    assert batch.steps == [None] * 10_000
    assert batch.times == batch.values


def test_interleaved_metrics_of_two_runs_keep_each_metrics_order() -> None:
    items = []
    for i in range(100):
        items.append(_scalar("a", "loss", float(i), step=i))
        items.append(_scalar("b", "loss", -float(i)))
        items.append(_scalar("a", "acc", float(i) / 100))
    work = group_work(items)
    by_run = {w.run_id: {b.name: b for b in w.batches} for w in work if isinstance(w, Points)}
    assert by_run["a"]["loss"].values == [float(i) for i in range(100)]
    assert by_run["a"]["loss"].steps == list(range(100))
    assert by_run["a"]["acc"].values == [i / 100 for i in range(100)]
    assert by_run["b"]["loss"].values == [-float(i) for i in range(100)]


def test_a_call_keeps_its_place_between_the_points() -> None:
    call = CallItem("k", "set_tags", {"run_id": "r", "tags": {"a": "1"}})
    items: list[QueueItem] = [_scalar("r", "x", 1.0), call, _scalar("r", "x", 2.0)]
    before, made, after = group_work(items)
    assert isinstance(before, Points) and before.batches[0].values == [1.0]
    assert made == Call("k", "set_tags", {"run_id": "r", "tags": {"a": "1"}})
    assert isinstance(after, Points) and after.batches[0].values == [2.0]


def test_batches_merge_with_the_points_of_their_metric_and_keep_a_description() -> None:
    first = PointBatch("curve", MetricKind.TABLE, "acc", "", [None], [0.5], [1.0])
    second = PointBatch("curve", MetricKind.TABLE, "acc", "accuracy", [None], [0.75], [2.0])
    items: list[QueueItem] = [
        BatchItem("r", first),
        ("r", "x", 1.0, None, 1.0, ""),
        BatchItem("r", second),
        ("r", "x", 2.0, None, 2.0, "the x"),
    ]
    (work,) = group_work(items)
    assert isinstance(work, Points)
    batches = {(b.name, b.column): b for b in work.batches}
    assert batches[("curve", "acc")].values == [0.5, 0.75]
    assert batches[("curve", "acc")].description == "accuracy"
    assert batches[("x", "")].values == [1.0, 2.0]
    assert batches[("x", "")].description == "the x"
    assert first.values == [0.5], "the queued batch itself is not changed"


def test_many_names_with_a_few_points_each_group_by_name_in_order() -> None:
    items: list[QueueItem] = []
    for step in range(3):
        items.extend(_scalar("r", f"layer{i}", float(step * 1000 + i)) for i in range(1_000))
    items.append(("r", "layer7", 9.0, 12, 9.0, "the seventh"))
    (work,) = group_work(items)
    assert isinstance(work, Points) and len(work.batches) == 1_000
    by_name = {b.name: b for b in work.batches}
    assert by_name["layer5"].values == [5.0, 1005.0, 2005.0]
    assert by_name["layer7"].steps == [None, None, None, 12]
    assert by_name["layer7"].description == "the seventh"
    assert [b.name for b in work.batches[:2]] == ["layer0", "layer1"]


def test_names_logged_once_each_become_one_point_batches_in_order() -> None:
    items: list[QueueItem] = [
        _scalar("r", f"layer{i}", float(i), i % 3 or None) for i in range(500)
    ]
    items[7] = ("r", "layer7", 7.0, None, 7.5, "the seventh")
    (work,) = group_work(items)
    assert isinstance(work, Points) and work.run_id == "r"
    assert [b.name for b in work.batches] == [f"layer{i}" for i in range(500)]
    assert all(b.kind is MetricKind.SCALAR and b.column == "" for b in work.batches)
    assert [(b.steps, b.values) for b in work.batches[:3]] == [
        ([None], [0.0]), ([1], [1.0]), ([2], [2.0])
    ]  # fmt: skip
    seventh = work.batches[7]
    assert (seventh.description, seventh.times) == ("the seventh", [7.5])
    # Batches are separate objects with lists of their own.
    work.batches[0].values.append(1.0)
    assert work.batches[1].values == [1.0]


def test_names_once_each_after_a_batch_of_one_of_them_merge_with_it() -> None:
    queued = PointBatch("layer1", MetricKind.SCALAR, "", "", [None], [0.5], [1.0])
    items: list[QueueItem] = [BatchItem("r", queued)]
    items.extend(_scalar("r", f"layer{i}", float(i)) for i in range(10))
    (work,) = group_work(items)
    assert isinstance(work, Points)
    by_name = {b.name: b for b in work.batches}
    assert len(work.batches) == 10 and by_name["layer1"].values == [0.5, 1.0]

"""The pipeline's queue items, and how a drained run of them becomes per-run work.

Three kinds of item wait in the queue, told apart by their type:

- a scalar point is a plain tuple `(run_id, name, value, step, time, description)`
  (`ScalarPoint`): `run.log` is the hot path, and a tuple is the cheapest thing to build;
- `BatchItem`, the points of a non-scalar call (a list, a row, an image…);
- `CallItem`, a store call that must keep its place among the points (see operations.py).

Grouping turns a drained list of items into `Points` (one run's batches, one per metric)
and `Call`s, keeping every call where it was relative to the points around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any

from runyard.core.metrics import MetricKind, PointBatch

#: A queued scalar point: (run_id, name, value, step, time, description).
ScalarPoint = tuple[str, str, Any, int | None, float, str]

_SCALAR = MetricKind.SCALAR


@dataclass(slots=True)
class BatchItem:
    """Points of one metric of a run (any kind), queued by one logging call."""

    run_id: str
    batch: PointBatch


@dataclass(slots=True)
class CallItem:
    """A store call queued in order with the points (`op` names an entry of operations.py)."""

    key: str
    op: str
    args: dict[str, Any]


QueueItem = ScalarPoint | BatchItem | CallItem


@dataclass(slots=True)
class Points:
    """One run's points, grouped by metric: a unit of the spool and of delivery."""

    run_id: str
    batches: list[PointBatch]
    key: str | None = None
    #: The batches encoded once for the spool, sent as they are when the store can.
    frame: bytes | None = None
    #: Whether the per-metric point limit was applied already (once, whatever the retries).
    limited: bool = False

    @property
    def count(self) -> int:
        """How many points it holds."""
        return sum(len(b.values) for b in self.batches)


@dataclass(slots=True)
class Call:
    """A store call as a unit of the spool and of delivery."""

    key: str
    op: str
    args: dict[str, Any] = field(default_factory=dict)


Work = Points | Call


def item_points(item: QueueItem) -> int:
    """How many points a queue item holds (a call holds none)."""
    if type(item) is tuple:
        return 1
    if isinstance(item, BatchItem):
        return len(item.batch.values)
    return 0


def group_work(items: list[QueueItem]) -> list[Work]:
    """Points grouped by run and metric; a store call keeps its place in the order."""
    work: list[Work] = []
    runs: dict[str, dict[tuple[str, str], PointBatch]] = {}
    start = 0
    if set(map(type, items)) <= {tuple}:  # the common case: nothing but scalars
        _group_scalars(items, runs)  # type: ignore[arg-type]
        start = len(items)
    scalars: list[ScalarPoint] = []
    for item in items[start:]:
        if type(item) is tuple:
            scalars.append(item)
            continue
        _group_scalars(scalars, runs)
        scalars = []
        if isinstance(item, BatchItem):
            _merge(runs.setdefault(item.run_id, {}), item.batch)
        else:
            assert isinstance(item, CallItem)
            _close(runs, work)
            work.append(Call(item.key, item.op, item.args))
    _group_scalars(scalars, runs)
    _close(runs, work)
    return work


def _close(runs: dict[str, dict[tuple[str, str], PointBatch]], work: list[Work]) -> None:
    for run_id, group in runs.items():
        work.append(Points(run_id, list(group.values())))
    runs.clear()


def _merge(group: dict[tuple[str, str], PointBatch], incoming: PointBatch) -> None:
    found = group.get((incoming.name, incoming.column))
    if found is None:
        group[(incoming.name, incoming.column)] = PointBatch(
            incoming.name,
            incoming.kind,
            incoming.column,
            incoming.description,
            list(incoming.steps),
            list(incoming.values),
            list(incoming.times),
        )
        return
    found.steps.extend(incoming.steps)
    found.values.extend(incoming.values)
    found.times.extend(incoming.times)
    found.description = found.description or incoming.description


_RUN_ID, _NAME, _VALUE, _STEP, _TIME, _DESCRIPTION = map(itemgetter, range(6))


def _group_scalars(
    scalars: list[ScalarPoint], runs: dict[str, dict[tuple[str, str], PointBatch]]
) -> None:
    """Add scalar points to their runs' batches, column-wise.

    Each column is taken with a C-level `map(itemgetter)`: a slice of one metric of one
    run (a burst) costs no Python work per point, which keeps the journaler far ahead of
    any logging loop. Points of several metrics are sorted out by position.
    """
    if not scalars:
        return
    run_ids = set(map(_RUN_ID, scalars))
    names = set(map(_NAME, scalars))
    if len(run_ids) == 1 and len(names) == 1:
        _extend(runs, run_ids.pop(), names.pop(), scalars)
        return
    if len(run_ids) == 1 and len(names) * 4 > len(scalars):
        _group_wide(scalars, runs.setdefault(run_ids.pop(), {}), len(names) == len(scalars))
        return
    positions: dict[tuple[str, str], list[ScalarPoint]] = {}
    for point in scalars:
        key = (point[0], point[1])
        found = positions.get(key)
        if found is None:
            positions[key] = [point]
        else:
            found.append(point)
    for (run_id, name), points in positions.items():
        _extend(runs, run_id, name, points)


def _group_wide(
    scalars: list[ScalarPoint], group: dict[tuple[str, str], PointBatch], distinct: bool
) -> None:
    """One run's points spread over many names (a few points each, per-layer gradients):
    one pass over the points beats gathering each name's columns.

    Names each logged once in the slice and new to the group (100,000 metrics × 1 point)
    become their batches in C-level maps: half the time of the loop.
    """
    if distinct:
        names = list(map(_NAME, scalars))
        keys = list(zip(names, repeat(""), strict=False))
        if group.keys().isdisjoint(keys):
            group.update(
                zip(
                    keys,
                    map(
                        PointBatch,
                        names,
                        repeat(_SCALAR),
                        repeat(""),
                        map(_DESCRIPTION, scalars),
                        map(list, zip(map(_STEP, scalars))),
                        map(list, zip(map(_VALUE, scalars))),
                        map(list, zip(map(_TIME, scalars))),
                    ),
                    strict=True,
                )
            )
            return
    get = group.get
    for _, name, value, step, t, description in scalars:
        key = (name, "")
        batch = get(key)
        if batch is None:
            group[key] = PointBatch(name, _SCALAR, "", description, [step], [value], [t])
        else:
            batch.steps.append(step)
            batch.values.append(value)
            batch.times.append(t)
            if description and not batch.description:
                batch.description = description


def _extend(
    runs: dict[str, dict[tuple[str, str], PointBatch]],
    run_id: str,
    name: str,
    points: list[ScalarPoint],
) -> None:
    """Append points of one metric of one run to its batch, column by column."""
    group = runs.get(run_id)
    if group is None:
        group = runs[run_id] = {}
    batch = group.get((name, ""))
    description = next(filter(None, map(_DESCRIPTION, points)), "")
    if batch is None:
        group[(name, "")] = PointBatch(
            name,
            _SCALAR,
            "",
            description,
            list(map(_STEP, points)),
            list(map(_VALUE, points)),
            list(map(_TIME, points)),
        )
        return
    batch.steps.extend(map(_STEP, points))
    batch.values.extend(map(_VALUE, points))
    batch.times.extend(map(_TIME, points))
    if description and not batch.description:
        batch.description = description


def describe(entry: object) -> str:
    """A short name of a unit of work, for log messages."""
    run_id = getattr(entry, "run_id", None)
    if run_id is not None:
        return f"batch of points of run {run_id}"
    op = getattr(entry, "op", None)
    return f"{op} call" if op is not None else "spooled item"

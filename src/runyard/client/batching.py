"""What the flusher works on: queued items grouped into per-run batches and store calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runyard.client.spool import SpooledBatch, SpooledOp
from runyard.core.metrics import MetricKind, PointBatch

#: A queued scalar: (run_id, name, value, step, time, description).
ScalarItem = tuple[str, str, Any, int | None, float, str]
#: A queued batch of any kind: (run_id, batch).
BatchItem = tuple[str, PointBatch]
#: A queued store call: (key, method name, JSON arguments).
OpItem = tuple[str, str, dict[str, Any]]

_SCALAR = MetricKind.SCALAR


@dataclass(slots=True)
class Points:
    run_id: str
    batches: list[PointBatch]
    key: str | None = None
    #: The batches encoded once for the spool, sent as they are when the store can.
    frame: bytes | None = None


@dataclass(slots=True)
class Call:
    key: str
    op: str
    args: dict[str, Any] = field(default_factory=dict)


def group_work(items: list[ScalarItem | BatchItem | OpItem]) -> list[Points | Call]:
    """Points grouped by run and metric; a store call keeps its place in the order."""
    work: list[Points | Call] = []
    runs: dict[str, dict[tuple[str, str], PointBatch]] = {}

    def close_group() -> None:
        for run_id, group in runs.items():
            work.append(Points(run_id, list(group.values())))
        runs.clear()

    for item in items:
        if len(item) == 6:
            run_id, name, value, step, t, description = item
            group = runs.get(run_id)
            if group is None:
                group = runs[run_id] = {}
            batch = group.get((name, ""))
            if batch is None:
                batch = group[(name, "")] = PointBatch(name, _SCALAR, "", description)
            elif description and not batch.description:
                batch.description = description
            batch.steps.append(step)
            batch.values.append(value)
            batch.times.append(t)
        elif len(item) == 2:
            run_id, incoming = item
            group = runs.setdefault(run_id, {})
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
            else:
                found.steps.extend(incoming.steps)
                found.values.extend(incoming.values)
                found.times.extend(incoming.times)
                found.description = found.description or incoming.description
        else:
            close_group()
            key, op, args = item
            work.append(Call(key, op, args))
    close_group()
    return work


def describe(entry: object) -> str:
    if isinstance(entry, (Points, SpooledBatch)):
        return f"batch of points of run {entry.run_id}"
    if isinstance(entry, (Call, SpooledOp)):
        return f"{entry.op} call"
    return "spooled item"

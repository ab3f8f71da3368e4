"""Metric points: the fast read paths of the SQL store (the write path is store/ingest.py).

Reads go through the DBAPI cursor, skipping per-row objects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from runyard.core.metrics import (
    MetricInfo,
    MetricKind,
    MetricSeries,
    decode_value,
)
from runyard.store.ingest import FLOAT_ONLY, INT_ONLY
from runyard.store.schema import metric_points, metrics


def _metric_info(row: Any) -> MetricInfo:
    last = None
    if row.last_vtype is not None:
        last = decode_value(row.last_number, row.last_text, row.last_vtype)
    return MetricInfo(
        name=row.name,
        column=row.column,
        kind=MetricKind(row.kind),
        description=row.description,
        count=row.count,
        last_value=last,
        last_step=row.last_step,
        min_value=row.min_value,
        max_value=row.max_value,
    )


def list_metric_infos(conn: Connection, run_pk: int) -> list[MetricInfo]:
    """The run's metrics in creation order."""
    rows = conn.execute(select(metrics).where(metrics.c.run_id == run_pk).order_by(metrics.c.id))
    return [_metric_info(r) for r in rows]


def _fetch(conn: Connection, sql: str, metric_id: int) -> list[tuple[Any, ...]]:
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, (metric_id,))
        return cursor.fetchall()  # type: ignore[no-any-return]
    finally:
        cursor.close()


def read_series(
    conn: Connection, run_pk: int, names: Sequence[str] | None, *, values_only: bool = False
) -> list[MetricSeries]:
    """Every point of the run's metrics (or of those named), decoded to Python values.

    With `values_only`, steps and times are left empty: what `get_metrics` needs, faster.
    """
    query = select(metrics).where(metrics.c.run_id == run_pk).order_by(metrics.c.id)
    if names is not None:
        query = query.where(metrics.c.name.in_(list(names)))
    order = " FROM metric_points WHERE metric_id = ? ORDER BY step, seq"
    result = []
    for m in conn.execute(query).all():
        steps: list[int] = []
        values: list[Any]
        times: list[float] = []
        if m.value_types in (FLOAT_ONLY, INT_ONLY):
            if values_only:
                values = [r[0] for r in _fetch(conn, "SELECT value" + order, m.id)]
            else:
                rows = _fetch(conn, "SELECT step, value, time" + order, m.id)
                steps = [r[0] for r in rows]
                values = [r[1] for r in rows]
                times = [r[2] for r in rows]
            if m.value_types == INT_ONLY:
                values = [int(v) for v in values]
            elif None in values:
                values = [math.nan if v is None else v for v in values]
        else:
            rows = _fetch(conn, "SELECT step, value, text, vtype, time" + order, m.id)
            values = [decode_value(r[1], r[2], r[3]) for r in rows]
            if not values_only:
                steps = [r[0] for r in rows]
                times = [r[4] for r in rows]
        result.append(
            MetricSeries(
                name=m.name,
                column=m.column,
                kind=MetricKind(m.kind),
                description=m.description,
                steps=steps,
                values=values,
                times=times,
            )
        )
    return result


def read_since(
    conn: Connection,
    run_pk: int,
    cursors: dict[tuple[str, str], tuple[int, int]],
    limit: int,
    counts: dict[tuple[str, str], int] | None = None,
) -> list[MetricSeries]:
    """Points after each metric's (step, seq) cursor, by the (metric, step) index.

    With `counts` (the point count of each metric when last read, updated here), only
    metrics that grew are read: one statement for a run of many quiet metrics.
    """
    result = []
    for m in conn.execute(select(metrics).where(metrics.c.run_id == run_pk).order_by(metrics.c.id)):
        key = (m.name, m.column)
        if counts is not None:
            count = int(m._mapping["count"])
            if counts.get(key, 0) >= count:
                continue
            counts[key] = count
        last_step, last_seq = cursors.get(key, (-1, -1))
        rows = conn.execute(
            select(
                metric_points.c.step,
                metric_points.c.seq,
                metric_points.c.value,
                metric_points.c.text,
                metric_points.c.vtype,
                metric_points.c.time,
            )
            .where(metric_points.c.metric_id == m.id, metric_points.c.step >= last_step)
            .order_by(metric_points.c.step, metric_points.c.seq)
            .limit(limit + 1)
        ).all()
        fresh = [r for r in rows if r[0] > last_step or r[1] > last_seq][:limit]
        if counts is not None and len(rows) > limit:
            counts[key] = 0  # more to read: look again next time
        if fresh:
            result.append(
                MetricSeries(
                    name=m.name,
                    column=m.column,
                    kind=MetricKind(m.kind),
                    description=m.description,
                    steps=[r[0] for r in fresh],
                    values=[decode_value(r[2], r[3], r[4]) for r in fresh],
                    times=[r[5] for r in fresh],
                    seqs=[r[1] for r in fresh],
                )
            )
    return result

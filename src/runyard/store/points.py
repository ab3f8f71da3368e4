"""Metric points: the bulk write path and the fast read path of the SQL store.

Writes never issue one statement per point: a batch is one executemany on SQLite and
one COPY on PostgreSQL. Reads go through the DBAPI cursor, skipping per-row objects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.metrics import (
    NUMERIC_VTYPES,
    MetricInfo,
    MetricKind,
    MetricSeries,
    PointBatch,
    ValueType,
    decode_value,
    encode_value,
)
from runyard.store.rollups import rollup_rows, write_rollups
from runyard.store.schema import metric_points, metrics

# Masks of the value types a batch holds (bit n: ValueType n).
_FLOAT_ONLY = 1 << ValueType.FLOAT
_INT_ONLY = 1 << ValueType.INT
_INSERT_SQL = (
    "INSERT INTO metric_points (metric_id, step, seq, value, text, vtype, time) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_FLOATS_SQL = (
    "INSERT INTO metric_points (metric_id, step, seq, value, text, vtype, time) "
    "VALUES ({metric_id}, ?, ?, ?, NULL, 0, ?)"
)
_COPY_SQL = "COPY metric_points (metric_id, step, seq, value, text, vtype, time) FROM STDIN"


def _lock_metric(conn: Connection, run_pk: int, batch: PointBatch) -> Any:
    """The metric row for the batch, created if needed, locked for this transaction."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(metrics)
        .values(
            run_id=run_pk,
            name=batch.name,
            column=batch.column,
            kind=batch.kind.value,
            description=batch.description,
            count=0,
            value_types=0,
        )
        .on_conflict_do_nothing()
    )
    query = select(
        metrics.c.id,
        metrics.c.kind,
        metrics.c.count,
        metrics.c.value_types,
        metrics.c.min_value,
        metrics.c.max_value,
        metrics.c.description,
        metrics.c.max_step,
    ).where(
        metrics.c.run_id == run_pk,
        metrics.c.name == batch.name,
        metrics.c.column == batch.column,
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).one()


def _rows(
    metric_id: int, seq0: int, first_auto: int, batch: PointBatch
) -> tuple[list[tuple[Any, ...]], int, int, Sequence[int]]:
    """The rows to insert, the bit mask of their value types, the highest step, the steps.

    A point without a step gets the one after the highest so far. Float-only batches
    (the hot path) leave out the metric id, text and type, which the insert statement
    carries as constants: fewer parameters bound per point.
    """
    n = len(batch.values)
    seqs = range(seq0, seq0 + n)
    steps: Sequence[int]
    if batch.steps.count(None) == n:
        steps = range(first_auto, first_auto + n)
        top = first_auto + n - 1
    else:
        numbered = []
        top = first_auto - 1
        for s in batch.steps:
            step = top + 1 if s is None else s
            top = max(top, step)
            numbered.append(step)
        steps = numbered
    values = batch.values
    if set(map(type, values)) == {float} and not _has_negative_zero(values):
        # SQLite turns NaN into NULL by itself; PostgreSQL keeps NaN.
        fast: list[tuple[Any, ...]] = list(zip(steps, seqs, values, batch.times, strict=True))
        return fast, _FLOAT_ONLY, top, steps
    mask = 0
    rows: list[tuple[Any, ...]] = []
    for step, seq, value, t in zip(steps, seqs, values, batch.times, strict=True):
        number, text, vtype = encode_value(value)
        mask |= 1 << vtype
        rows.append((metric_id, step, seq, number, text, vtype, t))
    return rows, mask, top, steps


def _has_negative_zero(values: list[float]) -> bool:
    # `0.0 in values` is a C-speed scan that also matches -0.0; only then look closer.
    return 0.0 in values and any(v == 0.0 and math.copysign(1.0, v) < 0 for v in values)


def _numeric_range(
    rows: list[tuple[Any, ...]], float_only: bool
) -> tuple[float | None, float | None]:
    if float_only:
        numbers = [r[2] for r in rows if r[2] == r[2]]
    else:
        numbers = [
            r[3] for r in rows if r[5] in NUMERIC_VTYPES and r[3] is not None and r[3] == r[3]
        ]
    return (min(numbers), max(numbers)) if numbers else (None, None)


def _insert_rows(
    conn: Connection, metric_id: int, rows: list[tuple[Any, ...]], float_only: bool
) -> None:
    dbapi = conn.connection.driver_connection
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(_COPY_SQL) as copy:
                if float_only:
                    for step, seq, value, t in rows:
                        copy.write_row((metric_id, step, seq, value, None, 0, t))
                else:
                    for row in rows:
                        copy.write_row(row)
        elif float_only:
            cursor.executemany(_INSERT_FLOATS_SQL.format(metric_id=int(metric_id)), rows)
        else:
            cursor.executemany(_INSERT_SQL, rows)
    finally:
        cursor.close()


def _update_rollups(
    conn: Connection,
    metric_id: int,
    rows: list[tuple[Any, ...]],
    float_only: bool,
    batch: PointBatch,
    all_steps: Sequence[int],
) -> None:
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    if float_only:
        seqs: Sequence[int] = range(rows[0][1], rows[-1][1] + 1)
        steps = all_steps
        values = batch.values
    else:
        numeric = [r for r in rows if r[5] in NUMERIC_VTYPES and r[3] is not None]
        seqs = [r[2] for r in numeric]
        steps = [r[1] for r in numeric]
        values = [r[3] for r in numeric]
    if values:
        write_rollups(conn, insert, rollup_rows(metric_id, seqs, steps, values))


def write_points(
    conn: Connection, run_pk: int, batches: Sequence[PointBatch], max_points: int
) -> None:
    """Append the batches' points; checks kinds and the per-metric point limit first."""
    for batch in batches:
        n = len(batch.values)
        row = _lock_metric(conn, run_pk, batch)  # an empty batch still creates the metric
        if row.kind != batch.kind.value:
            label = batch.name if not batch.column else f"{batch.name}.{batch.column}"
            raise ValidationError(
                f"metric {label!r} was logged as {row.kind}; it cannot also take "
                f"{batch.kind.value} values (use another name)"
            )
        if n == 0:
            continue
        if row.count + n > max_points:
            raise LimitExceededError(
                f"metric {batch.name!r} would have {row.count + n} points; the limit is "
                f"{max_points} per metric (RUNYARD_LIMIT_MAX_POINTS_PER_METRIC)"
            )
        first_auto = 0 if row.max_step is None else row.max_step + 1
        rows, mask, top, steps = _rows(row.id, row.count, first_auto, batch)
        float_only = mask == _FLOAT_ONLY
        _insert_rows(conn, row.id, rows, float_only)
        _update_rollups(conn, row.id, rows, float_only, batch, steps)
        low, high = _numeric_range(rows, float_only)
        if row.min_value is not None:
            low = row.min_value if low is None else min(low, row.min_value)
            high = row.max_value if high is None else max(high, row.max_value)
        last = (
            (row.id, *rows[-1][:2], rows[-1][2], None, 0, rows[-1][3]) if float_only else rows[-1]
        )
        conn.execute(
            update(metrics)
            .where(metrics.c.id == row.id)
            .values(
                count=row.count + n,
                value_types=row.value_types | mask,
                last_step=last[1],
                max_step=top if row.max_step is None else max(top, row.max_step),
                last_number=None if last[3] is None or last[3] != last[3] else last[3],
                last_text=last[4],
                last_vtype=last[5],
                min_value=low,
                max_value=high,
                description=batch.description or row.description,
            )
        )


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
        if m.value_types in (_FLOAT_ONLY, _INT_ONLY):
            if values_only:
                values = [r[0] for r in _fetch(conn, "SELECT value" + order, m.id)]
            else:
                rows = _fetch(conn, "SELECT step, value, time" + order, m.id)
                steps = [r[0] for r in rows]
                values = [r[1] for r in rows]
                times = [r[2] for r in rows]
            if m.value_types == _INT_ONLY:
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
) -> list[MetricSeries]:
    """Points after each metric's (step, seq) cursor, by the (metric, step) index."""
    result = []
    for m in conn.execute(select(metrics).where(metrics.c.run_id == run_pk).order_by(metrics.c.id)):
        last_step, last_seq = cursors.get((m.name, m.column), (-1, -1))
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

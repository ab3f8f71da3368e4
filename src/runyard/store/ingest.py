"""The bulk write path of metric points: a call costs per point, not per metric.

Writes never issue one statement per point, nor per metric: whatever number of metrics a
call names, their rows are read in one statement, the new ones created in one, the
points inserted in one executemany (COPY on PostgreSQL), their rollup blocks upserted in
one and the metric rows' counts and last values updated in one.

A metric's first rollup block is written only once it holds ROLLUP_BLOCK points, from the
stored points: charts read rollups only past that count (see rollups.py), and a run of
100,000 one-point metrics would otherwise write a rollup row for every point.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.metrics import (
    NUMERIC_VTYPES,
    MetricKind,
    PointBatch,
    ValueType,
    encode_value,
)
from runyard.store.cursor import copy_rows, execute_many, fetch_all, placeholders, staged
from runyard.store.rollups import RollupBlocks, rollup_rows
from runyard.store.schema import ROLLUP_BLOCK

# Masks of the value types a batch holds (bit n: ValueType n).
FLOAT_ONLY = 1 << ValueType.FLOAT
INT_ONLY = 1 << ValueType.INT
_INSERT_SQL = (
    "INSERT INTO metric_points (metric_id, step, seq, value, text, vtype, time) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_FLOATS_SQL = (
    "INSERT INTO metric_points (metric_id, step, seq, value, text, vtype, time) "
    "VALUES ({metric_id}, ?, ?, ?, NULL, 0, ?)"
)
_INSERT_MANY_FLOATS_SQL = (
    "INSERT INTO metric_points (metric_id, step, seq, value, text, vtype, time) "
    "VALUES (?, ?, ?, ?, NULL, 0, ?)"
)
_COPY_SQL = "COPY metric_points (metric_id, step, seq, value, text, vtype, time) FROM STDIN"
_SELECT_METRICS = (
    "SELECT id, kind, count, value_types, min_value, max_value, description, max_step, "
    'name, "column" FROM metrics WHERE run_id = ?'
)
_METRIC_COLUMNS = (
    "id",
    "run_id",
    "name",
    '"column"',
    "kind",
    "description",
    "count",
    "value_types",
    "last_step",
    "max_step",
    "last_number",
    "last_text",
    "last_vtype",
    "min_value",
    "max_value",
)
_INSERT_METRICS = (
    f"INSERT INTO metrics ({', '.join(_METRIC_COLUMNS)}) "
    f"VALUES ({placeholders(len(_METRIC_COLUMNS))})"
)
_CHANGED_COLUMNS = (
    "count",
    "value_types",
    "last_step",
    "max_step",
    "last_number",
    "last_text",
    "last_vtype",
    "min_value",
    "max_value",
    "description",
    "id",
)
_UPDATE_METRICS = (
    f"UPDATE metrics SET {', '.join(f'{c} = ?' for c in _CHANGED_COLUMNS[:-1])} WHERE id = ?"
)
#: PostgreSQL: past this many rows, COPY (through a staging table for updates) beats an
#: executemany, whose every row is a round trip of the pipeline.
_COPY_FROM = 200
_KIND_VALUES = {kind: kind.value for kind in MetricKind}
_CHANGES_TABLE = (
    "count bigint, value_types integer, last_step bigint, max_step bigint, "
    "last_number double precision, last_text text, last_vtype smallint, "
    "min_value double precision, max_value double precision, description text, id integer"
)
_UPDATE_FROM_CHANGES = (
    f"UPDATE metrics SET {', '.join(f'{c} = c.{c}' for c in _CHANGED_COLUMNS[:-1])} "
    "FROM runyard_metric_changes AS c WHERE metrics.id = c.id"
)
#: The class of PostgreSQL advisory locks that serialise writers of one run's metrics.
_PG_LOCK_CLASS = 724522


@dataclass(slots=True)
class _Metric:
    """A metric row as this call sees it, updated in memory as its batches are added."""

    id: int
    kind: str
    count: int
    value_types: int
    min_value: float | None
    max_value: float | None
    description: str
    max_step: int | None
    name: str
    column: str
    created: bool = False
    touched: bool = False
    #: The count before this call: a metric that passes ROLLUP_BLOCK gets its first block.
    start_count: int = -1
    #: (step, number, text, vtype) of the newest point.
    last: tuple[Any, ...] = (None, None, None, None)


def _select_metrics(
    conn: Connection, run_pk: int, wanted: Collection[tuple[str, str]]
) -> dict[tuple[str, str], _Metric]:
    """The metric rows of these (name, column) keys that exist: one statement, whatever the
    number of names, reading only those names' rows (never the run's other metrics)."""
    names = list(set(map(itemgetter(0), wanted)))
    if conn.dialect.name == "postgresql":
        sql = _SELECT_METRICS + " AND name = ANY(?)"
        params: list[Any] = [run_pk, names]
    else:
        sql = _SELECT_METRICS + " AND name IN (SELECT value FROM json_each(?))"
        params = [run_pk, json.dumps(names)]
    found = {}
    for row in fetch_all(conn, sql, params):
        key = (row[8], row[9])
        if key in wanted:
            found[key] = metric = _Metric(*row)
            metric.start_count = metric.count
    return found


def _new_ids(conn: Connection, n: int) -> list[int]:
    """Ids for n new metric rows, taken in one statement."""
    if conn.dialect.name == "postgresql":
        rows = fetch_all(
            conn,
            "SELECT nextval(pg_get_serial_sequence('metrics', 'id')) FROM generate_series(1, ?)",
            (n,),
        )
        return [int(r[0]) for r in rows]
    # SQLite: the write transaction began IMMEDIATE, so nobody else inserts meanwhile.
    (top,) = fetch_all(conn, "SELECT COALESCE(MAX(id), 0) FROM metrics")[0]
    return list(range(int(top) + 1, int(top) + 1 + n))


def _metrics_for(
    conn: Connection, run_pk: int, batches: Sequence[PointBatch], max_points: int
) -> tuple[dict[tuple[str, str], _Metric], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The metric of every batch: the stored row, or a new one (written at the end).

    When every batch names a metric of its own (a wide call), a new metric given one float
    point gets no _Metric: its finished row (summary values already set, so no later UPDATE
    touches its indexes) and its point row are returned instead, as (rows, points).
    """
    if conn.dialect.name == "postgresql":
        # One writer of a run's metric rows at a time: new metrics get ids without racing
        # another server process that creates the same names.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s, %s)", (_PG_LOCK_CLASS, run_pk))
    keys = [(b.name, b.column) for b in batches]
    # Reversed: the first batch of a name is the one kept.
    first = dict(zip(reversed(keys), reversed(batches), strict=True))
    found = _select_metrics(conn, run_pk, first)
    # In the order first logged: list_metrics lists metrics in creation (id) order.
    missing = [key for key in dict.fromkeys(keys) if key not in found]
    ids = _new_ids(conn, len(missing)) if missing else []
    one_each = len(first) == len(batches) and max_points >= 1
    rows: list[tuple[Any, ...]] = []
    points: list[tuple[Any, ...]] = []
    for key, metric_id in zip(missing, ids, strict=True):
        batch = first[key]
        if one_each and _is_single_float(batch):
            value = batch.values[0]
            step = batch.steps[0]
            if step is None:
                step = 0
            number = value if value == value else None  # NaN: in no range
            rows.append(
                (metric_id, run_pk, batch.name, batch.column, _KIND_VALUES[batch.kind],
                 batch.description, 1, FLOAT_ONLY, step, step, number, None, 0, number, number)
            )  # fmt: skip
            points.append((metric_id, step, 0, value, batch.times[0]))
            continue
        found[key] = _Metric(
            metric_id,
            _KIND_VALUES[batch.kind],
            0,
            0,
            None,
            None,
            batch.description,
            None,
            batch.name,
            batch.column,
            created=True,
            start_count=0,
        )
    return found, rows, points


def _steps(first_auto: int, batch: PointBatch) -> tuple[Sequence[int], int]:
    """The batch's steps, each missing one the one after the highest so far; the highest."""
    n = len(batch.values)
    if batch.steps.count(None) == n:
        return range(first_auto, first_auto + n), first_auto + n - 1
    numbered = []
    top = first_auto - 1
    for s in batch.steps:
        step = top + 1 if s is None else s
        top = max(top, step)
        numbered.append(step)
    return numbered, top


def _is_plain_floats(values: list[Any]) -> bool:
    # `0.0 in values` is a C-speed scan that also matches -0.0; only then look closer.
    if set(map(type, values)) != {float}:
        return False
    return 0.0 not in values or not any(v == 0.0 and math.copysign(1.0, v) < 0 for v in values)


def _mixed_rows(
    metric_id: int, seq0: int, steps: Sequence[int], batch: PointBatch
) -> tuple[list[tuple[Any, ...]], int]:
    """Rows of a batch holding more than plain floats; the bit mask of their value types."""
    mask = 0
    rows: list[tuple[Any, ...]] = []
    seqs = range(seq0, seq0 + len(batch.values))
    for step, seq, value, t in zip(steps, seqs, batch.values, batch.times, strict=True):
        number, text, vtype = encode_value(value)
        mask |= 1 << vtype
        rows.append((metric_id, step, seq, number, text, vtype, t))
    return rows, mask


def _range_of_blocks(blocks: list[list[Any]]) -> tuple[float | None, float | None]:
    """The lowest and highest value of block rows (which leave NaN out)."""
    lows = [b[3] for b in blocks if b[3] is not None]
    highs = [b[4] for b in blocks if b[4] is not None]
    return (min(lows) if lows else None), (max(highs) if highs else None)


def _numeric_range(rows: list[tuple[Any, ...]]) -> tuple[float | None, float | None]:
    numbers = [r[3] for r in rows if r[5] in NUMERIC_VTYPES and r[3] is not None and r[3] == r[3]]
    return (min(numbers), max(numbers)) if numbers else (None, None)


def _check_batch(m: _Metric, batch: PointBatch, max_points: int) -> None:
    if m.kind != batch.kind:  # a MetricKind is a str enum
        label = batch.name if not batch.column else f"{batch.name}.{batch.column}"
        raise ValidationError(
            f"metric {label!r} was logged as {m.kind}; it cannot also take "
            f"{batch.kind.value} values (use another name)"
        )
    n = len(batch.values)
    if m.count + n > max_points:
        raise LimitExceededError(
            f"metric {batch.name!r} would have {m.count + n} points; the limit is "
            f"{max_points} per metric (RUNYARD_LIMIT_MAX_POINTS_PER_METRIC)"
        )


def _add_batch(m: _Metric, batch: PointBatch) -> tuple[Iterable[tuple[Any, ...]], bool, list[Any]]:
    """The batch's point rows, whether they are float-only, its rollup block rows; the
    metric's count, last point, range and types move on in memory.

    Float-only batches (the hot path) cost no Python work per point: their rows are the
    columns zipped as the insert consumes them, without the metric id, text and type
    (which the insert statement carries as constants), and their range comes from the
    rollup blocks. SQLite turns NaN into NULL by itself; PostgreSQL keeps NaN.
    """
    first_auto = 0 if m.max_step is None else m.max_step + 1
    steps, top = _steps(first_auto, batch)
    n = len(batch.values)
    seqs = range(m.count, m.count + n)
    rows: Iterable[tuple[Any, ...]]
    if _is_plain_floats(batch.values):
        mask = FLOAT_ONLY
        rows = zip(steps, seqs, batch.values, batch.times, strict=True)
        m.last = (steps[-1], batch.values[-1], None, 0)
        blocks = rollup_rows(m.id, seqs, steps, batch.values)
        low, high = _range_of_blocks(blocks)
    else:
        mixed, mask = _mixed_rows(m.id, m.count, steps, batch)
        rows = mixed
        m.last = mixed[-1][1:2] + mixed[-1][3:6]
        numeric = [r for r in mixed if r[5] in NUMERIC_VTYPES and r[3] is not None]
        blocks = (
            rollup_rows(
                m.id, [r[2] for r in numeric], [r[1] for r in numeric], [r[3] for r in numeric]
            )
            if numeric
            else []
        )
        low, high = _numeric_range(mixed)
    # The first block is written once the metric holds ROLLUP_BLOCK points, from its stored
    # points (_first_blocks): a metric logged a few times never writes one.
    blocks = [b for b in blocks if b[1] > 0]
    if m.min_value is not None and m.max_value is not None:
        low = m.min_value if low is None else min(low, m.min_value)
        high = m.max_value if high is None else max(high, m.max_value)
    m.min_value, m.max_value = low, high
    m.count += n
    m.value_types |= mask
    m.max_step = top if m.max_step is None else max(top, m.max_step)
    m.description = batch.description or m.description
    m.touched = True
    return rows, mask == FLOAT_ONLY, blocks


def _add_single(m: _Metric, batch: PointBatch, singles: list[tuple[Any, ...]]) -> list[Any] | None:
    """The hot path of a wide call (one float point for each of many metrics): the point's
    row goes to `singles`; returns its rollup block row (none in the first block). Does
    inline what _add_batch does."""
    value = batch.values[0]
    step = batch.steps[0]
    if step is None:
        step = 0 if m.max_step is None else m.max_step + 1
    seq = m.count
    singles.append((m.id, step, seq, value, batch.times[0]))
    m.count = seq + 1
    m.value_types |= FLOAT_ONLY
    m.max_step = step if m.max_step is None or step > m.max_step else m.max_step
    m.last = (step, value, None, 0)
    m.description = batch.description or m.description
    m.touched = True
    if value != value:  # NaN: counted nowhere in the ranges
        if seq < ROLLUP_BLOCK:
            return None
        return [m.id, seq // ROLLUP_BLOCK, 0, None, None, None, step, step, None]
    if m.min_value is None or m.max_value is None:
        m.min_value = m.max_value = value
    elif value < m.min_value:
        m.min_value = value
    elif value > m.max_value:
        m.max_value = value
    if seq < ROLLUP_BLOCK:
        return None
    return [m.id, seq // ROLLUP_BLOCK, 1, value, value, value, step, step, value]


def _is_single_float(batch: PointBatch) -> bool:
    if len(batch.values) != 1:
        return False
    value = batch.values[0]
    return type(value) is float and (value != 0.0 or math.copysign(1.0, value) > 0)


def _insert_rows(
    conn: Connection,
    floats: list[tuple[int, Iterable[tuple[Any, ...]]]],
    singles: list[tuple[Any, ...]],
    mixed: list[tuple[Any, ...]],
) -> None:
    """Insert every point of the call: one executemany (or COPY) for the float-only
    metrics, one for the rest. One float metric (the hot path) binds no id per point;
    `singles` are float points with their metric id, one per metric."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(_COPY_SQL) as copy:
                write = copy.write_row
                for metric_id, rows in floats:
                    for step, seq, value, t in rows:
                        write((metric_id, step, seq, value, None, 0, t))
                for metric_id, step, seq, value, t in singles:
                    write((metric_id, step, seq, value, None, 0, t))
                for row in mixed:
                    write(row)
            return
        if len(floats) == 1 and not singles:
            metric_id, rows = floats[0]
            cursor.executemany(_INSERT_FLOATS_SQL.format(metric_id=int(metric_id)), rows)
        elif floats or singles:
            if floats:
                singles.extend((metric_id, *r) for metric_id, rows in floats for r in rows)
            cursor.executemany(_INSERT_MANY_FLOATS_SQL, singles)
        if mixed:
            cursor.executemany(_INSERT_SQL, mixed)
    finally:
        cursor.close()


_FIRST_BLOCK_POINTS = (
    "SELECT metric_id, seq, step, value, vtype FROM metric_points "
    "WHERE metric_id IN ({ids}) AND seq < ? ORDER BY metric_id, seq"
)


def _first_blocks(conn: Connection, metric_ids: list[int], blocks: RollupBlocks) -> None:
    """The first rollup block of metrics that just reached ROLLUP_BLOCK points, built from
    their stored points (a row a version before this one wrote is replaced, not merged)."""
    ids = ", ".join(str(int(i)) for i in metric_ids)
    conn.exec_driver_sql(f"DELETE FROM metric_rollups WHERE metric_id IN ({ids}) AND block = 0")
    rows = fetch_all(conn, _FIRST_BLOCK_POINTS.format(ids=ids), (ROLLUP_BLOCK,))
    for metric_id, members in groupby(rows, key=itemgetter(0)):
        seqs, steps, values = [], [], []
        for _, seq, step, value, vtype in members:
            if vtype in NUMERIC_VTYPES:
                seqs.append(seq)
                steps.append(step)
                # SQLite stores NaN as NULL; NaN is what the block row leaves out.
                values.append(math.nan if value is None else value)
        if values:
            blocks.add(rollup_rows(metric_id, seqs, steps, values))


def _store_metrics(
    conn: Connection, run_pk: int, metrics: Iterable[_Metric], created: list[tuple[Any, ...]]
) -> None:
    """New metric rows (`created`: rows already made) inserted and changed ones updated:
    one executemany each."""
    changed = []
    for m in metrics:
        step, number, text, vtype = m.last
        if number is not None and number != number:
            number = None
        if m.created:
            created.append(
                (m.id, run_pk, m.name, m.column, m.kind, m.description, m.count,
                 m.value_types, step, m.max_step, number, text, vtype, m.min_value,
                 m.max_value)
            )  # fmt: skip
        elif m.touched:
            changed.append(
                (m.count, m.value_types, step, m.max_step, number, text, vtype, m.min_value,
                 m.max_value, m.description, m.id)
            )  # fmt: skip
    if conn.dialect.name == "postgresql" and len(created) + len(changed) > _COPY_FROM:
        if created:
            copy_rows(conn, "metrics", _METRIC_COLUMNS, created)
        if changed:
            staged(conn, "runyard_metric_changes", _CHANGES_TABLE, _CHANGED_COLUMNS, changed)
            conn.exec_driver_sql(_UPDATE_FROM_CHANGES)
        return
    if created:
        execute_many(conn, _INSERT_METRICS, created)
    if changed:
        execute_many(conn, _UPDATE_METRICS, changed)


def write_points(
    conn: Connection, run_pk: int, batches: Sequence[PointBatch], max_points: int
) -> None:
    """Append the batches' points; checks kinds and the per-metric point limit first.

    An empty batch still creates its metric.
    """
    found, created, singles = _metrics_for(conn, run_pk, batches, max_points)
    floats: list[tuple[int, Iterable[tuple[Any, ...]]]] = []
    mixed: list[tuple[Any, ...]] = []
    blocks = RollupBlocks()
    for batch in batches:
        m = found.get((batch.name, batch.column))
        if m is None:  # a new metric's one point, already in `created` and `singles`
            continue
        _check_batch(m, batch, max_points)
        if not batch.values:
            continue
        if _is_single_float(batch):
            block = _add_single(m, batch, singles)
            if block is not None:
                blocks.add_one(block)
            continue
        rows, float_only, block_rows = _add_batch(m, batch)
        if float_only:
            floats.append((m.id, rows))
        else:
            mixed.extend(rows)
        blocks.add(block_rows)
    if floats or singles or mixed:
        _insert_rows(conn, floats, singles, mixed)
    full = [m.id for m in found.values() if m.start_count < ROLLUP_BLOCK <= m.count]
    if full:
        _first_blocks(conn, full, blocks)
    blocks.write(conn)
    _store_metrics(conn, run_pk, found.values(), created)

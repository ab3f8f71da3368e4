"""Per-block aggregates of numeric points, and the downsampled history charts read.

Every ROLLUP_BLOCK consecutive points of a metric (by sequence number) get one row with
their count, min, max and sum. A chart of a million points then reads ten thousand
rollup rows and merges them into buckets, keeping each bucket's min and max so spikes
survive; short series are bucketed straight from the points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Double, func, literal, select

from runyard.core.errors import ValidationError
from runyard.core.history import History
from runyard.core.metrics import NUMERIC_VTYPES, decode_value
from runyard.store.cursor import execute_many, staged
from runyard.store.schema import ROLLUP_BLOCK, metric_points, metric_rollups

B = ROLLUP_BLOCK


def _block_row(
    metric_id: int, block: int, steps: Sequence[int], values: Sequence[float]
) -> list[Any]:
    total = sum(values) if values else 0.0
    valid: Sequence[float] = values
    if total != total:  # a NaN (or +inf and -inf) among them: leave NaN out of min/max
        valid = [v for v in values if v == v]
        total = sum(valid) if valid else math.nan
    last = values[-1] if values and values[-1] == values[-1] else None
    return [
        metric_id,
        block,
        len(valid),
        min(valid) if valid else None,
        max(valid) if valid else None,
        total if valid and total == total else None,
        steps[0],
        steps[-1],
        last,
    ]


def rollup_rows(
    metric_id: int, seqs: Sequence[int], steps: Sequence[int], values: Sequence[float]
) -> list[list[Any]]:
    """Block rows for numeric points given in sequence order (seqs need not be contiguous)."""
    out = []
    if isinstance(seqs, range):  # the common case: cut at block boundaries arithmetically
        start, n = seqs.start, len(seqs)
        index = 0
        while index < n:
            block = (start + index) // B
            end = min(n, (block + 1) * B - start)
            out.append(_block_row(metric_id, block, steps[index:end], values[index:end]))
            index = end
        return out
    index = 0
    for block, members in groupby(range(len(seqs)), key=lambda i: seqs[i] // B):
        count = sum(1 for _ in members)
        out.append(
            _block_row(
                metric_id, block, steps[index : index + count], values[index : index + count]
            )
        )
        index += count
    return out


def _merge(old: Sequence[Any], new: list[Any]) -> list[Any]:
    """One block row from an earlier row of the block and a later one."""
    low = [v for v in (old[3], new[3]) if v is not None]
    high = [v for v in (old[4], new[4]) if v is not None]
    sums = [v for v in (old[5], new[5]) if v is not None]
    return [
        new[0],
        new[1],
        old[2] + new[2],
        min(low) if low else None,
        max(high) if high else None,
        sum(sums) if sums else None,
        old[6],
        new[7],
        new[8],
    ]


_COLUMNS = (
    "metric_id",
    "block",
    "count",
    "min_value",
    "max_value",
    "sum_value",
    "first_step",
    "last_step",
    "last_value",
)
_STAGING = "runyard_rollup_blocks"
#: PostgreSQL: past this many block rows, COPY them to a staging table and upsert from it.
_COPY_FROM = 200


def _upsert_sql(dialect: str, staging: bool = False) -> str:
    """Insert block rows; a block an earlier call began is merged with its stored row."""
    least, greatest = ("LEAST", "GREATEST") if dialect == "postgresql" else ("min", "max")
    old, new = "metric_rollups", "excluded"

    def either(fn: str, column: str) -> str:
        # NULL (no numeric point) on one side keeps the other side's value.
        return (
            f"{column} = {fn}(COALESCE({old}.{column}, {new}.{column}), "
            f"COALESCE({new}.{column}, {old}.{column}))"
        )

    rows = "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    if staging:
        rows = f"SELECT {', '.join(_COLUMNS)} FROM {_STAGING}"
    return (
        f"INSERT INTO metric_rollups ({', '.join(_COLUMNS)}) {rows} "
        f"ON CONFLICT (metric_id, block) DO UPDATE SET count = {old}.count + {new}.count, "
        f"{either(least, 'min_value')}, {either(greatest, 'max_value')}, "
        f"sum_value = CASE WHEN {old}.sum_value IS NULL THEN {new}.sum_value "
        f"WHEN {new}.sum_value IS NULL THEN {old}.sum_value "
        f"ELSE {old}.sum_value + {new}.sum_value END, "
        f"last_step = {new}.last_step, last_value = {new}.last_value"
    )


_UPSERT = {dialect: _upsert_sql(dialect) for dialect in ("sqlite", "postgresql")}
_UPSERT_STAGED = _upsert_sql("postgresql", staging=True)


class RollupBlocks:
    """The block rows one ingest call writes, for all its metrics, stored in one upsert.

    A block the call touches twice (one metric in two batches) is merged in memory; one
    an earlier call began is merged with its stored row by the upsert itself.
    """

    def __init__(self) -> None:
        self._rows: dict[tuple[int, int], list[Any]] = {}

    def add(self, rows: list[list[Any]]) -> None:
        """Block rows of one batch, in sequence order."""
        for r in rows:
            key = (r[0], r[1])
            earlier = self._rows.get(key)
            self._rows[key] = r if earlier is None else _merge(earlier, r)

    def add_one(self, row: list[Any]) -> None:
        """One block row (of a one-point batch)."""
        key = (row[0], row[1])
        earlier = self._rows.get(key)
        self._rows[key] = row if earlier is None else _merge(earlier, row)

    def write(self, conn: Connection) -> None:
        """Upsert every block."""
        if conn.dialect.name == "postgresql" and len(self._rows) > _COPY_FROM:
            definition = "LIKE metric_rollups"
            staged(conn, _STAGING, definition, _COLUMNS, self._rows.values())
            conn.exec_driver_sql(_UPSERT_STAGED)
        elif self._rows:
            execute_many(conn, _UPSERT[conn.dialect.name], list(self._rows.values()))


def read_history(conn: Connection, metric: Any, max_points: int | None) -> History:
    """The metric's points, or at most `max_points` buckets of them with min/max/mean."""
    if max_points is not None and max_points < 1:
        raise ValidationError(f"max_points must be at least 1, got {max_points}")
    count = int(metric.count)
    if max_points is None or count <= max_points:
        rows = conn.execute(
            select(
                metric_points.c.step,
                metric_points.c.value,
                metric_points.c.text,
                metric_points.c.vtype,
            )
            .where(metric_points.c.metric_id == metric.id)
            .order_by(metric_points.c.step, metric_points.c.seq)
        ).all()
        return History(
            count=count,
            downsampled=False,
            steps=[r[0] for r in rows],
            values=[decode_value(r[1], r[2], r[3]) for r in rows],
        )
    width = math.ceil(count / max_points)
    if width >= B:
        return _from_rollups(conn, metric.id, count, math.ceil(width / B))
    return _from_points(conn, metric.id, count, width)


def _from_rollups(conn: Connection, metric_id: int, count: int, blocks_per_bucket: int) -> History:
    return merged_rollups(
        conn,
        [metric_rollups.c.block],
        [metric_rollups.c.metric_id == metric_id],
        count,
        blocks_per_bucket,
    )


def merged_rollups(
    conn: Connection, origin: list[Any], where: list[Any], count: int, blocks_per_bucket: int
) -> History:
    """Buckets of `blocks_per_bucket` consecutive rollup blocks (counted from `origin`'s
    first element, a block number or expression), merged by the database: a chart of a
    million points reads two thousand rows, not ten thousand."""
    r = metric_rollups.c
    bucket = (origin[0] // blocks_per_bucket).label("bucket")
    rows = conn.execute(
        select(
            func.min(r.first_step),
            func.sum(r.count),
            func.min(r.min_value),
            func.max(r.max_value),
            func.sum(r.sum_value),
        )
        .where(*where)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    history = History(count=count, downsampled=True)
    for first_step, n, low, high, total in rows:
        history.steps.append(first_step)
        history.counts.append(int(n))
        history.min.append(low)
        history.max.append(high)
        history.values.append(total / n if n and total is not None else None)
    return history


def _from_points(conn: Connection, metric_id: int, count: int, width: int) -> History:
    return bucket_points(conn, [metric_points.c.metric_id == metric_id], count, width)


def bucket_points(conn: Connection, where: list[Any], count: int, width: int) -> History:
    """A metric's raw points (those `where` selects) in buckets of `width` by sequence,
    each bucket's count, min, max and mean; shared by whole and zoomed histories."""
    bucket = (metric_points.c.seq // width).label("bucket")
    numeric = [*where, metric_points.c.vtype.in_(NUMERIC_VTYPES)]
    if conn.dialect.name == "postgresql":
        # PostgreSQL keeps NaN (SQLite stores NULL, which aggregates skip by themselves).
        numeric.append(metric_points.c.value != literal(math.nan, Double))
    rows = conn.execute(
        select(
            bucket,
            func.min(metric_points.c.step),
            func.count(metric_points.c.value),
            func.min(metric_points.c.value),
            func.max(metric_points.c.value),
            func.avg(metric_points.c.value),
        )
        .where(*numeric)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    history = History(count=count, downsampled=True)
    for _, first_step, n, low, high, mean in rows:
        history.steps.append(first_step)
        history.counts.append(n)
        history.min.append(low)
        history.max.append(high)
        history.values.append(None if mean is None else float(mean))
    return history

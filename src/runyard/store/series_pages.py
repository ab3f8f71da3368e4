"""A run's metric series read page by page: bounded memory however long the series are.

Pages follow the metrics in creation order and each metric's points in (step, seq) order;
a page token is the position after the last point given, so a page is one keyset read
by the points' primary key, never an offset scan.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from runyard.core.errors import ValidationError
from runyard.core.metrics import MetricKind, MetricSeries, decode_value
from runyard.store.cursor import fetch_all
from runyard.store.ingest import FLOAT_ONLY, INT_ONLY
from runyard.store.schema import metrics

_TOKEN = re.compile(r"^(\d{1,18}):(-?\d{1,19}):(-?\d{1,19})$")
_AFTER = " AND (step, seq) > (?, ?) ORDER BY step, seq LIMIT ?"

#: (metric id, step, seq) of the last point given.
Position = tuple[int, int, int]


def parse_token(token: str) -> Position:
    """The position a page token names (ValidationError for anything else)."""
    found = _TOKEN.match(token)
    if found is None:
        raise ValidationError(
            f"not a page token: {token[:40]!r}; pass the one the previous page returned"
        )
    return int(found[1]), int(found[2]), int(found[3])


def make_token(position: Position) -> str:
    """The token of a position."""
    return "{}:{}:{}".format(*position)


def _selected(conn: Connection, run_pk: int, names: Sequence[str] | None) -> Any:
    query = select(metrics).where(metrics.c.run_id == run_pk)
    if names is not None:
        query = query.where(metrics.c.name.in_(list(names)))
    return query


def count_points(conn: Connection, run_pk: int, names: Sequence[str] | None) -> int:
    """How many points the run's metrics (or those named) hold."""
    query = _selected(conn, run_pk, names).with_only_columns(
        func.coalesce(func.sum(metrics.c.count), 0)
    )
    return int(conn.execute(query).scalar_one())


def _decode(m: Any, rows: list[tuple[Any, ...]], values_only: bool) -> MetricSeries:
    """Rows of (step, seq, value, text, vtype, time) as a series."""
    if m.value_types in (FLOAT_ONLY, INT_ONLY):
        values: list[Any] = [r[2] for r in rows]
        if m.value_types == INT_ONLY:
            values = [int(v) for v in values]
        elif None in values:
            values = [math.nan if v is None else v for v in values]
    else:
        values = [decode_value(r[2], r[3], r[4]) for r in rows]
    return MetricSeries(
        name=m.name,
        column=m.column,
        kind=MetricKind(m.kind),
        description=m.description,
        steps=[] if values_only else [r[0] for r in rows],
        values=values,
        times=[] if values_only else [r[5] for r in rows],
    )


def read_page(
    conn: Connection,
    run_pk: int,
    names: Sequence[str] | None,
    *,
    values_only: bool,
    after: Position | None,
    size: int,
) -> tuple[list[MetricSeries], Position | None]:
    """Up to `size` points from `after` on (a metric cut by the page continues on the
    next one), and the position to continue from (None once everything was given)."""
    query = _selected(conn, run_pk, names).order_by(metrics.c.id)
    if after is not None:
        query = query.where(metrics.c.id >= after[0])
    sql = "SELECT step, seq, value, text, vtype, time FROM metric_points WHERE metric_id = ?"
    page: list[MetricSeries] = []
    left = size
    last: Position | None = None
    for m in conn.execute(query).all():
        step, seq = (after[1], after[2]) if after is not None and m.id == after[0] else (-1, -1)
        if left == 0:
            return page, last
        rows = fetch_all(conn, sql + _AFTER, (m.id, step, seq, left + 1))
        more = len(rows) > left
        rows = rows[:left]
        if rows or m.id != (after[0] if after is not None else None):
            page.append(_decode(m, rows, values_only))
        if rows:
            last = (m.id, rows[-1][0], rows[-1][1])
        left -= len(rows)
        if more:
            return page, last
    return page, None

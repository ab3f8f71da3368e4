"""Log lines of runs (stdout, stderr, driver logs), stored as they arrive for live streaming."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Connection, func, insert, select

from runyard.core.log_lines import LogLine
from runyard.store.schema import run_log_lines


def append_lines(conn: Connection, run_pk: int, stream: str, lines: Sequence[str]) -> int:
    """Append lines after the stream's last; returns the sequence number of the first.

    The caller holds the run's lock (or SQLite's write lock), so numbering cannot race.
    """
    last = conn.execute(
        select(func.max(run_log_lines.c.seq)).where(
            run_log_lines.c.run_id == run_pk, run_log_lines.c.stream == stream
        )
    ).scalar()
    first = 0 if last is None else int(last) + 1
    now = time.time()
    if lines:
        conn.execute(
            insert(run_log_lines),
            [
                {"run_id": run_pk, "stream": stream, "seq": first + i, "time": now, "line": line}
                for i, line in enumerate(lines)
            ],
        )
    return first


def read_lines(
    conn: Connection, run_pk: int, stream: str | None, after: int, limit: int
) -> list[LogLine]:
    """Lines with a sequence number above `after` (of one stream, or all), oldest first."""
    query = select(
        run_log_lines.c.stream, run_log_lines.c.seq, run_log_lines.c.time, run_log_lines.c.line
    ).where(run_log_lines.c.run_id == run_pk, run_log_lines.c.seq > after)
    if stream is not None:
        query = query.where(run_log_lines.c.stream == stream)
    query = query.order_by(run_log_lines.c.time, run_log_lines.c.stream, run_log_lines.c.seq)
    return [LogLine(*row) for row in conn.execute(query.limit(limit))]


def list_streams(conn: Connection, run_pk: int) -> dict[str, int]:
    """The run's log streams with their line counts."""
    rows = conn.execute(
        select(run_log_lines.c.stream, func.count())
        .where(run_log_lines.c.run_id == run_pk)
        .group_by(run_log_lines.c.stream)
        .order_by(run_log_lines.c.stream)
    )
    return {stream: int(count) for stream, count in rows}

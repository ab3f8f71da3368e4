"""Statements run on the DBAPI cursor, below SQLAlchemy: the hot paths of ingest and reads.

SQLAlchemy builds a parameter dictionary per row of an executemany, which costs more than
the database's own work on a wide batch of small rows. SQL here is written with `?`
placeholders and adapted to the driver's style (`%s` for psycopg).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection


def _adapt(conn: Connection, sql: str) -> str:
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def execute_many(conn: Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """One statement for every row, through the driver's executemany."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(_adapt(conn, sql), rows)
    finally:
        cursor.close()


def fetch_all(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Every row of a query, as plain tuples."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_adapt(conn, sql), params)
        return cursor.fetchall()  # type: ignore[no-any-return]
    finally:
        cursor.close()


def placeholders(n: int) -> str:
    """`?, ?, …` for an IN list of n values."""
    return ", ".join("?" * n)


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """PostgreSQL: rows into a table through COPY, the fastest bulk path it has."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    finally:
        cursor.close()


def staged(
    conn: Connection,
    name: str,
    definition: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """PostgreSQL: rows COPYed into a temporary table of this connection, emptied at commit,
    for an UPDATE … FROM or INSERT … SELECT to apply in one statement."""
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({definition}) ON COMMIT DELETE ROWS"
    )
    copy_rows(conn, name, columns, rows)

"""Alembic environment: runs on the connection runyard hands over (see store.engine)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from runyard.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection in config.attributes")
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()

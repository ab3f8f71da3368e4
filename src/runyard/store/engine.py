"""Engines for the store URL, SQLite tuning, and bringing a database's schema to head."""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from runyard.core.errors import StoreError

log = logging.getLogger("runyard.store")

#: The newest migration; a test checks it is the head of store/migrations.
HEAD_REVISION = "0010"

_MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `sqlite:///` URLs; pick the drivers runyard is tested with."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"not a database URL: {url!r}; use sqlite:///path/to/file.db or "
            "postgresql://user@host:port/database"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"unsupported store {parsed.drivername!r}: runyard stores runs in SQLite or PostgreSQL"
        )
    return parsed.render_as_string(hide_password=False)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    """A SQLite engine in WAL mode; `immediate` makes every transaction take the write lock.

    Taking the write lock at BEGIN (rather than at the first write) means a writer waits
    on busy_timeout instead of failing with "database is locked" when two processes race.
    """
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 60},
        pool_size=8,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "busy_timeout=60000",
            "foreign_keys=ON",
            "cache_size=-65536",
            "temp_store=MEMORY",
            # Checkpoint the WAL every ~40 MB rather than every 4 MB: bulk ingest writes
            # each page to the database once instead of many times.
            "wal_autocheckpoint=10000",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


def create_engines(url: str) -> tuple[Engine, Engine]:
    """(write engine, read engine) for the URL; for PostgreSQL they are one engine."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(url, immediate=True), _sqlite_engine(url, immediate=False)
    engine = create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True)
    return engine, engine


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, None for an empty database."""
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
            return None if row is None else str(row[0])
    except (OperationalError, ProgrammingError) as exc:
        message = str(exc).lower()
        if "alembic_version" in message and (
            "no such table" in message or "does not exist" in message
        ):
            return None
        raise StoreError(f"cannot open the tracking store: {exc.orig}") from None


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection | None]:
    """Serialise schema upgrades between processes opening the same store at once."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        if not database or database == ":memory:":
            yield None
            return
        with open(database + ".lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield None
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(724521)"))
        conn.commit()
        try:
            yield conn
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(724521)"))
            conn.commit()


def alembic_config() -> Any:
    """An Alembic Config pointing at runyard's migrations (imported lazily: it is slow)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Create or upgrade the schema with Alembic, unless it is already at head."""
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    with _migration_lock(engine):
        if current_revision(engine) == HEAD_REVISION:
            return
        log.info("upgrading tracking store schema to %s", HEAD_REVISION)
        config = alembic_config()
        with engine.connect() as conn:
            sqlite_dbapi = (
                conn.connection.driver_connection if engine.dialect.name == "sqlite" else None
            )
            if sqlite_dbapi is not None:
                # SQLite migrations rebuild tables; foreign keys must be off meanwhile (and
                # the pragma only takes effect outside a transaction).
                sqlite_dbapi.execute("PRAGMA foreign_keys=OFF")
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
            if sqlite_dbapi is not None:
                sqlite_dbapi.execute("PRAGMA foreign_keys=ON")

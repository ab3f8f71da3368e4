"""One database behind a store URL: its engines, shared by every workspace view of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)

from runyard.core.errors import NotFoundError, StoreUnavailableError, ValidationError
from runyard.store.engine import create_engines, upgrade_to_head
from runyard.store.schema import workspaces

_open: dict[str, Database] = {}
_open_lock = threading.Lock()


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


class Database:
    """Engines for one store URL with its schema at head.

    SQLite gets a write engine whose transactions take the write lock at BEGIN, and a read
    engine that does not; PostgreSQL uses one engine and row locks.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.write_engine, self.read_engine = create_engines(url)
        upgrade_to_head(self.write_engine)
        self.is_pg = self.write_engine.dialect.name == "postgresql"
        self._workspace_ids: dict[str, int] = {}

    @classmethod
    def open(cls, url: str) -> Database:
        """The process's Database for this URL, opened once and shared."""
        with _open_lock:
            found = _open.get(url)
            if found is None:
                found = _open[url] = cls(url)
            return found

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (committed on success, rolled back on error).

        Data the database refuses is a ValidationError (permanent); a lost connection or
        a lock timeout stays an OperationalError (worth retrying).
        """
        dbapi = self.write_engine.dialect.loaded_dbapi
        refused = (
            DataError,
            IntegrityError,
            ProgrammingError,
            dbapi.DataError,
            dbapi.IntegrityError,
            dbapi.ProgrammingError,
        )
        unavailable = (
            OperationalError,
            InterfaceError,
            dbapi.OperationalError,
            dbapi.InterfaceError,
        )
        try:
            with self.write_engine.begin() as conn:
                yield conn
        except refused as exc:  # raw-cursor paths raise the driver's own classes
            raise ValidationError(f"the database refused the data: {_reason(exc)}") from exc
        except unavailable as exc:
            raise StoreUnavailableError(f"the database is unavailable: {_reason(exc)}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        try:
            with self.read_engine.begin() as conn:
                yield conn
        except (OperationalError, InterfaceError) as exc:
            raise StoreUnavailableError(f"the database is unavailable: {_reason(exc)}") from exc

    def insert(self, table: Any) -> Any:
        """The dialect's INSERT, which has ON CONFLICT clauses."""
        return (postgresql.insert if self.is_pg else sqlite.insert)(table)

    def workspace_id(self, name: str, *, create: bool = True) -> int:
        """The id of a workspace, created on first use unless `create` is False."""
        found = self._workspace_ids.get(name)
        if found is not None:
            return found
        with self.read() as conn:
            found = conn.execute(select(workspaces.c.id).where(workspaces.c.name == name)).scalar()
        if found is None:
            if not create:
                raise NotFoundError(f"no workspace named {name!r}")
            with self.write() as conn:
                conn.execute(
                    self.insert(workspaces)
                    .values(name=name, created_time=time.time())
                    .on_conflict_do_nothing()
                )
                found = conn.execute(
                    select(workspaces.c.id).where(workspaces.c.name == name)
                ).scalar_one()
        self._workspace_ids[name] = int(found)
        return int(found)

    def list_workspaces(self) -> list[str]:
        """Every workspace name, sorted."""
        with self.read() as conn:
            return list(
                conn.execute(select(workspaces.c.name).order_by(workspaces.c.name)).scalars()
            )

    def close(self) -> None:
        """Dispose of the engines' pools and forget this database."""
        with _open_lock:
            if _open.get(self.url) is self:
                del _open[self.url]
        self.write_engine.dispose()
        self.read_engine.dispose()

    @classmethod
    def close_url(cls, url: str) -> None:
        """Close the process's Database for this URL, if one is open: a store being dropped
        (a test's schema, a deleted workspace database) must not keep pooled connections."""
        with _open_lock:
            found = _open.get(url)
        if found is not None:
            found.close()

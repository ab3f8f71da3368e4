"""How a server process learns that a run changed, without polling per stream.

PostgreSQL: every write that a live stream shows (points, log lines, a status) sends
`NOTIFY` on one channel with the run's id, delivered at commit to every server process
that LISTENs, so streams see what another server process wrote. SQLite: one
`PRAGMA data_version` check per tick tells whether any connection committed anything.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from runyard.store.database import Database

log = logging.getLogger("runyard.store")

CHANNEL = "runyard_run_changes"


def notify_run_changed(conn: Connection, run_id: str) -> None:
    """Tell listening server processes, at commit, that the run has news (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_notify(%s, %s)", (CHANNEL, run_id))


class ChangeListener:
    """PostgreSQL: a thread LISTENing on the channel; calls `on_change(run_id)` for each
    notification (from the thread: the callback hands it over to the event loop)."""

    def __init__(self, db: Database, on_change: Callable[[str], None]) -> None:
        self._db = db
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="runyard-listen", daemon=True)

    def start(self) -> None:
        """Begin listening in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (within a second)."""
        self._stop.set()
        self._thread.join(5)

    def _connect(self) -> Any:
        raw = self._db.read_engine.raw_connection()
        pg = raw.driver_connection
        raw.detach()  # ours for good: a LISTENing connection never goes back to the pool
        assert pg is not None
        pg.autocommit = True
        pg.execute(f"LISTEN {CHANNEL}")
        return pg

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                pg = self._connect()
            except Exception as exc:  # the database may be restarting: try again soon
                log.warning("cannot LISTEN for run changes (%s); retrying", exc)
                self._stop.wait(1.0)
                continue
            try:
                while not self._stop.is_set():
                    for note in pg.notifies(timeout=1.0):
                        self._on_change(note.payload)
            except Exception as exc:
                log.warning("lost the LISTEN connection (%s); reconnecting", exc)
            finally:
                with contextlib.suppress(Exception):
                    pg.close()


class DataVersion:
    """SQLite: whether any connection has committed to the database since the last check."""

    def __init__(self, db: Database) -> None:
        raw = db.read_engine.raw_connection()
        self._conn: Any = raw.driver_connection
        raw.detach()  # data_version is per connection: keep one of our own
        self._last = self._read()

    def _read(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        """True when something was committed since the previous call."""
        now = self._read()
        changed, self._last = now != self._last, now
        return changed

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

"""Database-wide housekeeping the server does now and then."""

from __future__ import annotations

import time

from sqlalchemy import delete, update

from runyard.core.status import Status
from runyard.store.database import Database
from runyard.store.schema import ingest_batches, runs

#: How long a batch's idempotency key is remembered; a client retries for far less.
INGEST_KEY_DAYS = 7


def mark_silent_runs(db: Database, silent_for: float) -> int:
    """Running runs that sent heartbeats but none for `silent_for` seconds: NotResponding."""
    cutoff = time.time() - silent_for
    with db.write() as conn:
        result = conn.execute(
            update(runs)
            .where(
                runs.c.status == Status.RUNNING.value,
                runs.c.heartbeat_time.is_not(None),
                runs.c.heartbeat_time < cutoff,
            )
            .values(status=Status.NOT_RESPONDING.value)
        )
        return int(result.rowcount)


def prune_ingest_keys(db: Database) -> int:
    """Forget idempotency keys older than INGEST_KEY_DAYS."""
    cutoff = time.time() - INGEST_KEY_DAYS * 86400
    with db.write() as conn:
        result = conn.execute(delete(ingest_batches).where(ingest_batches.c.created_time < cutoff))
        return int(result.rowcount)

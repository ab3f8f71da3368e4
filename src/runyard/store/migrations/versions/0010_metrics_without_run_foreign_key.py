"""metrics without a foreign key on run_id, like metric_points

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 15:05:00

A run of 100,000 metric names logged once each inserts 100,000 metric rows, and the key
was checked for every one (on PostgreSQL a trigger and a probe of runs per row: about a
third of a wide call's time). Metric rows are only ever written by the ingest path with
the primary key of a run it has just looked up in the same transaction, and runs are
never deleted, so the key guarded nothing the code does not already hold.
On SQLite the table is rebuilt (batch mode) to drop it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


@contextmanager
def _quiet_reflection() -> Iterator[None]:
    """SQLite's batch mode reflects `runs` (metrics refer to it) and SQLAlchemy cannot
    reflect its expression index (0007): the index is not touched, so the warning is noise
    that would reach a user's terminal the first time a new store opens."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Skipped unsupported reflection", category=sa.exc.SAWarning
        )
        yield


def upgrade() -> None:
    with _quiet_reflection(), op.batch_alter_table("metrics") as batch:
        batch.drop_constraint("fk_metrics_run_id_runs", type_="foreignkey")


def downgrade() -> None:
    with _quiet_reflection(), op.batch_alter_table("metrics") as batch:
        batch.create_foreign_key("fk_metrics_run_id_runs", "runs", ["run_id"], ["id"])

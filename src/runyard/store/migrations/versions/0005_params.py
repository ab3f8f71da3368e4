"""run params: MLflow-style write-once key/values, a section of their own beside properties

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_params",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_run_params_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_run_params")),
    )
    # No index on the value: values reach 6000 characters, past PostgreSQL's btree row limit.
    op.create_index(op.f("ix_run_params_key_run_id"), "run_params", ["key", "run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_run_params_key_run_id"), table_name="run_params")
    op.drop_table("run_params")

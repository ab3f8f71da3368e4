"""deleted runs (kept, restorable), experiment tags, and a run's input datasets (MLflow's)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 14:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("deleted_time", sa.Double(), nullable=True))
    op.create_index(
        op.f("ix_runs_experiment_id_deleted_time"), "runs", ["experiment_id", "deleted_time"]
    )
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_experiment_tags_experiment_id_experiments"),
        ),
        sa.PrimaryKeyConstraint("experiment_id", "key", name=op.f("pk_experiment_tags")),
    )
    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=36), nullable=False),
        sa.Column("context", sa.String(length=250), nullable=True),
        sa.Column("created_time", sa.Double(), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_run_inputs_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "name", "digest", name=op.f("pk_run_inputs")),
    )
    op.create_index(op.f("ix_run_inputs_name_run_id"), "run_inputs", ["name", "run_id"])
    op.create_index(op.f("ix_run_inputs_digest_run_id"), "run_inputs", ["digest", "run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_run_inputs_digest_run_id"), table_name="run_inputs")
    op.drop_index(op.f("ix_run_inputs_name_run_id"), table_name="run_inputs")
    op.drop_table("run_inputs")
    op.drop_table("experiment_tags")
    op.drop_index(op.f("ix_runs_experiment_id_deleted_time"), table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("deleted_time")

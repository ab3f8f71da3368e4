"""logged models: MLflow 3's models a run produced, and their links to runs

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 14:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source_run_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("model_type", sa.String(length=255), nullable=True),
        sa.Column("creation_time", sa.Double(), nullable=False),
        sa.Column("last_updated_time", sa.Double(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_logged_models_experiment_id_experiments"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_logged_models_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logged_models")),
        sa.UniqueConstraint("model_id", name=op.f("uq_logged_models_model_id")),
    )
    op.create_index(
        op.f("ix_logged_models_workspace_id_experiment_id"),
        "logged_models",
        ["workspace_id", "experiment_id"],
    )
    op.create_table(
        "logged_model_links",
        sa.Column("model_pk", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["logged_models.id"],
            name=op.f("fk_logged_model_links_model_pk_logged_models"),
        ),
        sa.PrimaryKeyConstraint(
            "model_pk", "run_id", "direction", "step", name=op.f("pk_logged_model_links")
        ),
    )
    op.create_index(op.f("ix_logged_model_links_run_id"), "logged_model_links", ["run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_logged_model_links_run_id"), table_name="logged_model_links")
    op.drop_table("logged_model_links")
    op.drop_index(op.f("ix_logged_models_workspace_id_experiment_id"), table_name="logged_models")
    op.drop_table("logged_models")

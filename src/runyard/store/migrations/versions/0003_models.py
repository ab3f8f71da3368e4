"""model registry: models, model_versions, their tags and properties

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_time", sa.Double(), nullable=False),
        sa.Column("next_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_models_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_models_workspace_id_name")),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=255), nullable=True),
        sa.Column("experiment_name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("model_framework", sa.String(length=255), nullable=True),
        sa.Column("model_framework_version", sa.String(length=255), nullable=True),
        sa.Column("created_time", sa.Double(), nullable=False),
        sa.Column("storage_key", sa.String(length=32), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_model_versions_model_id_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("model_id", "version", name=op.f("uq_model_versions_model_id_version")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_model_versions_storage_key")),
    )
    op.create_index(op.f("ix_model_versions_run_id"), "model_versions", ["run_id"], unique=False)
    for table in ("model_version_tags", "model_version_properties"):
        op.create_table(
            table,
            sa.Column("version_id", sa.Integer(), nullable=False),
            sa.Column("key", sa.String(length=100), nullable=False),
            sa.Column("value", sa.Text(), nullable=table == "model_version_tags"),
            sa.ForeignKeyConstraint(
                ["version_id"],
                ["model_versions.id"],
                name=op.f(f"fk_{table}_version_id_model_versions"),
            ),
            sa.PrimaryKeyConstraint("version_id", "key", name=op.f(f"pk_{table}")),
        )
        op.create_index(
            op.f(f"ix_{table}_key_value_version_id"),
            table,
            ["key", "value", "version_id"],
            unique=False,
        )


def downgrade() -> None:
    for table in ("model_version_properties", "model_version_tags"):
        op.drop_index(op.f(f"ix_{table}_key_value_version_id"), table_name=table)
        op.drop_table(table)
    op.drop_index(op.f("ix_model_versions_run_id"), table_name="model_versions")
    op.drop_table("model_versions")
    op.drop_table("models")

"""indexes of the studio's runs table

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 11:00:00

The runs table of an experiment counts and pages its top-level runs (experiment, parent,
id: covering), sorts by start, end or a metric's min or max, and an experiment's last
activity is read, by walking these indexes instead of every run.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_runs_experiment_id_parent_id_id", "runs", ["experiment_id", "parent_id", "id"]
    )
    op.create_index("ix_runs_experiment_id_start_time", "runs", ["experiment_id", "start_time"])
    op.create_index("ix_runs_experiment_id_end_time", "runs", ["experiment_id", "end_time"])
    op.create_index("ix_metrics_name_min_value", "metrics", ["name", "min_value"])
    op.create_index("ix_metrics_name_max_value", "metrics", ["name", "max_value"])


def downgrade() -> None:
    op.drop_index("ix_metrics_name_max_value", table_name="metrics")
    op.drop_index("ix_metrics_name_min_value", table_name="metrics")
    op.drop_index("ix_runs_experiment_id_end_time", table_name="runs")
    op.drop_index("ix_runs_experiment_id_start_time", table_name="runs")
    op.drop_index("ix_runs_experiment_id_parent_id_id", table_name="runs")

"""The tables of the tracking store. Alembic migrations create them; this is the model they match.

Times are seconds since the epoch (double precision): one type on SQLite and PostgreSQL,
cheap to compare and sort, no time-zone ambiguity.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("created_time", Double, nullable=False),
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_time", Double, nullable=False),
    Column("archived", Boolean, nullable=False, default=False),
    # Numbers runs within the experiment; bumped in the transaction that creates a run.
    Column("run_count", Integer, nullable=False, default=0),
    UniqueConstraint("workspace_id", "name"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column("experiment_id", Integer, ForeignKey("experiments.id"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("experiment_id", "key"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(255), nullable=False, unique=True),
    Column("experiment_id", Integer, ForeignKey("experiments.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("parent_id", Integer, ForeignKey("runs.id"), nullable=True),
    Column("status", String(32), nullable=False),
    Column("display_name", String(256), nullable=True),
    Column("description", Text, nullable=True),
    Column("target", String(255), nullable=False),
    Column("run_type", String(64), nullable=False),
    Column("submitted_by", String(255), nullable=True),
    Column("created_time", Double, nullable=False),
    Column("start_time", Double, nullable=True),
    Column("end_time", Double, nullable=True),
    Column("heartbeat_time", Double, nullable=True),
    Column("error_code", String(255), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("run_definition", Text, nullable=True),
    # Set while the run is deleted (MLflow's lifecycle stage): kept, hidden, restorable.
    Column("deleted_time", Double, nullable=True),
    # Runs are listed newest first within an experiment, and ids grow with time.
    Index(None, "experiment_id", "id"),
    Index(None, "experiment_id", "status"),
    Index(None, "parent_id"),
    # The studio's runs table: count and page an experiment's top-level runs; an
    # experiment's last activity, and sorting by start or end.
    Index(None, "experiment_id", "parent_id", "id"),
    Index(None, "experiment_id", "start_time"),
    Index(None, "experiment_id", "end_time"),
    # Sorting (and paging deep into) top-level runs by status or by name walks these.
    Index(None, "experiment_id", "parent_id", "status", "id"),
    Index(
        "ix_runs_experiment_id_parent_id_sort_name_id",
        "experiment_id",
        "parent_id",
        text("coalesce(display_name, run_id)"),
        "id",
    ),
    Index(None, "experiment_id", "deleted_time"),
)

run_tags = Table(
    "run_tags",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("key", String(100), nullable=False),
    Column("value", Text, nullable=True),
    PrimaryKeyConstraint("run_id", "key"),
    Index(None, "key", "value", "run_id"),
)

run_properties = Table(
    "run_properties",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("key", String(100), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "key"),
    Index(None, "key", "value", "run_id"),
)

#: MLflow-style params: write-once like properties, a section of their own.
run_params = Table(
    "run_params",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "key"),
    Index(None, "key", "run_id"),
)

#: The datasets a run read (MLflow's log-inputs): the dataset as given (JSON), its input
#: tags (JSON) and the `mlflow.data.context` tag apart, since searches filter on it.
run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("context", String(250), nullable=True),
    Column("created_time", Double, nullable=False),
    Column("dataset", Text, nullable=False),
    Column("tags", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "name", "digest"),
    Index(None, "name", "run_id"),
    Index(None, "digest", "run_id"),
)

# No foreign key on run_id (migration 0010): checking it per row cost a third of a wide
# call's time on PostgreSQL, and metric rows are only written for a run just looked up
# in the same transaction (runs are never deleted).
metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("name", String(255), nullable=False),
    # '' for a plain series; the column's name for one column of a row/table metric.
    Column("column", String(255), nullable=False, default=""),
    Column("kind", String(32), nullable=False),
    Column("description", Text, nullable=False, default=""),
    # Points stored so far; a batch reserves its sequence numbers by bumping it.
    Column("count", BigInteger, nullable=False, default=0),
    # Bit i set when a point of ValueType i was stored: lets reads skip decoding.
    Column("value_types", Integer, nullable=False, default=0),
    Column("last_step", BigInteger, nullable=True),
    # The highest step so far: a point logged without a step gets the next one.
    Column("max_step", BigInteger, nullable=True),
    Column("last_number", Double, nullable=True),
    Column("last_text", Text, nullable=True),
    Column("last_vtype", SmallInteger, nullable=True),
    Column("min_value", Double, nullable=True),
    Column("max_value", Double, nullable=True),
    UniqueConstraint("run_id", "name", "column"),
    # Sorting the runs table by a metric's last, lowest or highest value walks these in
    # order (run_id breaks ties inside the index); MLflow's metric filters use the first.
    Index(None, "name", "column", "last_number", "run_id"),
    Index(None, "name", "column", "min_value", "run_id"),
    Index(None, "name", "column", "max_value", "run_id"),
)

# No foreign key on points: checking one per inserted row would halve ingest speed, and
# points are only ever written through a metric row that exists.
metric_points = Table(
    "metric_points",
    metadata,
    Column("metric_id", Integer, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("value", Double, nullable=True),
    Column("text", Text, nullable=True),
    Column("vtype", SmallInteger, nullable=False),
    Column("time", Double, nullable=False),
    PrimaryKeyConstraint("metric_id", "step", "seq"),
    sqlite_with_rowid=False,
)

# A token is shown once at creation; only its SHA-256 is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_time", Double, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

# Keys of ingested batches: a batch retried after a lost answer is recognised, not stored twice.
ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("run_id", Integer, nullable=False),
    Column("key", String(64), nullable=False),
    Column("created_time", Double, nullable=False),
    # Per run: one workspace cannot block another's batches by reusing their keys.
    PrimaryKeyConstraint("run_id", "key"),
)

# stdout/stderr and other live logs of a run, line by line, for streaming while it runs.
run_log_lines = Table(
    "run_log_lines",
    metadata,
    Column("run_id", Integer, nullable=False),
    Column("stream", String(255), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("time", Double, nullable=False),
    Column("line", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "stream", "seq"),
)

# Aggregates of every ROLLUP_BLOCK consecutive numeric points of a metric (by sequence), kept
# at write time so a chart of millions of points reads a thousand rows, not the points.
ROLLUP_BLOCK = 100
metric_rollups = Table(
    "metric_rollups",
    metadata,
    Column("metric_id", Integer, nullable=False),
    Column("block", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("min_value", Double, nullable=True),
    Column("max_value", Double, nullable=True),
    Column("sum_value", Double, nullable=True),
    Column("first_step", BigInteger, nullable=False),
    Column("last_step", BigInteger, nullable=False),
    Column("last_value", Double, nullable=True),
    PrimaryKeyConstraint("metric_id", "block"),
    sqlite_with_rowid=False,
)

# The model registry: a name per workspace, and its numbered versions. A version's number
# comes from `next_version`, bumped in the transaction that inserts the version (row-locked
# on PostgreSQL, the write lock on SQLite); the unique constraint is the last word.
models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_time", Double, nullable=False),
    Column("next_version", Integer, nullable=False, default=1),
    # MLflow's registered-model fields (runyard's own API speaks of versions only).
    Column("description", Text, nullable=True),
    Column("last_updated_time", Double, nullable=True),
    UniqueConstraint("workspace_id", "name"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id"), nullable=False),
    Column("version", Integer, nullable=False),
    # The run it came from, by id (not a foreign key: the run may be in the registry's
    # past only, and a local registration has none).
    Column("run_id", String(255), nullable=True),
    Column("experiment_name", String(255), nullable=True),
    Column("description", Text, nullable=True),
    Column("model_framework", String(255), nullable=True),
    Column("model_framework_version", String(255), nullable=True),
    Column("created_time", Double, nullable=False),
    # The version's own files: their prefix's key in the artifact store, and their names.
    Column("storage_key", String(32), nullable=False, unique=True),
    Column("path", Text, nullable=False),
    Column("files", Text, nullable=False),
    # The model's name when the files were stored (their prefix keeps it across a rename).
    Column("files_name", String(255), nullable=True),
    # MLflow's fields: the source URI as given, the logged model, run link and stage.
    Column("source", Text, nullable=True),
    Column("logged_model_id", String(255), nullable=True),
    Column("run_link", Text, nullable=True),
    Column("stage", String(20), nullable=True),
    Column("last_updated_time", Double, nullable=True),
    UniqueConstraint("model_id", "version"),
    Index(None, "run_id"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("key", String(100), nullable=False),
    Column("value", Text, nullable=True),
    PrimaryKeyConstraint("version_id", "key"),
    Index(None, "key", "value", "version_id"),
)

model_version_properties = Table(
    "model_version_properties",
    metadata,
    Column("version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("key", String(100), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("version_id", "key"),
    Index(None, "key", "value", "version_id"),
)

# MLflow's registered-model tags and aliases (an alias names one version of its model).
model_tags = Table(
    "model_tags",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=True),
    PrimaryKeyConstraint("model_id", "key"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id"), nullable=False),
    Column("alias", String(255), nullable=False),
    Column("version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    PrimaryKeyConstraint("model_id", "alias"),
    Index(None, "version_id"),
)

# MLflow 3's logged models, per workspace: tags and params are small JSON objects on the row
# (MLflow reads and writes them whole); the runs they came from or fed are links.
logged_models = Table(
    "logged_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", String(40), nullable=False, unique=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("experiment_id", Integer, ForeignKey("experiments.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("source_run_id", String(255), nullable=True),
    Column("status", String(16), nullable=False),
    Column("status_message", Text, nullable=True),
    Column("model_type", String(255), nullable=True),
    Column("creation_time", Double, nullable=False),
    Column("last_updated_time", Double, nullable=False),
    Column("tags", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Index(None, "workspace_id", "experiment_id"),
)

logged_model_links = Table(
    "logged_model_links",
    metadata,
    Column("model_pk", Integer, ForeignKey("logged_models.id"), nullable=False),
    Column("run_id", String(255), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("step", BigInteger, nullable=False),
    PrimaryKeyConstraint("model_pk", "run_id", "direction", "step"),
    Index(None, "run_id"),
)

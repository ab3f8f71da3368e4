import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from runyard.store.engine import (
    HEAD_REVISION,
    alembic_config,
    create_engines,
    current_revision,
    upgrade_to_head,
)
from runyard.store.schema import metadata


def test_head_revision_constant_is_the_migrations_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD_REVISION]


def test_empty_database_upgrades_to_a_schema_matching_the_model(store_url: str) -> None:
    write, read = create_engines(store_url)
    try:
        assert current_revision(write) is None
        upgrade_to_head(write)
        assert current_revision(write) == HEAD_REVISION
        with write.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        write.dispose()
        read.dispose()


def test_a_new_store_opens_without_a_word_on_stderr(store_url: str) -> None:
    """Every migration runs when a store first opens, in the user's own process: none may
    print warnings to their terminal (SQLite's batch mode used to, reflecting an index)."""
    opened = subprocess.run(
        [
            sys.executable,
            "-W",
            "default",
            "-c",
            "import sys; from runyard.store.database import Database;"
            " Database.open(sys.argv[1]).close()",
            store_url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert opened.returncode == 0, opened.stderr
    assert opened.stderr == ""


def test_upgrading_twice_is_harmless(store_url: str) -> None:
    write, read = create_engines(store_url)
    try:
        upgrade_to_head(write)
        upgrade_to_head(write)
        assert current_revision(write) == HEAD_REVISION
    finally:
        write.dispose()
        read.dispose()


def test_runs_made_before_workspaces_existed_land_in_the_default_workspace(
    store_url: str,
) -> None:
    from alembic import command
    from sqlalchemy import text

    from runyard.store.sql import SqlTrackingStore

    write, read = create_engines(store_url)
    try:
        config = alembic_config()
        with write.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
            conn.commit()
        with write.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO experiments (name, created_time, archived, run_count) "
                    "VALUES ('old', 0, false, 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO runs (run_id, experiment_id, number, status, target, run_type, "
                    "created_time) VALUES ('old-run', 1, 1, 'Completed', 'local', 'interactive', 0)"
                )
            )
    finally:
        write.dispose()
        read.dispose()
    store = SqlTrackingStore(store_url)  # opening the store upgrades it to head
    assert store.get_run("old-run").experiment_name == "old"
    assert [e.name for e in store.list_experiments()] == ["old"]
    store.close()


def test_metrics_lose_the_run_foreign_key_and_keep_their_rows_and_sort_indexes(
    store_url: str,
) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from runyard.core.entities import NewRun
    from runyard.core.metrics import MetricKind, PointBatch
    from runyard.store.sql import SqlTrackingStore

    def metric_keys_and_indexes() -> tuple[list[object], set[str]]:
        with write.connect() as conn:
            found = inspect(conn)
            keys = [fk["referred_table"] for fk in found.get_foreign_keys("metrics")]
            return keys, {ix["name"] for ix in found.get_indexes("metrics")}

    store = SqlTrackingStore(store_url)
    store.create_runs([NewRun(run_id="r", experiment_name="e")])
    store.log_points("r", [PointBatch("loss", MetricKind.SCALAR, "", "", [3], [0.5], [1.0])])
    store.close()
    write, read = create_engines(store_url)
    try:
        config = alembic_config()
        with write.connect() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0009")
            conn.commit()
        assert metric_keys_and_indexes()[0] == ["runs"]
        upgrade_to_head(write)
        keys, indexes = metric_keys_and_indexes()
        assert keys == []
        assert {f"ix_metrics_name_column_{v}_run_id" for v in ("last_number", "min_value",
                "max_value")} <= indexes  # fmt: skip
    finally:
        write.dispose()
        read.dispose()
    store = SqlTrackingStore(store_url)
    [info] = store.list_metrics("r")
    assert (info.name, info.count, info.last_value, info.last_step) == ("loss", 1, 0.5, 3)
    store.close()

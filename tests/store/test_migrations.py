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

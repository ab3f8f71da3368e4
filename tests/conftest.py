"""Fixtures: a fresh workspace per test on each backend (SQLite file, PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from runyard import Experiment, Workspace
from runyard.sdk.workspace import close_all

PG_URL = os.environ.get("RUNYARD_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0]


_PG_PROBLEM: str | None = None
_PG_CHECKED = False


def require_postgres() -> None:
    """Skip (loudly, with the reason) when the PostgreSQL test server cannot be reached."""
    global _PG_PROBLEM, _PG_CHECKED
    if not _PG_CHECKED:
        _PG_PROBLEM = _postgres_problem()
        _PG_CHECKED = True
    if _PG_PROBLEM is not None:
        pytest.skip(f"POSTGRESQL NOT AVAILABLE at {PG_URL}: {_PG_PROBLEM}")


def fresh_store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A store URL nobody else uses: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'runyard.db'}"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        close_all()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store on the backend under test."""
    yield from fresh_store_url(backend, tmp_path)


@pytest.fixture
def workspace(store_url: str, tmp_path: Path) -> Iterator[Workspace]:
    """A fresh workspace: its own store and its own artifact folder."""
    ws = Workspace("test", store_url=store_url, artifacts_url=str(tmp_path / "artifacts"))
    yield ws
    close_all()


@pytest.fixture
def experiment(workspace: Workspace) -> Experiment:
    """An experiment in the fresh workspace."""
    return Experiment(workspace, "explore-runs")

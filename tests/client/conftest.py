"""Fixtures of the client tests: a real SQLite store and a spool folder, no SDK in between."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runyard.client.local import InProcessTransport
from runyard.core.entities import NewRun
from runyard.core.limits import Limits


@pytest.fixture
def local(tmp_path: Path) -> Iterator[InProcessTransport]:
    """An embedded SQLite store and artifact folder, opened in this process."""
    transport = InProcessTransport(
        f"sqlite:///{tmp_path / 'runyard.db'}", str(tmp_path / "artifacts"), Limits()
    )
    yield transport
    transport.close()


def new_run(transport: InProcessTransport, run_id: str = "run-1") -> str:
    """Create a running run in the store; its id."""
    transport.store.get_or_create_experiment("client")
    transport.store.create_runs([NewRun(run_id=run_id, experiment_name="client")])
    return run_id

"""The real `mlflow` client against a real `runyard server` process, one workspace per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from mlflow import MlflowClient

from runyard import Workspace
from runyard.sdk.workspace import close_all


@dataclass
class Door:
    """An MLflow client and a runyard workspace looking at the same server workspace."""

    url: str
    server: str
    mlflow: MlflowClient
    workspace: Workspace


@pytest.fixture
def door(backend: str, shared_server: Callable[[str], str]) -> Iterator[Door]:
    """Tracking URI http://host:port/mlflow/<fresh workspace>, beside runyard's own SDK."""
    server = shared_server(backend)
    name = f"m{uuid.uuid4().hex[:12]}"
    url = f"{server}/mlflow/{name}"
    yield Door(url, server, MlflowClient(tracking_uri=url), Workspace(name, server_url=server))
    close_all()


@pytest.fixture
def mlflow_plugin_installed() -> None:
    """Fail, saying how to fix it, when mlflow cannot find runyard's plugin: its entry points
    come from the installed package's metadata (`pip install -e .`), not from PYTHONPATH."""
    from importlib.metadata import entry_points

    names = {e.name for e in entry_points(group="mlflow.tracking_store")}
    if "runyard" not in names:
        pytest.fail(
            "mlflow finds no 'runyard' tracking store entry point: reinstall runyard "
            "(`pip install -e .` or `make setup`) so its pyproject entry points are registered"
        )

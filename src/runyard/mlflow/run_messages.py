"""MLflow Run messages for many runs at once: documents, latest points and inputs in a few
queries per page (never per run), through the store's LifecycleStore half."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runyard.core.entities import RunDocument
from runyard.mlflow import mapping
from runyard.mlflow.errors import MlflowError
from runyard.store.base import LifecycleStore, TrackingStore


def lifecycle_store(store: TrackingStore) -> LifecycleStore:
    """The store's LifecycleStore half (the SQL store has it; a remote transport does not)."""
    if not isinstance(store, LifecycleStore):
        raise MlflowError(
            "ENDPOINT_NOT_FOUND",
            f"this endpoint needs runyard's SQL store; {type(store).__name__} does not offer it",
        )
    return store


def run_messages(store: TrackingStore, docs: Sequence[RunDocument]) -> list[dict[str, Any]]:
    """MLflow Run messages of run documents, in their order."""
    if not docs:
        return []
    extended = lifecycle_store(store)
    ids = [d.run_id for d in docs]
    points = extended.latest_points(ids)
    inputs = extended.get_inputs(ids)
    return [mapping.run_to_mlflow(d, points.get(d.run_id, []), inputs.get(d.run_id)) for d in docs]

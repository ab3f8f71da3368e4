"""Deleting and restoring runs (MLflow's lifecycle stage) and experiment tags.

A deleted run is kept: `runs/get` still answers it (lifecycle_stage "deleted"), searches and
runyard's own listings leave it out unless asked for, and `runs/restore` brings it back.
"""

from __future__ import annotations

from typing import Any

from runyard.core.roles import Role
from runyard.mlflow.endpoints import Access, required_arg, route, string
from runyard.mlflow.errors import MlflowError, invalid
from runyard.mlflow.run_messages import lifecycle_store
from runyard.mlflow.tracking import experiment_by_id, run_document

#: MLflow's limits on experiment tags (mlflow/utils/validation.py).
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20_000


def _set_run_deleted(access: Access, body: dict[str, Any], deleted: bool) -> dict[str, Any]:
    run_id = string(body, "run_id")
    assert run_id is not None
    run_document(access.store, run_id)
    lifecycle_store(access.store).set_run_deleted(run_id, deleted)
    return {}


@route("POST", "runs/delete", Role.CONTRIBUTOR)
def delete_run(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    return _set_run_deleted(access, body, True)


@route("POST", "runs/restore", Role.CONTRIBUTOR)
def restore_run(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    return _set_run_deleted(access, body, False)


def _active_experiment(access: Access, body: dict[str, Any]) -> Any:
    info = experiment_by_id(access.store, required_arg(body, "experiment_id"))
    if info.archived:
        raise invalid(
            f"The experiment {info.experiment_id} must be in the 'active' state. "
            "Current state is deleted."
        )
    return info


@route("POST", "experiments/set-experiment-tag", Role.CONTRIBUTOR)
def set_experiment_tag(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    key = string(body, "key")
    assert key is not None
    value = body.get("value", "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise invalid(f"Invalid value {value!r} for parameter 'value': expected a string")
    if len(key) > MAX_EXPERIMENT_TAG_KEY_LENGTH:
        raise invalid(
            f"Tag key '{key[:20]}...' had length {len(key)}, which exceeded length limit of "
            f"{MAX_EXPERIMENT_TAG_KEY_LENGTH}"
        )
    if len(value) > MAX_EXPERIMENT_TAG_VALUE_LENGTH:
        raise invalid(
            f"Tag value '{value[:20]}...' had length {len(value)}, which exceeded length "
            f"limit of {MAX_EXPERIMENT_TAG_VALUE_LENGTH}"
        )
    info = _active_experiment(access, body)
    lifecycle_store(access.store).set_experiment_tag(info.name, key, value)
    return {}


@route("POST", "experiments/delete-experiment-tag", Role.CONTRIBUTOR)
def delete_experiment_tag(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    key = string(body, "key")
    assert key is not None
    info = _active_experiment(access, body)
    if key not in info.tags:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST",
            f"No tag with name: {key} in experiment with id {info.experiment_id}",
        )
    lifecycle_store(access.store).delete_experiment_tag(info.name, key)
    return {}

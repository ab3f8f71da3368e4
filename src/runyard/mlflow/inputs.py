"""MLflow's runs/log-inputs: the datasets a run read, kept with the run and searchable
(`datasets.name`, `datasets.digest`, `datasets.context`)."""

from __future__ import annotations

from typing import Any

from runyard.core.roles import Role
from runyard.mlflow import mapping
from runyard.mlflow.endpoints import Access, route, string
from runyard.mlflow.errors import invalid
from runyard.mlflow.run_messages import lifecycle_store
from runyard.mlflow.tracking import active_run

#: Datasets one request may carry (mlflow/utils/validation.py caps a dataset input's tags
#: at 100 too).
MAX_DATASET_INPUTS = 1000
MAX_INPUT_TAGS = 100


@route("POST", "runs/log-inputs", Role.CONTRIBUTOR)
def log_inputs(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    run_id = string(body, "run_id")
    assert run_id is not None
    datasets = body.get("datasets") or []
    if not isinstance(datasets, list):
        raise invalid("Invalid value for parameter 'datasets': expected a list")
    if len(datasets) > MAX_DATASET_INPUTS:
        raise invalid(
            f"A log-inputs request can carry at most {MAX_DATASET_INPUTS} datasets; got "
            f"{len(datasets)}"
        )
    if body.get("models"):
        raise invalid(
            "Logged model inputs ('models') are not recorded by runyard's log-inputs yet; "
            "log datasets only"
        )
    inputs = [mapping.input_from_mlflow(d) for d in datasets]
    for item in inputs:
        if len(item.tags) > MAX_INPUT_TAGS:
            raise invalid(
                f"Dataset input {item.name!r} has {len(item.tags)} tags; at most "
                f"{MAX_INPUT_TAGS} are allowed"
            )
    active_run(access.store, run_id)
    if inputs:
        lifecycle_store(access.store).log_inputs(run_id, inputs)
    return {}

"""MLflow's tracking endpoints (experiments, runs, metrics, params, tags) over runyard's store."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.responses import Response

from runyard.core.entities import NewRun, RunDocument
from runyard.core.errors import ConflictError, NotFoundError, RunyardError
from runyard.core.metrics import MetricKind, PointBatch
from runyard.core.names import MLFLOW_WORKSPACE_PREFIX
from runyard.core.roles import Role
from runyard.core.status import Status
from runyard.core.tags import validate_params, validate_tags
from runyard.mlflow import mapping
from runyard.mlflow.endpoints import Access, max_results, required_arg, route, string
from runyard.mlflow.errors import MlflowError, invalid
from runyard.mlflow.run_messages import lifecycle_store, run_messages
from runyard.store.base import LoggedModelStore, TrackingStore

#: MLflow's log-batch limits (mlflow/utils/validation.py).
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS_TAGS = 100
MAX_BATCH_ENTITIES = 1000
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_RESULTS_SEARCH_RUNS = 50_000
MAX_RESULTS_HISTORY = 25_000
#: The path prefix of a non-default workspace's tracking URI: http://host:port/mlflow/<ws>.
WORKSPACE_PREFIX = MLFLOW_WORKSPACE_PREFIX
#: The run type of submitted runs, whose status only their runner sets.
RUNNER_OWNED = "script"


# Experiments
def experiment_by_id(store: TrackingStore, experiment_id: object) -> Any:
    """The experiment of an MLflow experiment id (RESOURCE_DOES_NOT_EXIST if none)."""
    try:
        number = mapping.experiment_id_to_runyard(str(experiment_id))
    except ValueError as exc:
        raise invalid(str(exc)) from None
    for info in store.list_experiments(include_archived=True):
        if info.experiment_id == number:
            return info
    raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={experiment_id} exists")


@route("POST", "experiments/create", Role.CONTRIBUTOR)
def create_experiment(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = string(body, "name")
    assert name is not None
    try:
        access.store.get_experiment(name)
    except NotFoundError:
        info = access.store.get_or_create_experiment(name)
        return {"experiment_id": mapping.experiment_id_to_mlflow(info.experiment_id)}
    raise MlflowError("RESOURCE_ALREADY_EXISTS", f"Experiment '{name}' already exists.")


@route("GET", "experiments/get", Role.READER)
def get_experiment(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    info = experiment_by_id(access.store, required_arg(body, "experiment_id"))
    return {"experiment": mapping.experiment_to_mlflow(info)}


@route("GET", "experiments/get-by-name", Role.READER)
def get_experiment_by_name(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = string(body, "experiment_name")
    for info in access.store.list_experiments(include_archived=True):
        if info.name == name:
            return {"experiment": mapping.experiment_to_mlflow(info)}
    raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with name '{name}'")


def _set_experiment_deleted(access: Access, body: dict[str, Any], deleted: bool) -> dict[str, Any]:
    info = experiment_by_id(access.store, required_arg(body, "experiment_id"))
    access.store.set_experiment_archived(info.name, deleted)
    return {}


@route("POST", "experiments/update", Role.OWNER)
def update_experiment(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    info = experiment_by_id(access.store, required_arg(body, "experiment_id"))
    new_name = string(body, "new_name")
    assert new_name is not None
    if info.archived:
        raise invalid(f"Cannot rename a non-active experiment {info.experiment_id}.")
    try:
        access.store.rename_experiment(info.name, new_name)
    except ConflictError:
        raise MlflowError(
            "RESOURCE_ALREADY_EXISTS", f"Experiment '{new_name}' already exists."
        ) from None
    return {}


# Deleting and restoring are archiving, which the native API leaves to owners too.
@route("POST", "experiments/delete", Role.OWNER)
def delete_experiment(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    return _set_experiment_deleted(access, body, True)


@route("POST", "experiments/restore", Role.OWNER)
def restore_experiment(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    return _set_experiment_deleted(access, body, False)


# Runs
def _run_message(store: TrackingStore, doc: RunDocument) -> dict[str, Any]:
    return run_messages(store, [doc])[0]


def run_document(store: TrackingStore, run_id: str) -> RunDocument:
    """A run's document, deleted or not (RESOURCE_DOES_NOT_EXIST if unknown)."""
    try:
        return store.get_run(run_id)
    except (NotFoundError, RunyardError) as exc:
        if isinstance(exc, NotFoundError) or "invalid run id" in str(exc):
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Run '{run_id}' not found") from None
        raise


def _tag_list(items: object, what: str = "tags") -> dict[str, str]:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise invalid(f"Invalid value for parameter '{what}': expected a list of key/values")
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise invalid(f"Invalid {what} entry {item!r}: expected {{'key': ..., 'value': ...}}")
        value = item.get("value", "")
        out[item["key"]] = "" if value is None else str(value)
    return out


def _check_tag_values(tags: dict[str, str]) -> None:
    for _key, value in tags.items():
        if len(value) > MAX_TAG_VALUE_LENGTH:
            raise invalid(
                f"Tag value '{value[:20]}...' had length {len(value)}, which exceeded length "
                f"limit of {MAX_TAG_VALUE_LENGTH}"
            )


@route("POST", "runs/create", Role.CONTRIBUTOR)
def create_run(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    experiment = experiment_by_id(access.store, body.get("experiment_id") or "0")
    if experiment.archived:
        raise invalid(f"The experiment {experiment.experiment_id} must be in the 'active' state.")
    tags = _tag_list(body.get("tags"))
    _check_tag_values(tags)
    fields, plain = mapping.split_tags(tags)
    run_name = body.get("run_name") or fields.get(mapping.RUN_NAME_TAG)
    parent = fields.get(mapping.PARENT_RUN_TAG)
    if parent is not None:
        run_document(access.store, parent)
    new = NewRun(
        run_id=uuid.uuid4().hex,
        experiment_name=experiment.name,
        parent_run_id=parent,
        status=Status.RUNNING,
        display_name=run_name,
        description=fields.get(mapping.NOTE_TAG),
        run_type="mlflow",
        submitted_by=fields.get(mapping.USER_TAG) or body.get("user_id"),
        tags=validate_tags(plain, access.store.limits),
    )
    [doc] = access.store.create_runs([new])
    return {"run": _run_message(access.store, doc)}


@route("GET", "runs/get", Role.READER)
def get_run(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    run_id = string(body, "run_id", required=False) or string(body, "run_uuid")
    assert run_id is not None
    message = _run_message(access.store, run_document(access.store, run_id))
    if isinstance(access.store, LoggedModelStore):
        mapping.add_model_links(message, access.store.logged_model_links(run_id))
    return {"run": message}


@route("POST", "runs/update", Role.CONTRIBUTOR)
def update_run(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    run_id = string(body, "run_id", required=False) or string(body, "run_uuid")
    assert run_id is not None
    doc = active_run(access.store, run_id)
    if body.get("run_name"):
        access.store.update_run(run_id, display_name=str(body["run_name"]))
    if body.get("status"):
        try:
            wanted = mapping.status_to_runyard(str(body["status"]))
        except ValueError as exc:
            raise invalid(str(exc)) from None
        # A submitted run's status is its runner's: a script's `mlflow.end_run()` (or
        # Lightning's finalize) must not end the run, nor make the runner stop the script.
        if wanted != doc.status and doc.run_type != RUNNER_OWNED:
            access.store.set_status(run_id, wanted)
    return {"run_info": mapping.run_info_to_mlflow(access.store.get_run(run_id))}


def _metric_batch(item: object) -> tuple[str, PointBatch]:
    if not isinstance(item, dict):
        raise invalid(f"Invalid metric {item!r}: expected an object")
    key = item.get("key")
    if not isinstance(key, str) or not key:
        raise invalid("Missing value for required parameter 'key'.")
    if item.get("value") is None:
        raise invalid(f"Missing value for required parameter 'value' of metric '{key}'.")
    try:
        value = mapping.metric_value_from_json(item["value"])
    except ValueError as exc:
        raise invalid(f"Invalid value for metric '{key}': {exc}") from None
    timestamp = item.get("timestamp")
    if timestamp is None or isinstance(timestamp, bool):
        raise invalid(f"Missing value for required parameter 'timestamp' of metric '{key}'.")
    try:
        step = int(item.get("step") or 0)
        seconds = mapping.ms_to_seconds(int(timestamp))
    except (TypeError, ValueError):
        raise invalid(f"Invalid step or timestamp for metric '{key}': expected integers") from None
    return key, PointBatch(
        name=key, kind=MetricKind.SCALAR, steps=[step], values=[value], times=[seconds]
    )


def _merged(batches: list[PointBatch]) -> list[PointBatch]:
    """The points grouped per metric (one batch each), in their order."""
    merged: dict[str, PointBatch] = {}
    for batch in batches:
        into = merged.setdefault(batch.name, PointBatch(name=batch.name, kind=MetricKind.SCALAR))
        into.steps.extend(batch.steps)
        into.values.extend(batch.values)
        into.times.extend(batch.times)
    return list(merged.values())


def _log_points(store: TrackingStore, run_id: str, batches: list[PointBatch]) -> None:
    """Points grouped per metric, in one transaction."""
    if batches:
        store.log_points(run_id, _merged(batches))


def _log_points_if_active(store: TrackingStore, run_id: str, batches: list[PointBatch]) -> None:
    """Points of a metrics-only call: the run's check (exists, not deleted) and the points in
    one transaction, without loading its document (the hot path of every training step)."""
    try:
        lifecycle_store(store).log_points_if_active(run_id, _merged(batches))
    except NotFoundError:
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Run '{run_id}' not found") from None


def active_run(store: TrackingStore, run_id: str) -> RunDocument:
    """A run that may be written to: a deleted run is read-only until restored, as in MLflow."""
    doc = run_document(store, run_id)
    if doc.deleted_utc is not None:
        raise invalid(f"The run {run_id} must be in the 'active' state. Current state is deleted.")
    return doc


@route("POST", "runs/log-metric", Role.CONTRIBUTOR)
def log_metric(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    run_id = string(body, "run_id", required=False) or string(body, "run_uuid")
    assert run_id is not None
    _, batch = _metric_batch(body)
    _log_points_if_active(access.store, run_id, [batch])
    return {}


def _params(store: TrackingStore, run_id: str, params: dict[str, str]) -> None:
    for _key, value in params.items():
        if len(value) > MAX_PARAM_VALUE_LENGTH:
            raise invalid(
                f"Param value '{value[:20]}...' had length {len(value)}, which exceeded length "
                f"limit of {MAX_PARAM_VALUE_LENGTH}"
            )
    store.log_params(run_id, validate_params(params, store.limits))


@route("POST", "runs/log-parameter", Role.CONTRIBUTOR)
def log_parameter(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    run_id = string(body, "run_id", required=False) or string(body, "run_uuid")
    assert run_id is not None
    key = string(body, "key")
    assert key is not None
    value = body.get("value")
    if value is None:
        raise invalid("Missing value for required parameter 'value'.")
    active_run(access.store, run_id)
    _params(access.store, run_id, {key: str(value)})
    return {}


def _set_tags(store: TrackingStore, doc: RunDocument, tags: dict[str, str]) -> None:
    """Plain tags into runyard tags; the system tags runyard holds as fields into the fields."""
    _check_tag_values(tags)
    fields, plain = mapping.split_tags(tags)
    if mapping.RUN_NAME_TAG in fields or mapping.NOTE_TAG in fields:
        store.update_run(
            doc.run_id,
            display_name=fields.get(mapping.RUN_NAME_TAG),
            description=fields.get(mapping.NOTE_TAG),
        )
    for tag, current in (
        (mapping.PARENT_RUN_TAG, doc.parent_run_id),
        (mapping.USER_TAG, doc.submitted_by),
    ):
        if tag in fields and fields[tag] != current:
            raise invalid(f"'{tag}' is fixed when a run is created (it is {current!r})")
    if plain:
        store.set_tags(doc.run_id, validate_tags(plain, store.limits))


@route("POST", "runs/set-tag", Role.CONTRIBUTOR)
def set_tag(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    run_id = string(body, "run_id", required=False) or string(body, "run_uuid")
    assert run_id is not None
    key = string(body, "key")
    assert key is not None
    value = body.get("value")
    if value is None:
        raise invalid("Missing value for required parameter 'value'.")
    _set_tags(access.store, active_run(access.store, run_id), {key: str(value)})
    return {}


@route("POST", "runs/delete-tag", Role.CONTRIBUTOR)
def delete_tag(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    run_id = string(body, "run_id")
    key = string(body, "key")
    assert run_id is not None and key is not None
    doc = active_run(access.store, run_id)
    if key not in mapping.run_tags(doc):
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"No tag with name: {key} in run with id {run_id}"
        )
    if key in mapping.FIELD_TAGS:
        raise invalid(f"'{key}' is a field of the runyard run and cannot be deleted")
    access.store.remove_tags(run_id, [key])
    return {}


@route("POST", "runs/log-batch", Role.CONTRIBUTOR)
def log_batch(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    run_id = string(body, "run_id")
    assert run_id is not None
    metrics = body.get("metrics") or []
    params = body.get("params") or []
    tags = body.get("tags") or []
    if not all(isinstance(x, list) for x in (metrics, params, tags)):
        raise invalid("metrics, params and tags must be lists")
    if len(metrics) > MAX_BATCH_METRICS:
        raise invalid(
            f"A batch logging request can contain at most {MAX_BATCH_METRICS} metrics. "
            f"Got {len(metrics)} metrics. Please split up metrics across multiple requests "
            "and try again."
        )
    if len(params) + len(tags) > MAX_BATCH_PARAMS_TAGS:
        raise invalid(
            f"A batch logging request can contain at most {MAX_BATCH_PARAMS_TAGS} params and "
            f"tags combined. Got {len(params)} params and {len(tags)} tags."
        )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_BATCH_ENTITIES:
        raise invalid(
            f"A batch logging request can contain at most {MAX_BATCH_ENTITIES} total "
            f"metrics, params and tags. Got {total} total entities."
        )
    # Everything is checked before anything is written: a refused batch leaves no trace.
    batches = [_metric_batch(m)[1] for m in metrics]
    param_values = _tag_list(params, "params")
    for value in param_values.values():
        if len(value) > MAX_PARAM_VALUE_LENGTH:
            raise invalid(
                f"Param value '{value[:20]}...' had length {len(value)}, which exceeded length "
                f"limit of {MAX_PARAM_VALUE_LENGTH}"
            )
    checked_params = validate_params(param_values, access.store.limits)
    tag_values = _tag_list(tags)
    _check_tag_values(tag_values)
    if not checked_params and not tag_values:
        _log_points_if_active(access.store, run_id, batches)
        return {}
    doc = active_run(access.store, run_id)
    for key, value in checked_params.items():
        if key in doc.params and doc.params[key] != value:
            raise invalid(
                f"Changing param values is not allowed. Param with key='{key}' was already "
                f"logged with value='{doc.params[key]}' for run ID='{run_id}'. Attempted "
                f"logging new value '{value}'."
            )
    if checked_params:
        access.store.log_params(run_id, checked_params)
    if tag_values:
        _set_tags(access.store, doc, tag_values)
    _log_points(access.store, run_id, batches)
    return {}


@route("GET", "metrics/get-history", Role.READER)
def get_metric_history(access: Access, body: dict[str, Any]) -> Response:
    run_id = string(body, "run_id", required=False) or string(body, "run_uuid")
    assert run_id is not None
    key = string(body, "metric_key")
    assert key is not None
    run_document(access.store, run_id)
    token = body.get("page_token") or None
    if token is None and "max_results" not in body:
        everything, more = access.store.get_metric_series(run_id, [key]), None
    else:
        size = max_results(body, MAX_RESULTS_HISTORY, MAX_RESULTS_HISTORY)
        everything, more = access.store.get_metric_series_page(
            run_id, [key], page_token=None if token is None else str(token), page_size=size
        )
    points: list[str] = []
    for series in everything:
        if series.kind != MetricKind.SCALAR or series.column:
            continue
        try:
            points.extend(
                mapping.metric_points_json(key, series.steps, series.values, series.times)
            )
        except TypeError as exc:
            raise invalid(f"Metric '{key}' is not an MLflow metric: {exc}") from None
    token = "" if not more else f',"next_page_token":{json.dumps(more)}'
    return Response(f'{{"metrics":[{",".join(points)}]{token}}}', media_type="application/json")

"""MLflow <-> runyard: the one place that says what an MLflow entity is in runyard's terms.

An MLflow run *is* a runyard run (same id), an MLflow experiment *is* a runyard experiment
(its id as a string). MLflow's system tags that runyard holds as fields (display name,
parent, submitter, description) are stored in those fields and shown back as tags, so both
sides read the same value. The REST routes and the coming in-process plugin share this.

The model registry. An MLflow model version *is* a runyard `Model` version: same name,
same number, its description, its tags (runyard's None tag value reads as ""), its run,
its own copy of the files (made at creation from the source). runyard's data model is
versions; what MLflow keeps on the model as a whole is held beside them (migration 0009):
- registered model <-> the workspace's model row of that name. MLflow can create one
  with no versions; runyard's `Model.list` lists versions, so such a model shows in
  runyard once it has its first version. Deleting it through MLflow deletes its versions
  and their files. Renaming renames every version (their files stay where they are).
- registered-model description and tags <-> the model row's description and its own tags
  table (not the versions' tags: those are the versions' and stay apart).
- aliases <-> an alias table naming one version each; a version shows its aliases
  (`ModelVersion.aliases`, so runyard's SDK sees them); deleting the version drops them.
- current_stage <-> the version's stage (None reads as MLflow's "None"); transition-stage
  (deprecated in MLflow, still called) sets it.
- source <-> kept as given. A version registered through runyard has none: MLflow sees
  its own files' URI (`mlflow-artifacts:/models/<name>/versions/<n>[/<path>]`).
- the download URI is always the version's own copy at that path, never the source, so a
  later change to the run's files never changes a registered model.
- user_id is "" (runyard does not record who registered), status is READY (the copy is
  made before the version exists).
Model names follow runyard's (Azure's) rule, stricter than MLflow's: letters, digits,
'-', '_' and '.', starting with a letter or a digit.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

from runyard.core.entities import (
    ExperimentInfo,
    LatestPoint,
    RunCondition,
    RunDocument,
    RunInput,
    RunOrder,
)
from runyard.core.logged_models import LoggedModel, ModelLink
from runyard.core.registry import ModelVersion, RegisteredModel
from runyard.core.status import Status
from runyard.mlflow.artifact_paths import logged_model_artifact_uri, run_artifact_uri
from runyard.mlflow.errors import invalid
from runyard.mlflow.search import Clause, Order

RUN_NAME_TAG = "mlflow.runName"
PARENT_RUN_TAG = "mlflow.parentRunId"
USER_TAG = "mlflow.user"
NOTE_TAG = "mlflow.note.content"
#: System tags held as runyard run fields, never as runyard tags.
FIELD_TAGS = frozenset({RUN_NAME_TAG, PARENT_RUN_TAG, USER_TAG, NOTE_TAG})

_TO_RUNYARD = {
    "RUNNING": Status.RUNNING,
    "SCHEDULED": Status.QUEUED,
    "FINISHED": Status.COMPLETED,
    "FAILED": Status.FAILED,
    "KILLED": Status.CANCELED,
}
_TO_MLFLOW = {
    Status.NOT_STARTED: "SCHEDULED",
    Status.QUEUED: "SCHEDULED",
    Status.PREPARING: "SCHEDULED",
    Status.STARTING: "SCHEDULED",
    Status.RUNNING: "RUNNING",
    Status.NOT_RESPONDING: "RUNNING",
    Status.FINALIZING: "RUNNING",
    Status.CANCEL_REQUESTED: "RUNNING",
    Status.COMPLETED: "FINISHED",
    Status.FAILED: "FAILED",
    Status.CANCELED: "KILLED",
}
MLFLOW_STATUSES = tuple(_TO_RUNYARD)


def status_to_runyard(status: str) -> Status:
    """The runyard status of an MLflow RunStatus name (ValueError names the allowed ones)."""
    try:
        return _TO_RUNYARD[status]
    except KeyError:
        raise ValueError(
            f"invalid run status {status!r}; allowed: {', '.join(MLFLOW_STATUSES)}"
        ) from None


def status_to_mlflow(status: Status) -> str:
    """The MLflow RunStatus name of a runyard status (active states read as RUNNING)."""
    return _TO_MLFLOW[status]


def experiment_id_to_mlflow(experiment_id: int) -> str:
    """MLflow's experiment ids are strings: runyard's number as text."""
    return str(experiment_id)


def experiment_id_to_runyard(experiment_id: str) -> int:
    """runyard's number of an MLflow experiment id (ValueError when it is not one)."""
    if not isinstance(experiment_id, str) or not experiment_id.isdigit():
        raise ValueError(f"invalid experiment id {experiment_id!r}: expected a number as text")
    return int(experiment_id)


def to_ms(when: datetime | None) -> int | None:
    """MLflow's timestamps are integer milliseconds since the epoch."""
    return None if when is None else round(when.timestamp() * 1000)


def ms_to_seconds(ms: int) -> float:
    """runyard stores point times as float seconds since the epoch."""
    return ms / 1000.0


def seconds_to_ms(seconds: float) -> int:
    """The MLflow timestamp of a runyard point time."""
    return round(seconds * 1000)


def split_tags(tags: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """MLflow tags -> (runyard field values by system tag, plain tags)."""
    fields = {k: v for k, v in tags.items() if k in FIELD_TAGS}
    plain = {k: v for k, v in tags.items() if k not in FIELD_TAGS}
    return fields, plain


def run_tags(doc: RunDocument) -> dict[str, str]:
    """The MLflow tags of a run: its runyard tags plus the system tags its fields hold."""
    tags = {k: ("" if v is None else v) for k, v in doc.tags.items()}
    if doc.display_name is not None:
        tags[RUN_NAME_TAG] = doc.display_name
    if doc.parent_run_id is not None:
        tags[PARENT_RUN_TAG] = doc.parent_run_id
    if doc.submitted_by is not None:
        tags[USER_TAG] = doc.submitted_by
    if doc.description is not None:
        tags[NOTE_TAG] = doc.description
    return tags


def metric_value_to_json(stored: object) -> float | str:
    """MLflow's JSON spells the non-finite values "NaN", "Infinity" and "-Infinity"."""
    if not isinstance(stored, (int, float)):
        raise TypeError(f"an MLflow metric is a number; runyard holds {stored!r}")
    value = float(stored)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


_NON_FINITE_JSON = {"nan": '"NaN"', "inf": '"Infinity"', "-inf": '"-Infinity"'}


def _number_texts(items: list[Any]) -> list[str]:
    """Each number's text, written by the list's C repr in one call (a float's repr is JSON
    but for nan and ±inf, which the caller spells MLflow's way)."""
    if not items:
        return []
    return repr(items)[1:-1].split(", ")


def metric_points_json(
    key: str, steps: list[int], values: list[Any], times: list[float]
) -> list[str]:
    """Metric messages as JSON text, one per point: a long history is written straight to
    text, each column encoded in one call, rather than through a dict per point."""
    numbers = []
    for value in values:
        if type(value) is float or type(value) is int:
            numbers.append(value)
        elif isinstance(value, (int, float)):  # bool: MLflow's metrics are numbers
            numbers.append(float(value))
        else:
            raise TypeError(f"an MLflow metric is a number; runyard holds {value!r}")
    texts = [_NON_FINITE_JSON.get(t, t) for t in _number_texts(numbers)]
    stamps = _number_texts([round(t * 1000) for t in times])
    head = f'{{"key":{json.dumps(key)},"value":'
    return [
        f'{head}{v},"timestamp":{t},"step":{s}}}'
        for v, t, s in zip(texts, stamps, _number_texts(steps), strict=True)
    ]


def metric_value_from_json(value: object) -> float:
    """A metric value as MLflow's clients send it (number or the non-finite spellings)."""
    if isinstance(value, bool):
        raise ValueError(f"metric value must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity", "inf", "-inf", "nan"):
        return float(value.replace("Infinity", "inf"))
    raise ValueError(f"metric value must be a number, got {value!r}")


def experiment_to_mlflow(info: ExperimentInfo) -> dict[str, Any]:
    """An MLflow Experiment message; archived runyard experiments are MLflow's deleted ones."""
    created = to_ms(info.created_utc)
    updated = to_ms(info.last_activity_utc) or created
    return {
        "experiment_id": experiment_id_to_mlflow(info.experiment_id),
        "name": info.name,
        "artifact_location": f"mlflow-artifacts:/{info.experiment_id}",
        "lifecycle_stage": "deleted" if info.archived else "active",
        "creation_time": created,
        "last_update_time": updated,
        "tags": [{"key": k, "value": v} for k, v in sorted(info.tags.items())],
    }


def run_info_to_mlflow(doc: RunDocument) -> dict[str, Any]:
    """An MLflow RunInfo message of a runyard run document."""
    info: dict[str, Any] = {
        "run_id": doc.run_id,
        "run_uuid": doc.run_id,
        "run_name": doc.display_name or "",
        "experiment_id": experiment_id_to_mlflow(doc.experiment_id),
        "user_id": doc.submitted_by or "",
        "status": status_to_mlflow(doc.status),
        "start_time": to_ms(doc.start_time_utc or doc.created_utc),
        "artifact_uri": run_artifact_uri(doc.run_id),
        "lifecycle_stage": "deleted" if doc.deleted_utc is not None else "active",
    }
    end = to_ms(doc.end_time_utc)
    if end is not None:
        info["end_time"] = end
    return info


def latest_to_mlflow(points: list[LatestPoint]) -> list[dict[str, Any]]:
    """MLflow's latest metrics of a run (Metric messages)."""
    return [
        {
            "key": p.name,
            "value": metric_value_to_json(p.value),
            "timestamp": seconds_to_ms(p.time),
            "step": p.step,
        }
        for p in points
    ]


def run_to_mlflow(
    doc: RunDocument, points: list[LatestPoint], inputs: list[RunInput] | None = None
) -> dict[str, Any]:
    """An MLflow Run message: info, data (latest metrics, params, tags) and inputs."""
    run_inputs: dict[str, Any] = {}
    if inputs:
        run_inputs["dataset_inputs"] = [input_to_mlflow(i) for i in inputs]
    return {
        "info": run_info_to_mlflow(doc),
        "data": {
            "metrics": latest_to_mlflow(points),
            "params": [{"key": k, "value": v} for k, v in doc.params.items()],
            "tags": [{"key": k, "value": v} for k, v in run_tags(doc).items()],
        },
        "inputs": run_inputs,
    }


# The model registry
#: MLflow's stages, canonical spelling first (transition-stage takes any case).
STAGES = ("None", "Staging", "Production", "Archived")
#: The stages get-latest-versions answers when none are asked.
ACTIVE_STAGES = ("Staging", "Production")
MODEL_FILES_ROOT = "models"


def canonical_stage(stage: str) -> str:
    """MLflow's spelling of a stage given in any case (ValueError names the allowed ones)."""
    for known in STAGES:
        if stage.lower() == known.lower():
            return known
    raise ValueError(f"Invalid Model Version stage: {stage}. Value must be one of {list(STAGES)}.")


def model_version_path(name: str, version: int) -> str:
    """The path of a version's own files under MLflow's artifact proxy."""
    return f"{MODEL_FILES_ROOT}/{name}/versions/{version}"


def model_version_download_uri(version: ModelVersion) -> str:
    """Where an MLflow client downloads a version from: its own copy, at its folder when it
    is one (where MLflow's MLmodel file sits), else at the version's root."""
    uri = f"mlflow-artifacts:/{model_version_path(version.name, version.version)}"
    if any(f.startswith(version.path + "/") for f in version.files):
        uri = f"{uri}/{version.path}"
    return uri


def model_version_to_mlflow(version: ModelVersion) -> dict[str, Any]:
    """An MLflow ModelVersion message of a runyard model version."""
    message: dict[str, Any] = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": to_ms(version.created_time),
        "last_updated_timestamp": to_ms(version.last_updated_time or version.created_time),
        "user_id": "",
        "current_stage": version.stage or "None",
        "description": version.description or "",
        "source": version.source or model_version_download_uri(version),
        "run_id": version.run_id or "",
        "status": "READY",
        "tags": [
            {"key": k, "value": "" if v is None else v} for k, v in sorted(version.tags.items())
        ],
        "aliases": list(version.aliases),
    }
    if version.run_link:
        message["run_link"] = version.run_link
    if version.logged_model_id:
        message["model_id"] = version.logged_model_id
    return message


def latest_per_stage(versions: list[ModelVersion]) -> list[ModelVersion]:
    """MLflow's latest_versions: the newest version in each stage, by stage order."""
    newest: dict[str, ModelVersion] = {}
    for version in versions:
        stage = version.stage or "None"
        if stage not in newest or version.version > newest[stage].version:
            newest[stage] = version
    return [newest[s] for s in STAGES if s in newest]


def registered_model_to_mlflow(
    model: RegisteredModel, versions: list[ModelVersion]
) -> dict[str, Any]:
    """An MLflow RegisteredModel message: the model's own fields and its latest versions."""
    message: dict[str, Any] = {
        "name": model.name,
        "creation_timestamp": to_ms(model.created_time),
        "last_updated_timestamp": to_ms(model.last_updated_time),
        "user_id": "",
        "description": model.description or "",
        "latest_versions": [model_version_to_mlflow(v) for v in latest_per_stage(versions)],
        "tags": [
            {"key": k, "value": "" if v is None else v} for k, v in sorted(model.tags.items())
        ],
        "aliases": [
            {"alias": alias, "version": str(number)} for alias, number in model.aliases.items()
        ],
    }
    return message


_LOGGED_MODEL_STATUS_TO_MLFLOW = {
    "PENDING": "LOGGED_MODEL_PENDING",
    "READY": "LOGGED_MODEL_READY",
    "FAILED": "LOGGED_MODEL_UPLOAD_FAILED",
}
_LOGGED_MODEL_STATUS_TO_RUNYARD = {v: k for k, v in _LOGGED_MODEL_STATUS_TO_MLFLOW.items()}


def logged_model_status_to_runyard(status: object) -> str:
    """runyard's name of an MLflow LoggedModelStatus (ValueError names the allowed ones)."""
    if isinstance(status, str) and status in _LOGGED_MODEL_STATUS_TO_RUNYARD:
        return _LOGGED_MODEL_STATUS_TO_RUNYARD[status]
    raise ValueError(
        f"invalid logged model status {status!r}; allowed: "
        + ", ".join(_LOGGED_MODEL_STATUS_TO_RUNYARD)
    )


def logged_model_to_mlflow(model: LoggedModel) -> dict[str, Any]:
    """An MLflow LoggedModel message: info and data (params; metrics are not kept yet)."""
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": experiment_id_to_mlflow(model.experiment_id),
        "name": model.name,
        "creation_timestamp_ms": seconds_to_ms(model.creation_time),
        "last_updated_timestamp_ms": seconds_to_ms(model.last_updated_time),
        "artifact_uri": logged_model_artifact_uri(model.model_id),
        "status": _LOGGED_MODEL_STATUS_TO_MLFLOW[model.status],
        "tags": [{"key": k, "value": v} for k, v in model.tags.items()],
    }
    for key in ("model_type", "source_run_id", "status_message"):
        value = getattr(model, key)
        if value is not None:
            info[key] = value
    return {
        "info": info,
        "data": {"params": [{"key": k, "value": v} for k, v in model.params.items()]},
    }


def add_model_links(message: dict[str, Any], links: list[ModelLink]) -> dict[str, Any]:
    """A Run message with the logged models the run took in and put out (MLflow 3's
    `inputs.model_inputs` and `outputs.model_outputs`)."""
    inputs = [{"model_id": link.model_id} for link in links if link.direction == "input"]
    outputs = [
        {"model_id": link.model_id, "step": link.step}
        for link in links
        if link.direction == "output"
    ]
    if inputs:
        message.setdefault("inputs", {})["model_inputs"] = inputs
    if outputs:
        message["outputs"] = {"model_outputs": outputs}
    return message


#: The fields of MLflow's Dataset message (name and digest are required).
DATASET_FIELDS = ("name", "digest", "source_type", "source", "schema", "profile")
DATASET_LIMITS = {"name": 500, "digest": 36, "source_type": 36, "source": 65535}


def input_from_mlflow(item: object) -> RunInput:
    """A DatasetInput message as runyard keeps it (INVALID_PARAMETER_VALUE when malformed)."""
    if not isinstance(item, dict) or not isinstance(item.get("dataset"), dict):
        raise invalid(f"Invalid dataset input {item!r}: expected {{'dataset': {{...}}, 'tags'}}")
    dataset = item["dataset"]
    for required in ("name", "digest", "source_type", "source"):
        if not isinstance(dataset.get(required), str) or not dataset[required]:
            raise invalid(f"Missing value for required parameter 'dataset.{required}'.")
    for key, most in DATASET_LIMITS.items():
        if len(dataset[key]) > most:
            raise invalid(
                f"Dataset {key} '{dataset[key][:20]}...' had length {len(dataset[key])}, "
                f"which exceeded length limit of {most}"
            )
    tags = item.get("tags") or []
    if not isinstance(tags, list) or not all(
        isinstance(t, dict) and isinstance(t.get("key"), str) for t in tags
    ):
        raise invalid(f"Invalid tags of dataset input {dataset['name']!r}: expected key/values")
    return RunInput(
        name=dataset["name"],
        digest=dataset["digest"],
        dataset={k: str(dataset[k]) for k in DATASET_FIELDS if dataset.get(k) is not None},
        tags={t["key"]: str(t.get("value", "")) for t in tags},
    )


def input_to_mlflow(item: RunInput) -> dict[str, Any]:
    """The DatasetInput message of a run input."""
    return {
        "tags": [{"key": k, "value": v} for k, v in item.tags.items()],
        "dataset": dict(item.dataset),
    }


def lifecycle_of(view: str) -> str:
    """runyard's RunFilter.lifecycle for MLflow's ViewType."""
    return {"ACTIVE_ONLY": "active", "DELETED_ONLY": "deleted", "ALL": "all"}[view]


_TAG_FIELDS = {
    RUN_NAME_TAG: "display_name",
    USER_TAG: "submitted_by",
    PARENT_RUN_TAG: "parent_run_id",
    NOTE_TAG: "description",
}
_ATTRIBUTE_FIELDS = {
    "run_id": "run_id",
    "run_name": "display_name",
    "status": "status",
    "user_id": "submitted_by",
    "experiment_id": "experiment_id",
    "start_time": "start_time",
    "end_time": "end_time",
    "lifecycle_stage": "deleted",
}


def _like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE if ignore_case else 0)


def _mlflow_statuses(clause: Clause) -> list[str]:
    """The MLflow status names a status clause accepts."""
    if clause.op in ("IN", "NOT IN"):
        assert isinstance(clause.value, tuple)
        chosen = [s for s in MLFLOW_STATUSES if s in clause.value]
        return chosen if clause.op == "IN" else [s for s in MLFLOW_STATUSES if s not in chosen]
    wanted = str(clause.value)
    if clause.op in ("LIKE", "ILIKE"):
        regex = _like_regex(wanted, clause.op == "ILIKE")
        return [s for s in MLFLOW_STATUSES if regex.match(s)]
    if clause.op == "!=":
        return [s for s in MLFLOW_STATUSES if s != wanted]
    return [s for s in MLFLOW_STATUSES if s == wanted]


def _time_conditions(field: str, op: str, ms: float) -> list[RunCondition]:
    """A comparison of MLflow's integer milliseconds with runyard's float seconds: a time
    compares as the millisecond it rounds to, as MLflow's run messages show it."""
    low, high = (ms - 0.5) / 1000, (ms + 0.5) / 1000
    bounds: dict[str, list[tuple[Any, float]]] = {
        ">": [(">=", high)],
        ">=": [(">=", low)],
        "<": [("<", low)],
        "<=": [("<", high)],
        "=": [(">=", low), ("<", high)],
    }
    if op not in bounds:
        raise invalid(f"Invalid comparator '{op}' for '{field}': use <, <=, >, >= or =")
    return [RunCondition(section="attribute", key=field, op=o, value=v) for o, v in bounds[op]]


def run_conditions(clauses: list[Clause]) -> tuple[RunCondition, ...]:
    """runyard's search conditions for MLflow's parsed search_runs filter."""
    found: list[RunCondition] = []
    for c in clauses:
        section, key = c.entity, c.key
        if section == "tag" and key in _TAG_FIELDS:
            section, key = "attribute", _TAG_FIELDS[key]
        elif section == "attribute":
            if key not in _ATTRIBUTE_FIELDS:
                raise invalid(f"Searching on attribute '{key}' is not supported by runyard")
            key = _ATTRIBUTE_FIELDS[key]
        if section == "attribute" and key == "status":
            runyard = [s.value for s in Status if _TO_MLFLOW[s] in _mlflow_statuses(c)]
            found.append(
                RunCondition(section="attribute", key="status", op="IN", value=tuple(runyard))
            )
            continue
        if section == "attribute" and key in ("start_time", "end_time"):
            assert isinstance(c.value, float)
            found.extend(_time_conditions(key, c.op, c.value))
            continue
        if section == "attribute" and key == "deleted":
            if c.op not in ("=", "!="):
                raise invalid("lifecycle_stage compares with = or != only")
            deleted = "true" if c.value == "deleted" else "false"
            if c.op == "!=":
                deleted = "false" if deleted == "true" else "true"
            found.append(RunCondition(section="attribute", key="deleted", op="=", value=deleted))
            continue
        value = c.value
        if section == "attribute" and key == "experiment_id" and isinstance(value, str):
            if not value.isdigit():
                raise invalid(f"Invalid experiment id {value!r}")
            value = float(value)
        found.append(RunCondition(section=section, key=key, op=c.op, value=value))
    return tuple(found)


def run_orders(orders: list[Order]) -> tuple[RunOrder, ...]:
    """runyard's sort terms for MLflow's order_by (MLflow's default: newest start first)."""
    found: list[RunOrder] = []
    for o in orders:
        section, key = o.entity, o.key
        if section == "tag" and key in _TAG_FIELDS:
            section, key = "attribute", _TAG_FIELDS[key]
        elif section == "attribute":
            if key not in _ATTRIBUTE_FIELDS:
                raise invalid(f"Ordering by attribute '{key}' is not supported by runyard")
            key = _ATTRIBUTE_FIELDS[key]
        found.append(RunOrder(section=section, key=key, ascending=o.ascending))
    if not found:
        found.append(RunOrder(section="attribute", key="start_time", ascending=False))
    return tuple(found)

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

import math
from datetime import datetime
from typing import Any

from runyard.core.entities import ExperimentInfo, RunDocument
from runyard.core.logged_models import LoggedModel, ModelLink
from runyard.core.registry import ModelVersion, RegisteredModel
from runyard.core.status import Status
from runyard.mlflow.artifact_paths import logged_model_artifact_uri, run_artifact_uri

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
        "tags": [],
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
        "lifecycle_stage": "active",
    }
    end = to_ms(doc.end_time_utc)
    if end is not None:
        info["end_time"] = end
    return info


def run_to_mlflow(doc: RunDocument, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """An MLflow Run message: info and data (latest metrics, params, tags)."""
    return {
        "info": run_info_to_mlflow(doc),
        "data": {
            "metrics": metrics,
            "params": [{"key": k, "value": v} for k, v in doc.params.items()],
            "tags": [{"key": k, "value": v} for k, v in run_tags(doc).items()],
        },
        "inputs": {},
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

"""MLflow 3's logged models: a model a run produced, with its own files, tags and params.

runyard keeps them as MLflow defines them (experiment, optional source run, status
PENDING until finalized READY or FAILED, deletable); their files live in the artifact
store under `core.paths.logged_model_prefix`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from runyard.core.errors import ValidationError

#: MLflow's LoggedModelStatus names.
LOGGED_MODEL_STATUSES = ("PENDING", "READY", "FAILED")
_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")


def new_logged_model_id() -> str:
    """A fresh id in MLflow's form: `m-` and 32 hex digits."""
    return f"m-{uuid.uuid4().hex}"


def validate_logged_model_id(model_id: object) -> str:
    """A logged model id as runyard makes them (`m-` and 32 lowercase hex digits)."""
    if not isinstance(model_id, str) or not _MODEL_ID.fullmatch(model_id):
        raise ValidationError(
            f"invalid logged model id {model_id!r}: 'm-' followed by 32 lowercase hex digits"
        )
    return model_id


def validate_logged_model_status(status: object) -> str:
    """One of MLflow's LoggedModelStatus names."""
    if status not in LOGGED_MODEL_STATUSES:
        raise ValidationError(
            f"invalid logged model status {status!r}; allowed: {', '.join(LOGGED_MODEL_STATUSES)}"
        )
    return str(status)


@dataclass
class LoggedModel:
    """One logged model as the store holds it (times are seconds since the epoch)."""

    model_id: str
    experiment_id: int
    name: str
    source_run_id: str | None
    status: str
    status_message: str | None
    model_type: str | None
    creation_time: float
    last_updated_time: float
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    deleted: bool = False


@dataclass(frozen=True)
class ModelLink:
    """A logged model a run took as input or produced as output (MLflow's log-inputs /
    log-outputs), at a step."""

    run_id: str
    model_id: str
    direction: str
    step: int

"""Rules for experiment names and run ids, which also name storage prefixes."""

from __future__ import annotations

import re

from runyard.core.errors import LimitExceededError, ValidationError

#: The workspace of a database that names none (and of a local folder).
DEFAULT_WORKSPACE = "default"
#: Where a server answers MLflow's REST API for a workspace other than the default one:
#: tracking URI http://host:port/mlflow/<workspace> (the default one answers at the root).
MLFLOW_WORKSPACE_PREFIX = "/mlflow"

_EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def validate_experiment_name(name: object, max_length: int = 255) -> str:
    """Azure ML's rule: 1-255 letters, digits, '_' or '-', starting with a letter or digit."""
    if not isinstance(name, str):
        raise ValidationError(f"experiment name must be a string, got {type(name).__name__}")
    if len(name) > max_length:
        raise LimitExceededError(
            f"experiment name is {len(name)} characters long; the limit is {max_length}"
        )
    if not _EXPERIMENT_NAME.fullmatch(name):
        raise ValidationError(
            f"invalid experiment name {name!r}: use 1-{max_length} letters, digits, '_' or '-', "
            "starting with a letter or a digit"
        )
    return name


def validate_run_id(run_id: object) -> str:
    """Run ids are uuids or `<experiment>_<unix time>_<8 hex>`; any id given must be as tame."""
    if not isinstance(run_id, str):
        raise ValidationError(f"run id must be a string, got {type(run_id).__name__}")
    if len(run_id) > 255:
        raise LimitExceededError(f"run id is {len(run_id)} characters long; the limit is 255")
    if not _RUN_ID.fullmatch(run_id):
        raise ValidationError(
            f"invalid run id {run_id!r}: use letters, digits, '_', '.' or '-', starting with a "
            "letter or a digit"
        )
    return run_id


def validate_workspace_name(name: object) -> str:
    """Workspace names follow the experiment rule: letters, digits, '_' or '-'."""
    if isinstance(name, str) and len(name) > 255:
        raise LimitExceededError(f"workspace name is {len(name)} characters long; the limit is 255")
    if not isinstance(name, str) or not _EXPERIMENT_NAME.fullmatch(name):
        raise ValidationError(
            f"invalid workspace name {name!r}: use 1-255 letters, digits, '_' or '-', "
            "starting with a letter or a digit"
        )
    return name

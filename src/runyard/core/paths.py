"""Validation of artifact names and run prefixes, so that no file can land outside its run.

Pure string work, no I/O: the artifact store calls these on every path it is given, and the
server can call them to reject a bad request before touching storage.
"""

from __future__ import annotations

import os.path
import re
import unicodedata

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits

# "C:" or "c:foo" is a Windows drive (absolute, or relative to that drive's current folder).
_DRIVE = re.compile(r"^[A-Za-z]:")
_PREFIX_COMPONENT = re.compile(r"[A-Za-z0-9._-]+")
#: Names of the temporary files of writes in progress; no stored file may take one.
PARTIAL_PREFIX = ".runyard-partial-"


def validate_artifact_name(name: object, limits: Limits) -> str:
    """Return `name` as a normalised POSIX path relative to a run, or raise if it could escape.

    Backslashes become '/', and '.' components and repeated '/' are collapsed; '..' is
    rejected rather than resolved, because a name that climbs is a mistake or an attack.
    """
    if not isinstance(name, str):
        raise ValidationError(f"an artifact name must be a string, got {type(name).__name__}")
    if not name:
        raise ValidationError("an artifact name must not be empty")
    if len(name) > limits.max_file_name_length:
        raise LimitExceededError(
            f"artifact name is {len(name)} characters long; the limit is "
            f"{limits.max_file_name_length}: {name[:40]!r}…"
        )
    for index, char in enumerate(name):
        # Category Cc is C0 (incl. NUL), DEL and C1: invisible in listings, fatal to some stores.
        if unicodedata.category(char) == "Cc":
            raise ValidationError(
                f"artifact name {name!r} has the control character {char!r} at position {index}; "
                "names may only hold printable characters"
            )
    posix = name.replace("\\", "/")
    if posix.startswith("/"):
        raise ValidationError(
            f"artifact name {name!r} is absolute; give a path relative to the run, "
            "like 'outputs/model.pt'"
        )
    parts = [part for part in posix.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValidationError(
            f"artifact name {name!r} has a '..' component; names must stay inside the run"
        )
    if not parts:
        raise ValidationError(f"artifact name {name!r} names no file (only '.' and '/')")
    normalised = "/".join(parts)
    if any(part.startswith(PARTIAL_PREFIX) for part in parts):
        raise ValidationError(
            f"artifact name {name!r} uses the reserved prefix {PARTIAL_PREFIX!r} (runyard's "
            "files of writes in progress); choose another name"
        )
    # Checked after collapsing, so that "./C:/x" cannot become the drive path "C:/x".
    if _DRIVE.match(normalised):
        raise ValidationError(
            f"artifact name {name!r} starts with a drive; give a path relative to the run, "
            "like 'outputs/model.pt'"
        )
    return normalised


def is_within(resolved: str, resolved_root: str) -> bool:
    """Whether a fully resolved path lies inside a fully resolved folder: the test a symlink
    must pass to be uploaded with its folder (the caller resolves; this is string work)."""
    try:
        return os.path.commonpath([resolved, resolved_root]) == resolved_root
    except ValueError:  # one absolute and one relative, or different drives
        return False


def validate_run_prefix(prefix: str) -> str:
    """Return `prefix` (like 'experiments/12/runs/<uuid>') if it is a safe storage prefix.

    Prefixes are made by runyard, not typed by users, so the rule is strict: components of
    letters, digits, '.', '_' and '-' joined by single '/', with no '.' or '..' components.
    """
    if not isinstance(prefix, str):
        raise ValidationError(f"a run prefix must be a string, got {type(prefix).__name__}")
    components = prefix.split("/")
    for component in components:
        if not _PREFIX_COMPONENT.fullmatch(component) or component in (".", ".."):
            raise ValidationError(
                f"run prefix {prefix!r} is malformed at {component!r}; a prefix is components of "
                "letters, digits, '.', '_' and '-' (not '.' or '..') joined by single '/'"
            )
    return prefix


# Where things live in the artifact store: built here and nowhere else. Experiment names
# start with a letter or digit, so the '_' of the model prefixes cannot meet a run's.
MODELS_PREFIX = "_models"
MODEL_UPLOADS_PREFIX = "_model_uploads"
LOGGED_MODELS_PREFIX = "_logged_models"
#: The folder of a run's files that holds the logged models it produced.
LOGGED_MODELS_FOLDER = "logged-models"
_STORAGE_KEY = re.compile(r"[0-9a-f]{32}")


def validate_storage_key(key: object) -> str:
    """A model version's or upload's storage key: 32 lowercase hex digits (a uuid4)."""
    if not isinstance(key, str) or not _STORAGE_KEY.fullmatch(key):
        raise ValidationError(f"invalid storage key {key!r}: 32 lowercase hex digits")
    return key


def run_prefix(experiment_name: str, run_id: str) -> str:
    """The prefix of a run's files."""
    return validate_run_prefix(f"{experiment_name}/{run_id}")


def model_prefix(workspace: str, model_name: str, storage_key: str) -> str:
    """The prefix of one model version's files: its own, written once at registration."""
    return validate_run_prefix(
        f"{MODELS_PREFIX}/{workspace}/{model_name}/{validate_storage_key(storage_key)}"
    )


def logged_model_prefix(workspace: str, model_id: str, source_run_prefix: str | None) -> str:
    """The prefix of an MLflow logged model's files: inside its source run's files when it
    has one (so the run shows the model it produced), else a prefix of its own."""
    if source_run_prefix is not None:
        return validate_run_prefix(f"{source_run_prefix}/{LOGGED_MODELS_FOLDER}/{model_id}")
    return validate_run_prefix(f"{LOGGED_MODELS_PREFIX}/{workspace}/{model_id}")


def model_upload_prefix(workspace: str, upload_key: str) -> str:
    """Where a client's local model files wait for their registration (HTTP only)."""
    return validate_run_prefix(
        f"{MODEL_UPLOADS_PREFIX}/{workspace}/{validate_storage_key(upload_key)}"
    )

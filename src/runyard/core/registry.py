"""The model registry's vocabulary: a registered model version, what registering takes,
which versions a listing returns, and the rules for model names."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runyard.core.entities import _Document
from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits, check_length

# Azure ML's rule for model names: letters, digits, '-', '_' and '.', starting with a
# letter or a digit, at most 255 characters.
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_MODEL_NAME_LENGTH = 255
#: A model version's files are listed in its document; past this, register a zip instead.
MAX_MODEL_FILES = 10_000


def validate_model_name(name: object) -> str:
    """Return `name` if it is a valid model name, else raise saying what is allowed."""
    if not isinstance(name, str):
        raise ValidationError(f"model name must be a string, got {type(name).__name__}")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise LimitExceededError(
            f"model name is {len(name)} characters long; the limit is {MAX_MODEL_NAME_LENGTH}"
        )
    if not _MODEL_NAME.fullmatch(name):
        raise ValidationError(
            f"invalid model name {name!r}: use 1-{MAX_MODEL_NAME_LENGTH} letters, digits, '-', "
            "'_' or '.', starting with a letter or a digit"
        )
    return name


def validate_model_version(version: object) -> int:
    """Versions are whole numbers from 1; `"3"` is accepted as 3 (the CLI's NAME:3)."""
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError(f"model version must be a whole number from 1, got {version!r}")
    return version


def parse_model_id(model_id: str) -> tuple[str, int | None]:
    """`name:version` (Azure's model id) or a bare name into (name, version or None)."""
    if not isinstance(model_id, str):
        raise ValidationError(f"model id must be a string, got {type(model_id).__name__}")
    name, sep, version = model_id.rpartition(":")
    if not sep:
        return validate_model_name(model_id), None
    return validate_model_name(name), validate_model_version(version)


class ModelVersion(_Document):
    """One registered version of a model: what `Model` shows and `serialize()` returns.

    Its files are a copy made at registration, kept under the version's own storage key,
    so later changes to the run's files leave it as it was.
    """

    name: str
    version: int
    id: str
    url: str
    run_id: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    created_time: datetime
    model_framework: str | None = None
    model_framework_version: str | None = None
    tags: dict[str, str | None] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    #: The top folder or file name the files sit under ("model.pkl", "outputs", …).
    path: str
    #: Every file of the version, relative to the version ("outputs/model.pkl", …).
    files: list[str] = Field(default_factory=list)
    #: Where the files are kept in the artifact store (an opaque, per-version key).
    storage_key: str
    #: MLflow's view of the version (mlflow/mapping.py says how it maps): the aliases
    #: naming it, its stage (None: MLflow's "None"), the source URI it was created from,
    #: the MLflow logged model it came from, a link to its run, and its last change.
    aliases: list[str] = Field(default_factory=list)
    stage: str | None = None
    source: str | None = None
    logged_model_id: str | None = None
    run_link: str | None = None
    last_updated_time: datetime | None = None


class NewModelVersion(BaseModel):
    """What a caller gives to register a version; the store numbers it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    run_id: str | None = None
    description: str | None = None
    model_framework: str | None = None
    model_framework_version: str | None = None
    tags: dict[str, str | None] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)


class VersionOrigin(BaseModel):
    """What MLflow's create-model-version says of where a version came from (kept as
    given): the source URI, the logged model, a link to the run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str | None = None
    logged_model_id: str | None = None
    run_link: str | None = None


class RegisteredModel(_Document):
    """A model as a whole, as MLflow's registered model sees it: a name with a
    description, tags and aliases of its own (runyard's own API speaks of its versions)."""

    name: str
    created_time: datetime
    last_updated_time: datetime
    description: str | None = None
    tags: dict[str, str | None] = Field(default_factory=dict)
    #: alias -> version number.
    aliases: dict[str, int] = Field(default_factory=dict)


class ModelFilter(BaseModel):
    """Which versions a listing returns; every field narrows, None means "any"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    #: key -> value must match; key -> None means "has this tag, any value".
    tags: dict[str, str | None] = Field(default_factory=dict)
    properties: dict[str, str | None] = Field(default_factory=dict)
    run_id: str | None = None
    #: Only the newest version of each model (among those that match).
    latest: bool = False


def validate_new_model_version(new: NewModelVersion, limits: Limits) -> NewModelVersion:
    """Check a registration's name, texts, tags and properties (the server calls this on
    what a client sends)."""
    from runyard.core.names import validate_run_id
    from runyard.core.tags import validate_properties, validate_tags

    validate_model_name(new.name)
    if new.run_id is not None:
        validate_run_id(new.run_id)
    if new.description is not None:
        check_length(
            "description", new.description, limits.max_description_length, allow_empty=True
        )
    for what, value in (
        ("model framework", new.model_framework),
        ("model framework version", new.model_framework_version),
    ):
        if value is not None:
            check_length(what, value, 255, allow_empty=True)
    return new.model_copy(
        update={
            "tags": validate_tags(new.tags, limits),
            "properties": validate_properties(new.properties, limits),
        }
    )


def validate_model_filter(model_filter: ModelFilter, limits: Limits) -> ModelFilter:
    """Check a listing's filter: a valid name, tag and property keys that could exist."""
    from runyard.core.names import validate_run_id
    from runyard.core.tags import validate_tags

    if model_filter.name is not None:
        validate_model_name(model_filter.name)
    if model_filter.run_id is not None:
        validate_run_id(model_filter.run_id)
    validate_tags(model_filter.tags, limits)
    validate_tags(model_filter.properties, limits)
    return model_filter


def filter_pairs(given: Any, what: str) -> dict[str, str | None]:
    """Azure's tag/property filter form, `['key', ['key2', 'value']]`, or a dict, as a dict
    (key -> None means "has the key")."""
    if given is None:
        return {}
    if isinstance(given, dict):
        return {str(k): None if v is None else str(v) for k, v in given.items()}
    if isinstance(given, str) or not isinstance(given, (list, tuple)):
        raise ValidationError(
            f"{what} must be a list of keys and [key, value] pairs, or a dict; got {given!r}"
        )
    pairs: dict[str, str | None] = {}
    for item in given:
        if isinstance(item, str):
            pairs[item] = None
        elif isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
            pairs[item[0]] = str(item[1])
        else:
            raise ValidationError(f"{what} entries are a key or a [key, value] pair; got {item!r}")
    return pairs

"""How `Model` finds versions: the workspace's registry, the filters Azure's arguments make,
the version `Model(...)` names, and models already downloaded into a local folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from runyard.core.errors import ModelNotFoundError, ValidationError
from runyard.core.registry import (
    ModelFilter,
    ModelVersion,
    NewModelVersion,
    filter_pairs,
    parse_model_id,
    validate_model_name,
    validate_model_version,
)
from runyard.core.tags import validate_properties, validate_tags
from runyard.sdk.workspace import Workspace

if TYPE_CHECKING:
    from runyard.client.models import ModelRegistry


def registry_of(workspace: Workspace) -> ModelRegistry:
    """The model registry of the workspace's transport."""
    return workspace.transport.models


def new_version(
    workspace: Workspace,
    name: str,
    run_id: str | None,
    tags: dict[str, Any] | None,
    properties: dict[str, Any] | None,
    description: str | None,
    framework: str | None,
    framework_version: str | None,
) -> NewModelVersion:
    limits = workspace.limits
    return NewModelVersion(
        name=validate_model_name(name),
        run_id=run_id,
        description=description,
        model_framework=framework,
        model_framework_version=framework_version,
        tags=validate_tags(tags or {}, limits),
        properties=validate_properties(properties or {}, limits),
    )


def model_filter(
    workspace: Workspace,
    name: str | None,
    tags: Any,
    properties: Any,
    run_id: str | None,
    latest: bool,
) -> ModelFilter:
    return ModelFilter(
        name=None if name is None else validate_model_name(name),
        tags=filter_pairs(tags, "tags"),
        properties=filter_pairs(properties, "properties"),
        run_id=run_id,
        latest=latest,
    )


def find_version(
    workspace: Workspace,
    name: str | None,
    model_id: str | None,
    tags: Any,
    properties: Any,
    version: int | None,
    run_id: str | None,
    model_framework: str | None,
) -> ModelVersion:
    """The version `Model(...)` names: by id, by name (and version), newest matching."""
    if model_id is not None:
        id_name, id_version = parse_model_id(model_id)
        if name is not None and name != id_name:
            raise ValidationError(f"name {name!r} and id {model_id!r} name different models")
        name, version = id_name, id_version if id_version is not None else version
    if name is None:
        raise ValidationError("Model(workspace, ...) needs a name or an id ('name:version')")
    if version is not None:
        version = validate_model_version(version)
    registry = registry_of(workspace)
    if not (tags or properties or run_id or model_framework):
        return registry.get(name, version)
    candidates = [
        doc
        for doc in registry.list(model_filter(workspace, name, tags, properties, run_id, False))
        if (version is None or doc.version == version)
        and (model_framework is None or doc.model_framework == model_framework)
    ]
    if not candidates:
        raise ModelNotFoundError(f"no version of model {name!r} matches the filters given")
    return candidates[0]


def local_model_path(base: Path, model_name: str, version: int | None) -> str:
    """The one file or folder in `base/<name>/<version>` (the highest version when None)."""
    versions = base / model_name
    if version is None:
        numbers = sorted(int(p.name) for p in versions.glob("*") if p.name.isdigit())
        if not numbers:
            raise ModelNotFoundError(
                f"model {model_name!r} is not in {str(versions)!r}; pass _workspace= to "
                "download it from the workspace"
            )
        version = numbers[-1]
    folder = versions / str(validate_model_version(version))
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    if len(entries) != 1:
        raise ModelNotFoundError(
            f"model {model_name}:{version} is not in {str(folder)!r}; pass _workspace= "
            "to download it from the workspace"
        )
    return str(entries[0])

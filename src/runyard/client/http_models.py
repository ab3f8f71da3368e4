"""The model registry through a runyard server: the server copies the files and numbers
the version; local files are uploaded first under a key this client makes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runyard.artifacts.models import local_root
from runyard.client.http_api import Api
from runyard.client.http_files import stream_to_file
from runyard.client.models import ModelRegistry
from runyard.core.errors import NotFoundError, ValidationError
from runyard.core.limits import Limits
from runyard.core.paths import validate_artifact_name
from runyard.core.registry import (
    MAX_MODEL_FILES,
    ModelFilter,
    ModelVersion,
    NewModelVersion,
    validate_model_name,
    validate_model_version,
)


class HttpModelRegistry(ModelRegistry):
    """Registered models of a workspace on a server."""

    def __init__(self, api: Api, limits: Limits) -> None:
        self._api = api
        self._limits = limits

    def _versions(self, name: str) -> str:
        return f"/models/{validate_model_name(name)}/versions"

    def _version(self, name: str, version: int) -> str:
        return f"{self._versions(name)}/{validate_model_version(version)}"

    def _register(self, new: NewModelVersion, source: dict[str, Any]) -> ModelVersion:
        body = {**new.model_dump(mode="json", exclude={"name", "run_id"}), **source}
        return ModelVersion.model_validate(
            self._api.json("POST", self._versions(new.name), json=body)
        )

    def register_from_run(self, new: NewModelVersion, path: str) -> ModelVersion:
        """The server copies the run's file or folder and numbers the version."""
        return self._register(new, {"run_id": new.run_id, "path": path})

    def register_local(
        self, new: NewModelVersion, local_path: str | os.PathLike[str]
    ) -> ModelVersion:
        """Upload the local file or folder under a fresh key, then register that upload."""
        validate_model_name(new.name)
        source = Path(local_path)
        root = local_root(source)
        if source.is_file():
            uploads = {root: source}
        elif source.is_dir():
            uploads = {
                f"{root}/{p.relative_to(source).as_posix()}": p
                for p in sorted(source.rglob("*"))
                if p.is_file()
            }
        else:
            raise NotFoundError(
                f"model path {str(local_path)!r} is not a local file or folder; nothing was "
                "registered"
            )
        if not uploads:
            raise ValidationError(f"model folder {str(local_path)!r} holds no files")
        if len(uploads) > MAX_MODEL_FILES:
            raise ValidationError(
                f"a model version may hold {MAX_MODEL_FILES} files; this one has "
                f"{len(uploads)} (register a zip of them instead)"
            )
        for name in uploads:
            validate_artifact_name(name, self._limits)
        key = uuid.uuid4().hex
        for name, path in uploads.items():
            with path.open("rb") as handle:
                self._api.call("PUT", f"/model-uploads/{key}/files/{name}", content=handle)
        return self._register(new, {"upload_key": key})

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """One version (the newest when `version` is None)."""
        path = f"/models/{validate_model_name(name)}/latest"
        if version is not None:
            path = self._version(name, version)
        return ModelVersion.model_validate(self._api.json("GET", path))

    def list(self, model_filter: ModelFilter) -> list[ModelVersion]:
        """Matching versions."""
        found = self._api.json("POST", "/models/search", json=model_filter.model_dump(mode="json"))
        return [ModelVersion.model_validate(v) for v in found]

    def set_tags(self, name: str, version: int, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags."""
        self._api.call("PUT", f"{self._version(name, version)}/tags", json={"tags": tags})

    def remove_tags(self, name: str, version: int, keys: Iterable[str]) -> None:
        """Delete tags."""
        path = f"{self._version(name, version)}/tags/remove"
        self._api.call("POST", path, json={"keys": list(keys)})

    def add_properties(self, name: str, version: int, properties: dict[str, str]) -> None:
        """Add write-once properties."""
        path = f"{self._version(name, version)}/properties"
        self._api.call("POST", path, json={"properties": properties})

    def download_file(
        self, model: ModelVersion, name: str, local_path: str | os.PathLike[str]
    ) -> None:
        """Stream one file of the version to a local path."""
        name = validate_artifact_name(name, self._limits)
        stream_to_file(
            self._api, f"{self._version(model.name, model.version)}/files/{name}", local_path
        )

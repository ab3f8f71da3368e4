"""How the SDK reaches a workspace's model registry: one interface, implemented in-process
(client/local.py), over HTTP (client/http_models.py) and offline (client/offline.py)."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable

from runyard.core.registry import ModelFilter, ModelVersion, NewModelVersion


class ModelRegistry(ABC):
    """Registering, finding and changing model versions, and fetching their files."""

    @abstractmethod
    def register_from_run(self, new: NewModelVersion, path: str) -> ModelVersion:
        """A new version holding a copy of the file or folder `path` of run `new.run_id`."""

    @abstractmethod
    def register_local(
        self, new: NewModelVersion, local_path: str | os.PathLike[str]
    ) -> ModelVersion:
        """A new version holding a copy of a local file or folder."""

    @abstractmethod
    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """One version, the newest when `version` is None."""

    @abstractmethod
    def list(self, model_filter: ModelFilter) -> list[ModelVersion]:
        """Versions matching the filter, by name, newest first."""

    @abstractmethod
    def set_tags(self, name: str, version: int, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags of a version."""

    @abstractmethod
    def remove_tags(self, name: str, version: int, keys: Iterable[str]) -> None:
        """Delete tags of a version."""

    @abstractmethod
    def add_properties(self, name: str, version: int, properties: dict[str, str]) -> None:
        """Add write-once properties to a version."""

    @abstractmethod
    def download_file(
        self, model: ModelVersion, name: str, local_path: str | os.PathLike[str]
    ) -> None:
        """Copy one file of a version (a name from `model.files`) to a local path."""

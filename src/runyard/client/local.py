"""The embedded transport: straight to a SQL store and an fsspec folder, no server."""

from __future__ import annotations

import os
from collections.abc import Iterable

from runyard.artifacts import ArtifactStore
from runyard.artifacts.models import copy_stored_files, put_local_files, staged_model
from runyard.client.base import FileStore, Transport
from runyard.client.models import ModelRegistry
from runyard.core.errors import ValidationError
from runyard.core.limits import Limits
from runyard.core.names import DEFAULT_WORKSPACE
from runyard.core.paths import run_prefix
from runyard.core.registry import ModelFilter, ModelVersion, NewModelVersion
from runyard.store.base import TrackingStore
from runyard.store.sql import SqlTrackingStore


class InProcessTransport(Transport):
    """A workspace whose store and files this process opens itself."""

    def __init__(
        self,
        store_url: str,
        artifacts_url: str,
        limits: Limits | None = None,
        workspace: str = DEFAULT_WORKSPACE,
    ) -> None:
        self._store = SqlTrackingStore(store_url, limits, workspace)
        self._files = ArtifactStore(artifacts_url, snapshot_scope=workspace)
        self._models = InProcessModelRegistry(self._store, self._files)

    @property
    def store(self) -> TrackingStore:
        """The SQL tracking store."""
        return self._store

    @property
    def files(self) -> FileStore:
        """The artifact folder (or fsspec URL)."""
        return self._files

    @property
    def models(self) -> ModelRegistry:
        """The registry in the same store and artifact folder."""
        return self._models

    def close(self) -> None:
        """Close the store's connections."""
        self._store.close()


class InProcessModelRegistry(ModelRegistry):
    """The registry of a workspace this process opens itself."""

    def __init__(self, store: SqlTrackingStore, files: ArtifactStore) -> None:
        self._store = store
        self._files = files

    def register_from_run(self, new: NewModelVersion, path: str) -> ModelVersion:
        """Copy the run's file or folder into the version's own prefix, then record it."""
        if new.run_id is None:
            raise ValidationError("registering from a run needs the run's id")
        run = self._store.get_run(new.run_id)
        with staged_model(self._files, self._store.workspace, new.name) as staged:
            source = run_prefix(run.experiment_name, run.run_id)
            copy_stored_files(self._files, source, path, staged, f"run {run.run_id!r}")
            return self._store.create_model_version(
                new, staged.storage_key, staged.path, staged.files
            )

    def register_local(
        self, new: NewModelVersion, local_path: str | os.PathLike[str]
    ) -> ModelVersion:
        """Copy a local file or folder into the version's own prefix, then record it."""
        with staged_model(self._files, self._store.workspace, new.name) as staged:
            put_local_files(self._files, local_path, staged)
            return self._store.create_model_version(
                new, staged.storage_key, staged.path, staged.files
            )

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """One version from the store."""
        return self._store.get_model_version(name, version)

    def list(self, model_filter: ModelFilter) -> list[ModelVersion]:
        """Matching versions from the store."""
        return self._store.list_model_versions(model_filter)

    def set_tags(self, name: str, version: int, tags: dict[str, str | None]) -> None:
        """Tags in the store."""
        self._store.set_model_tags(name, version, tags)

    def remove_tags(self, name: str, version: int, keys: Iterable[str]) -> None:
        """Tags out of the store."""
        self._store.remove_model_tags(name, version, keys)

    def add_properties(self, name: str, version: int, properties: dict[str, str]) -> None:
        """Properties into the store."""
        self._store.add_model_properties(name, version, properties)

    def download_file(
        self, model: ModelVersion, name: str, local_path: str | os.PathLike[str]
    ) -> None:
        """Copy from the version's prefix in the artifact store."""
        self._files.get_file(model.url, name, local_path)

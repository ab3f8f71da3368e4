"""Model: a registered version of a trained model's files, as Azure ML's `azureml.core.Model`.

A version holds its own copy of the files (taken from a run's uploaded files or from a local
path), a number given by the workspace (1, 2, … per name, never the same twice), mutable
tags and write-once properties.
"""

from __future__ import annotations

import builtins
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runyard.core.errors import ConflictError, ValidationError
from runyard.core.registry import ModelVersion, validate_model_name
from runyard.core.tags import validate_properties, validate_tags
from runyard.sdk.model_lookup import (
    find_version,
    local_model_path,
    model_filter,
    new_version,
    registry_of,
)
from runyard.sdk.workspace import Workspace

if TYPE_CHECKING:
    from runyard.client.models import ModelRegistry
    from runyard.sdk.run import Run

#: Where `Model.get_model_path` looks for (and, given a workspace, downloads) models.
MODELS_FOLDER = "azureml-models"


class Model:
    """A registered model version. `Model(ws, name)` is the newest version of that name;
    `Model(ws, name, version=2)` or `Model(ws, id="name:2")` a given one."""

    def __init__(
        self,
        workspace: Workspace,
        name: str | None = None,
        id: str | None = None,
        tags: Any = None,
        properties: Any = None,
        version: int | None = None,
        run_id: str | None = None,
        model_framework: str | None = None,
        expand: bool = True,
        **kwargs: Any,
    ) -> None:
        document: ModelVersion | None = kwargs.pop("_document", None)
        self._workspace = workspace
        if document is None:
            document = find_version(
                workspace, name, id, tags, properties, version, run_id, model_framework
            )
        self._doc = document

    @classmethod
    def _of(cls, workspace: Workspace, document: ModelVersion) -> Model:
        return cls(workspace, _document=document)

    # Registering
    @staticmethod
    def register(
        workspace: Workspace,
        model_path: str | os.PathLike[str],
        model_name: str,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        description: str | None = None,
        datasets: Any = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        child_paths: Any = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
        **_kwargs: Any,
    ) -> Model:
        """Register a local file or folder as the next version of `model_name`."""
        if child_paths:
            raise ValidationError(
                "child_paths is not supported: register the folder, or a folder holding "
                "only the files wanted"
            )
        new = new_version(
            workspace,
            model_name,
            None,
            tags,
            properties,
            description,
            model_framework,
            model_framework_version,
        )
        return Model._of(workspace, registry_of(workspace).register_local(new, model_path))

    # Finding
    @staticmethod
    def list(
        workspace: Workspace,
        name: str | None = None,
        tags: Any = None,
        properties: Any = None,
        run_id: str | None = None,
        latest: bool = False,
        dataset_id: str | None = None,
        expand: bool = True,
        page_count: int = 255,
        model_framework: str | None = None,
    ) -> list[Model]:
        """Registered versions, by name, newest first. `tags` and `properties` are Azure's
        filter lists (`['key', ['key2', 'value']]`) or dicts; `latest` keeps the newest
        matching version of each name."""
        if dataset_id is not None:
            raise ValidationError("dataset_id is not supported: runyard has no datasets")
        found = registry_of(workspace).list(
            model_filter(workspace, name, tags, properties, run_id, latest)
        )
        return [
            Model._of(workspace, doc)
            for doc in found
            if model_framework is None or doc.model_framework == model_framework
        ]

    @staticmethod
    def get_model_path(
        model_name: str, version: int | None = None, _workspace: Workspace | None = None
    ) -> str:
        """The local path of a model's file or folder under `azureml-models/<name>/<version>`
        (or $AZUREML_MODEL_DIR); with `_workspace`, downloaded there first if missing."""
        validate_model_name(model_name)
        base = Path(os.environ.get("AZUREML_MODEL_DIR", MODELS_FOLDER))
        if _workspace is not None:
            model = Model(_workspace, model_name, version=version)
            folder = base / model_name / str(model.version)
            if not (folder / model.path).exists():
                return model.download(folder, exist_ok=True)
            return str(folder / model.path)
        return local_model_path(base, model_name, version)

    @staticmethod
    def deserialize(workspace: Workspace, model_payload: dict[str, Any]) -> Model:
        """A Model from what `serialize()` returned."""
        return Model._of(workspace, ModelVersion.model_validate(model_payload))

    # What a version is
    @property
    def workspace(self) -> Workspace:
        """The workspace the model is registered in."""
        return self._workspace

    @property
    def name(self) -> str:
        """The model's name."""
        return self._doc.name

    @property
    def version(self) -> int:
        """The version number (1, 2, … per name)."""
        return self._doc.version

    @property
    def id(self) -> str:
        """`name:version`."""
        return self._doc.id

    @property
    def url(self) -> str:
        """Where the version's files are kept, relative to the workspace's artifact store."""
        return self._doc.url

    @property
    def run_id(self) -> str | None:
        """The run the files came from (None for a local registration)."""
        return self._doc.run_id

    @property
    def experiment_name(self) -> str | None:
        """The experiment of that run."""
        return self._doc.experiment_name

    @property
    def description(self) -> str | None:
        """What the model is."""
        return self._doc.description

    @property
    def created_time(self) -> datetime:
        """When the version was registered (UTC)."""
        return self._doc.created_time

    @property
    def model_framework(self) -> str | None:
        """The framework named at registration (e.g. ScikitLearn)."""
        return self._doc.model_framework

    @property
    def model_framework_version(self) -> str | None:
        """The framework's version named at registration."""
        return self._doc.model_framework_version

    @property
    def framework(self) -> str | None:
        """Azure's other name for `model_framework`."""
        return self._doc.model_framework

    @property
    def tags(self) -> dict[str, str | None]:
        """The version's tags (a copy)."""
        return dict(self._doc.tags)

    @property
    def properties(self) -> dict[str, str]:
        """The version's properties (a copy)."""
        return dict(self._doc.properties)

    @property
    def path(self) -> str:
        """The file or folder name the version's files sit under."""
        return self._doc.path

    @property
    def files(self) -> builtins.list[str]:
        """Every file of the version, relative to it."""
        return list(self._doc.files)

    def serialize(self) -> dict[str, Any]:
        """The version as JSON data (camelCase, as Azure's), for `Model.deserialize`."""
        return self._doc.to_json_dict()

    # Changing tags and properties
    def add_tags(self, tags: dict[str, Any]) -> None:
        """Add or overwrite tags (tags are mutable)."""
        self._registry.set_tags(
            self.name, self.version, validate_tags(tags, self._workspace.limits)
        )
        self._refresh()

    def remove_tags(self, tags: Any) -> None:
        """Delete tags by key (a key or a list of keys)."""
        keys = [tags] if isinstance(tags, str) else [str(k) for k in tags]
        self._registry.remove_tags(self.name, self.version, keys)
        self._refresh()

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Add write-once properties; changing one raises ImmutablePropertyError."""
        self._registry.add_properties(
            self.name, self.version, validate_properties(properties, self._workspace.limits)
        )
        self._refresh()

    # Files
    def download(
        self,
        target_dir: str | os.PathLike[str] = ".",
        exist_ok: bool = False,
        exists_ok: bool | None = None,
    ) -> str:
        """Copy the version's file or folder into `target_dir`; returns its path. An existing
        file or folder of that name is replaced with `exist_ok`, else it is an error."""
        if exists_ok is not None:
            exist_ok = exists_ok
        folder = Path(target_dir)
        target = folder / self.path
        if (target.exists() or target.is_symlink()) and not exist_ok:
            raise ConflictError(
                f"{str(target)!r} exists already; pass exist_ok=True to replace it, or "
                "download into another folder"
            )
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder, prefix=".runyard-partial-"))
        try:
            for name in self._doc.files:
                self._registry.download_file(self._doc, name, staging / name)
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            os.replace(staging / self.path, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return str(target)

    @property
    def _registry(self) -> ModelRegistry:
        return registry_of(self._workspace)

    def _refresh(self) -> None:
        self._doc = self._registry.get(self.name, self.version)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return (
            f"Model(workspace={self._workspace!r}, name={self.name}, id={self.id}, "
            f"version={self.version}, tags={self._doc.tags}, properties={self._doc.properties})"
        )


def register_run_model(
    run: Run,
    model_name: str,
    model_path: str | None = None,
    tags: dict[str, Any] | None = None,
    properties: dict[str, Any] | None = None,
    model_framework: str | None = None,
    model_framework_version: str | None = None,
    description: str | None = None,
) -> Model:
    """What `Run.register_model` does: the run's file or folder at `model_path` (default:
    the model's name) becomes the next version of `model_name`."""
    workspace = run.experiment.workspace
    new = new_version(
        workspace,
        model_name,
        run.id,
        tags,
        properties,
        description,
        model_framework,
        model_framework_version,
    )
    path = model_name if model_path is None else os.fspath(model_path)
    return Model._of(workspace, registry_of(workspace).register_from_run(new, path))

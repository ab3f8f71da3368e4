"""The in-process MLflow artifact repository: a run's MLflow artifacts are its runyard files.

Loaded by mlflow through the `mlflow.artifact_repository` entry point for `runyard://`
artifact URIs, which runyard's tracking store gives runs (`runyard://<workspace>/<experiment
id>/<run id>/artifacts[/<path>]?…`, the path of the server's `mlflow-artifacts:/` URI).
Everything is read and written under the run's own prefix of the workspace's files (its
folder, or a server's files API), where `run.upload_file` and `run.download_file` look too.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from mlflow.entities import FileInfo
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST
from mlflow.store.artifact.artifact_repo import ArtifactRepository

from runyard.artifacts import ArtifactStore
from runyard.core.errors import NotFoundError, RunyardError
from runyard.core.mlflow_uri import parse_mlflow_uri
from runyard.core.paths import run_prefix
from runyard.mlflow.plugin_store import open_workspace


class RunyardArtifactRepository(ArtifactRepository):
    """The files of one runyard run, as an MLflow artifact repository."""

    def __init__(
        self, artifact_uri: str, tracking_uri: str | None = None, registry_uri: str | None = None
    ) -> None:
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        location = parse_mlflow_uri(artifact_uri)
        parts = location.path.strip("/").split("/")
        if len(parts) < 3 or parts[2] != "artifacts":
            raise MlflowException.invalid_parameter_value(
                f"runyard artifact URI {artifact_uri!r} names no run's files: its path must be "
                "/runs/<run id>/artifacts[/<path>]"
            )
        transport = open_workspace(location).transport
        try:
            run = transport.store.get_run(parts[1])
        except NotFoundError:
            raise MlflowException(
                f"Run '{parts[1]}' not found", error_code=RESOURCE_DOES_NOT_EXIST
            ) from None
        self._files = transport.files
        self._prefix = run_prefix(run.experiment_name, run.run_id)
        #: Where this URI points below the run's files ("" for the artifact root).
        self._base = "/".join(parts[3:])

    def _name(self, *paths: str | None) -> str:
        return posixpath.join(self._base, *(p.strip("/") for p in paths if p)).strip("/")

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Copy one local file into the run's files."""
        name = self._name(artifact_path, os.path.basename(local_file))
        self._guarded(lambda: self._files.put_file(self._prefix, name, local_file))

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Copy a local folder's files (recursively) into the run's files."""
        root = Path(local_dir)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = self._name(artifact_path, path.relative_to(root).as_posix())
            self._guarded(lambda n=name, p=path: self._files.put_file(self._prefix, n, p))

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The files and folders directly below `path`, as MLflow lists them (sorted)."""
        below = self._name(path)
        entries: dict[str, FileInfo] = {}
        files = self._files
        listed: list[tuple[str, int | None]]
        if isinstance(files, ArtifactStore):  # one listing with sizes
            listed = list(files.list_sizes(self._prefix))
        else:  # a server's list of names
            listed = [(name, None) for name in files.list_files(self._prefix)]
        for name, size in listed:
            if below and not name.startswith(below + "/"):
                continue
            rest = name[len(below) + 1 :] if below else name
            head, sep, _ = rest.partition("/")
            shown = posixpath.join(path or "", head) if path else head
            shown = shown.strip("/")
            if sep:
                entries.setdefault(shown, FileInfo(shown, True, None))
            else:
                entries[shown] = FileInfo(shown, False, size)
        return [entries[key] for key in sorted(entries)]

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        self._guarded(
            lambda: self._files.get_file(self._prefix, self._name(remote_file_path), local_path)
        )

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Runs keep their files: runyard deletes files only with their run."""
        raise MlflowException.invalid_parameter_value(
            "runyard keeps a run's files for as long as the run: artifacts cannot be deleted"
        )

    @staticmethod
    def _guarded(call: object) -> None:
        assert callable(call)
        try:
            call()
        except NotFoundError as exc:
            raise MlflowException(str(exc), error_code=RESOURCE_DOES_NOT_EXIST) from None
        except RunyardError as exc:
            raise MlflowException.invalid_parameter_value(str(exc)) from None

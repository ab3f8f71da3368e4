"""The file half of Run: uploads, downloads and the list of a run's files."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from runyard.core.errors import ValidationError

if TYPE_CHECKING:
    from runyard.client.base import Transport
    from runyard.core.entities import RunDocument
    from runyard.core.limits import Limits


class RunFiles:
    """Mixin of Run holding the file API; names are relative to the run, '/'-separated."""

    _transport: Transport
    _id: str
    _limits: Limits

    def _refresh(self) -> RunDocument:
        raise NotImplementedError

    def _artifact_prefix(self) -> str:
        raise NotImplementedError

    def upload_file(
        self,
        name: str,
        path_or_stream: str | os.PathLike[str] | IO[bytes],
        datastore_name: str | None = None,
    ) -> str:
        """Store a local file (or a binary stream) under `name`; returns the stored name."""
        files = self._transport.files
        if hasattr(path_or_stream, "read"):
            data = path_or_stream.read()
            if isinstance(data, str):
                data = data.encode()
            return files.put_bytes(self._artifact_prefix(), name, data)
        return files.put_file(self._artifact_prefix(), name, path_or_stream)

    def upload_files(
        self,
        names: Sequence[str],
        paths: Sequence[str | os.PathLike[str]],
        return_artifacts: bool = False,
        timeout_seconds: int | None = None,
        datastore_name: str | None = None,
    ) -> list[str]:
        """Store several local files, `names[i]` taking `paths[i]`."""
        if len(names) != len(paths):
            raise ValidationError(
                f"upload_files needs as many names as paths, got {len(names)} and {len(paths)}"
            )
        return [self.upload_file(n, p) for n, p in zip(names, paths, strict=True)]

    def upload_folder(
        self, name: str, path: str | os.PathLike[str], datastore_name: str | None = None
    ) -> list[str]:
        """Store every file under a local folder as `name/<relative path>`.

        A symbolic link whose target is outside the folder is skipped with a warning (a
        link to `~/.ssh/id_rsa` must not upload the key); links within it are followed."""
        if not Path(path).is_dir():
            raise ValidationError(f"upload_folder: {str(path)!r} is not a folder")
        return self._transport.files.put_folder(self._artifact_prefix(), name, path)

    def get_file_names(self) -> list[str]:
        """Every file of the run, sorted."""
        return self._transport.files.list_files(self._artifact_prefix())

    def download_file(
        self,
        name: str,
        output_file_path: str | os.PathLike[str] | None = None,
        _validate_checksum: bool = False,
    ) -> Path:
        """Copy one file of the run to a local path (a folder keeps the file's own name)."""
        target = (
            Path(output_file_path)
            if output_file_path is not None
            else Path(posixpath.basename(name))
        )
        if target.is_dir():
            target = target / posixpath.basename(name)
        self._transport.files.get_file(self._artifact_prefix(), name, target)
        return target

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | os.PathLike[str] | None = None,
        output_paths: Sequence[str] | None = None,
        batch_size: int = 100,
        append_prefix: bool = True,
        timeout_seconds: int | None = None,
        **_kwargs: Any,
    ) -> list[Path]:
        """Copy the run's files under `prefix` (all when None) into a local folder."""
        names = self._transport.files.list_files(self._artifact_prefix(), prefix or "")
        if output_paths is not None and len(output_paths) != len(names):
            raise ValidationError(
                f"output_paths has {len(output_paths)} entries for {len(names)} files"
            )
        out_dir = Path(output_directory or os.getcwd())
        written = []
        for index, name in enumerate(names):
            if output_paths is not None:
                target = Path(output_paths[index])
            else:
                relative = name
                if not append_prefix and prefix:
                    relative = posixpath.relpath(name, prefix.rstrip("/") or ".")
                target = out_dir / relative
            self._transport.files.get_file(self._artifact_prefix(), name, target)
            written.append(target)
        return written

    def restore_snapshot(
        self, snapshot_id: str | None = None, path: str | os.PathLike[str] | None = None
    ) -> str:
        """Download the source folder a submitted run ran as a ZIP file, as Azure does, and
        return the ZIP's path: `<path>/<snapshot_id>.zip` when `path` is a folder or not
        given (the current folder), else `path` itself."""
        snapshot_id = snapshot_id or self._refresh().run_definition.get("snapshotId")
        if not snapshot_id:
            raise ValidationError(f"run {self._id} has no snapshot (it was not submitted)")
        target = Path(path if path is not None else os.getcwd())
        if target.is_dir():
            target = target / f"{snapshot_id}.zip"
        target.parent.mkdir(parents=True, exist_ok=True)
        self._transport.files.get_snapshot(snapshot_id, target)
        return str(target)

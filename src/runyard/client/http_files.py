"""Run files and snapshots through a runyard server (which keeps them in its file store)."""

from __future__ import annotations

import os
import posixpath
import tempfile
from pathlib import Path

import httpx

from runyard.artifacts.local_folder import folder_files
from runyard.client.base import FileStore
from runyard.client.http_api import Api, raise_for
from runyard.core.errors import NotFoundError, TransportError
from runyard.core.limits import Limits
from runyard.core.paths import validate_artifact_name


def _run_of(prefix: str) -> str:
    # The SDK addresses a run's files by "<experiment>/<run id>"; the server needs the id.
    return prefix.rsplit("/", 1)[-1]


def stream_to_file(api: Api, path: str, local_path: str | os.PathLike[str]) -> None:
    """GET `path` into a local file, written whole beside it and then renamed into place."""
    target = Path(local_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".runyard-partial-")
    try:
        with os.fdopen(handle, "wb") as out, api.client.stream("GET", path) as response:
            if response.status_code >= 400:
                response.read()
                raise_for(response)
            for chunk in response.iter_bytes():
                out.write(chunk)
        os.replace(temp, target)
    except httpx.HTTPError as exc:
        os.unlink(temp)
        raise TransportError(f"cannot reach the runyard server: {exc}") from exc
    except BaseException:
        os.unlink(temp)
        raise


class HttpFileStore(FileStore):
    """Run files through the server (which keeps them in its own file store)."""

    def __init__(self, api: Api, limits: Limits) -> None:
        self._api = api
        self._limits = limits

    def _path(self, prefix: str, name: str) -> str:
        return f"/runs/{_run_of(prefix)}/files/{validate_artifact_name(name, self._limits)}"

    def put_file(self, prefix: str, name: str, local_path: str | os.PathLike[str]) -> str:
        """Upload a local file, streamed."""
        source = Path(local_path)
        if not source.is_file():
            raise NotFoundError(f"no local file {str(local_path)!r} to upload")
        with source.open("rb") as handle:
            return str(self._api.json("PUT", self._path(prefix, name), content=handle)["name"])

    def put_bytes(self, prefix: str, name: str, data: bytes) -> str:
        """Upload bytes as a file."""
        return str(self._api.json("PUT", self._path(prefix, name), content=data)["name"])

    def put_folder(
        self, prefix: str, name_prefix: str, local_dir: str | os.PathLike[str]
    ) -> list[str]:
        """Upload every file under a local folder as `name_prefix/<relative path>`."""
        stored = []
        for relative, path in folder_files(local_dir):
            stored.append(self.put_file(prefix, posixpath.join(name_prefix, relative), path))
        return sorted(stored)

    def get_file(self, prefix: str, name: str, local_path: str | os.PathLike[str]) -> None:
        """Download a file (written whole, then renamed into place)."""
        stream_to_file(self._api, self._path(prefix, name), local_path)

    def read_bytes(self, prefix: str, name: str) -> bytes:
        """A file's content."""
        return self._api.call("GET", self._path(prefix, name)).content

    def exists(self, prefix: str, name: str) -> bool:
        """Whether the run has that file."""
        name = validate_artifact_name(name, self._limits)
        return name in self.list_files(prefix, posixpath.dirname(name))

    def list_files(self, prefix: str, under: str = "") -> list[str]:
        """The run's file names (under a folder, if given)."""
        answer = self._api.json("GET", f"/runs/{_run_of(prefix)}/files", params={"under": under})
        return list(answer["files"])

    def put_snapshot(self, snapshot_id: str, zip_path: str | os.PathLike[str]) -> None:
        """Upload a snapshot unless the server has it already."""
        if self.has_snapshot(snapshot_id):
            return
        with Path(zip_path).open("rb") as handle:
            self._api.call("PUT", f"/snapshots/{snapshot_id}", content=handle)

    def has_snapshot(self, snapshot_id: str) -> bool:
        """Whether the server has the snapshot."""
        return bool(self._api.json("GET", f"/snapshots/{snapshot_id}/exists")["exists"])

    def get_snapshot(self, snapshot_id: str, local_path: str | os.PathLike[str]) -> None:
        """Download a snapshot zip."""
        target = Path(local_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self._api.call("GET", f"/snapshots/{snapshot_id}").content)

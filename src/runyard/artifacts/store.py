"""The files of runs, under one root: a local folder by default, any fsspec URL when configured.

Every path handed in is validated (`core.paths`), so a name can only ever address a file under
`root/<run prefix>/`. Local writes go to a temporary name beside the target and are renamed into
place, so a concurrent reader sees the old file or the new one, never half of one; object stores
give the same guarantee by themselves (an object appears only once its upload completes).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import posixpath
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from runyard.artifacts.local_folder import folder_files
from runyard.core.errors import ConflictError, NotFoundError, ValidationError
from runyard.core.limits import Limits
from runyard.core.paths import PARTIAL_PREFIX as _PARTIAL_PREFIX
from runyard.core.paths import validate_artifact_name, validate_run_prefix

# Leftovers of interrupted local writes: never listed. A fixed-length name (not derived from the
# target's) so that a long but legal file name cannot push the temporary one past NAME_MAX.
_PARTIAL = re.compile(re.escape(_PARTIAL_PREFIX) + r"[0-9a-f]{32}")

StrPath = str | os.PathLike[str]


SNAPSHOT_PREFIX = "_snapshots"
_SNAPSHOT_ID = re.compile(r"[0-9a-f]{32}")


def snapshot_name(snapshot_id: str) -> str:
    """The file name of a snapshot, after checking the id is one runyard makes."""
    if not isinstance(snapshot_id, str) or not _SNAPSHOT_ID.fullmatch(snapshot_id):
        raise ValidationError(f"invalid snapshot id {snapshot_id!r}: 32 lowercase hex digits")
    return f"{snapshot_id}.zip"


class ArtifactStore:
    """Stores, lists and serves the files of every run under one root URL."""

    def __init__(
        self,
        root_url: str,
        storage_options: dict[str, Any] | None = None,
        *,
        limits: Limits | None = None,
        snapshot_scope: str = "default",
    ) -> None:
        #: Snapshots are kept per workspace, so one cannot probe another's sources.
        self.snapshot_prefix = validate_run_prefix(f"{SNAPSHOT_PREFIX}/{snapshot_scope}")
        # Listing caches go stale as soon as another process (a second server, the script)
        # writes; correctness beats the saved round trips, so they are off unless asked for.
        options: dict[str, Any] = {"use_listings_cache": False, **(storage_options or {})}
        fs, root = url_to_fs(root_url, **options)
        self._fs: Any = fs
        self._local = isinstance(fs, LocalFileSystem)
        self._root: str = root.rstrip("/") or root
        self._limits = limits or Limits()
        if self._local:
            fs.makedirs(self._root, exist_ok=True)

    def put_file(self, prefix: str, name: str, local_path: StrPath) -> str:
        """Upload one local file as `name` in the run; return the normalised name."""
        name, path = self._path(prefix, name)
        source = os.fspath(local_path)
        if os.path.isdir(source):
            raise ValidationError(
                f"{source!r} is a folder; upload it with put_folder, put_file takes one file"
            )
        if not os.path.isfile(source):
            raise NotFoundError(f"local file {source!r} does not exist; nothing was uploaded")
        if self._local:
            self._write_local(path, name, functools.partial(shutil.copyfile, source))
        else:
            self._fs.put_file(source, path)
        return name

    def put_bytes(self, prefix: str, name: str, data: bytes) -> str:
        """Store `data` as the file `name` in the run; return the normalised name."""
        name, path = self._path(prefix, name)
        if self._local:
            self._write_local(path, name, functools.partial(_write_new_file, data=data))
        else:
            self._fs.pipe_file(path, data)
        return name

    def put_folder(self, prefix: str, name_prefix: str, local_dir: StrPath) -> list[str]:
        """Upload every file under `local_dir` as `name_prefix/<relative path>`; return the names.

        Symlinks that leave the folder are skipped with a warning (`local_folder`). All names
        are validated before the first byte is written, so a bad one uploads nothing.
        """
        source = os.fspath(local_dir)
        if not os.path.exists(source):
            raise NotFoundError(f"local folder {source!r} does not exist; nothing was uploaded")
        if not os.path.isdir(source):
            raise ValidationError(f"{source!r} is a file; upload it with put_file")
        if name_prefix:
            name_prefix = validate_artifact_name(name_prefix, self._limits)
        uploads: dict[str, tuple[str, str]] = {}  # name -> (local path, store path)
        for relative, local_path in folder_files(source):
            local = os.fspath(local_path)
            name, path = self._path(prefix, posixpath.join(name_prefix, relative))
            if name in uploads:
                raise ValidationError(
                    f"{uploads[name][0]!r} and {local!r} would both be stored as {name!r}"
                )
            uploads[name] = (local, path)
        if self._local:
            for name, (local, path) in uploads.items():
                self._write_local(path, name, functools.partial(shutil.copyfile, local))
        elif uploads:
            # Lists on both sides: no glob expansion and no "copy into existing folder" nesting,
            # and async stores (s3fs) upload the files concurrently.
            locals_, paths = zip(*uploads.values(), strict=True)
            self._fs.put(list(locals_), list(paths))
        return sorted(uploads)

    def copy_file(self, prefix: str, name: str, to_prefix: str, to_name: str) -> str:
        """Copy the file `name` of one prefix to `to_name` of another, inside the store (no
        round trip through this machine); return the normalised new name."""
        name, source = self._path(prefix, name)
        to_name, target = self._path(to_prefix, to_name)
        self._file_info(prefix, name, source)
        with self._not_found_as(prefix, name):
            if self._local:
                self._write_local(target, to_name, functools.partial(shutil.copyfile, source))
            else:
                self._fs.copy(source, target)
        return to_name

    def get_file(self, prefix: str, name: str, local_path: StrPath) -> None:
        """Download the file `name` of the run to `local_path`, creating its parent folders."""
        name, path = self._path(prefix, name)
        target = os.path.abspath(os.fspath(local_path))
        if os.path.isdir(target):
            raise ValidationError(f"{target!r} is a folder; give the path of the file to write")
        os.makedirs(os.path.dirname(target), exist_ok=True)

        def fetch(temp: str) -> None:
            if self._local:
                shutil.copyfile(path, temp)
            else:
                self._fs.get_file(path, temp)

        with self._not_found_as(prefix, name):
            _write_atomically(target, fetch)

    def read_bytes(self, prefix: str, name: str) -> bytes:
        """Return the whole content of the file `name` of the run."""
        name, path = self._path(prefix, name)
        with self._not_found_as(prefix, name):
            return cast(bytes, self._fs.cat_file(path))

    def open_read(self, prefix: str, name: str) -> IO[bytes]:
        """Open the file `name` of the run for streaming binary reads; the caller closes it."""
        name, path = self._path(prefix, name)
        # Some stores (s3fs) happily open a "folder" as an empty file; check it is a file first.
        self._file_info(prefix, name, path)
        with self._not_found_as(prefix, name):
            return cast(IO[bytes], self._fs.open(path, "rb"))

    def exists(self, prefix: str, name: str) -> bool:
        """Whether the run has a file (not a folder) called `name`."""
        _name, path = self._path(prefix, name)
        return bool(self._fs.isfile(path))

    def size(self, prefix: str, name: str) -> int:
        """The size in bytes of the file `name` of the run."""
        name, path = self._path(prefix, name)
        return int(self._file_info(prefix, name, path)["size"])

    def list_files(self, prefix: str, under: str = "") -> list[str]:
        """Every file name of the run, recursively, sorted; only those below `under` if given."""
        base = self._run_root(prefix)
        if under:
            under = validate_artifact_name(under, self._limits)
        names = []
        for found in self._fs.find(_join(base, under) if under else base):
            if not found.startswith(base + "/"):
                continue
            name = found[len(base) + 1 :]
            if under and not name.startswith(under + "/"):
                continue
            if self._local and _PARTIAL.fullmatch(posixpath.basename(name)):
                continue
            names.append(name)
        return sorted(names)

    def list_sizes(self, prefix: str) -> list[tuple[str, int]]:
        """(name, size in bytes) of every file of the run, sorted by name, in one listing."""
        base = self._run_root(prefix)
        listed = []
        for path, info in self._fs.find(base, detail=True).items():
            if not path.startswith(base + "/") or info.get("type") != "file":
                continue
            name = path[len(base) + 1 :]
            if self._local and _PARTIAL.fullmatch(posixpath.basename(name)):
                continue
            listed.append((name, int(info.get("size") or 0)))
        return sorted(listed)

    def delete_file(self, prefix: str, name: str) -> None:
        """Delete one file of the run (NotFoundError if it has none of that name)."""
        name, path = self._path(prefix, name)
        self._file_info(prefix, name, path)
        with self._not_found_as(prefix, name):
            self._fs.rm_file(path)

    def delete_prefix(self, prefix: str) -> None:
        """Delete every file of the run; a run without files is not an error."""
        base = self._run_root(prefix)
        if self._local:
            with contextlib.suppress(FileNotFoundError):
                self._fs.rm(base, recursive=True)
            return
        # Delete exactly the keys list_files found: the same code path for every object store,
        # and "runs/abc" stays safe whatever a store's recursive rm makes of "runs/ab".
        paths = [_join(base, name) for name in self.list_files(prefix)]
        if paths:
            self._fs.rm(paths)

    def remove_partial_leftovers(self, stale_after: float) -> int:
        """Delete partial files of interrupted local writes untouched for `stale_after`
        seconds (a live writer keeps its file fresh); returns how many. Object stores have
        none: an object appears only when its upload completes."""
        if not self._local:
            return 0
        removed = 0
        cutoff = time.time() - stale_after
        for folder, _dirs, names in os.walk(self._root):
            for name in names:
                if not _PARTIAL.fullmatch(name):
                    continue
                path = os.path.join(folder, name)
                with contextlib.suppress(FileNotFoundError):
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
        return removed

    # Snapshots of submitted runs' source folders, shared by runs of the same content.
    def put_snapshot(self, snapshot_id: str, zip_path: StrPath) -> None:
        """Store a snapshot zip under its content id (once: same id, same content)."""
        if not self.has_snapshot(snapshot_id):
            self.put_file(self.snapshot_prefix, snapshot_name(snapshot_id), zip_path)

    def has_snapshot(self, snapshot_id: str) -> bool:
        """Whether a snapshot with this id is stored."""
        return self.exists(self.snapshot_prefix, snapshot_name(snapshot_id))

    def get_snapshot(self, snapshot_id: str, local_path: StrPath) -> None:
        """Copy a snapshot zip to a local path."""
        self.get_file(self.snapshot_prefix, snapshot_name(snapshot_id), local_path)

    def for_snapshot_scope(self, scope: str) -> ArtifactStore:
        """The same store, keeping snapshots under another workspace's scope."""
        clone = copy.copy(self)
        clone.snapshot_prefix = validate_run_prefix(f"{SNAPSHOT_PREFIX}/{scope}")
        return clone

    def _run_root(self, prefix: str) -> str:
        return _join(self._root, validate_run_prefix(prefix))

    def _path(self, prefix: str, name: object) -> tuple[str, str]:
        """Validate `name` and return it with the full store path of that file of the run."""
        name = validate_artifact_name(name, self._limits)
        base = self._run_root(prefix)
        path = _join(base, name)
        # Validation already makes escaping impossible; this guards against a future change to it.
        if not posixpath.normpath(path).startswith(base + "/"):
            raise ValidationError(f"artifact name {name!r} would leave run {prefix!r}")
        return name, path

    def _file_info(self, prefix: str, name: str, path: str) -> dict[str, Any]:
        with self._not_found_as(prefix, name):
            info: dict[str, Any] = self._fs.info(path)
        if info.get("type") != "file":
            raise NotFoundError(f"{name!r} in run {prefix!r} is a folder, not a file")
        return info

    def _write_local(self, path: str, name: str, write: Callable[[str], object]) -> None:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _write_atomically(path, write)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as error:
            raise ConflictError(
                f"cannot store {name!r}: it or one of its parent folders is already used "
                "the other way (a file where a folder is needed, or a folder where a file is)"
            ) from error

    @contextlib.contextmanager
    def _not_found_as(self, prefix: str, name: str) -> Iterator[None]:
        try:
            yield
        except (FileNotFoundError, IsADirectoryError) as error:
            raise NotFoundError(f"run {prefix!r} has no file named {name!r}") from error


def _join(parent: str, child: str) -> str:
    return parent + child if parent in ("", "/") else f"{parent}/{child}"


def _write_atomically(final: str, write: Callable[[str], object]) -> None:
    """Have `write` fill a temporary file beside `final`, then rename it over `final`."""
    temp = os.path.join(os.path.dirname(final), f"{_PARTIAL_PREFIX}{uuid.uuid4().hex}")
    try:
        write(temp)
        os.replace(temp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _write_new_file(path: str, data: bytes) -> None:
    with open(path, "xb") as file:
        file.write(data)

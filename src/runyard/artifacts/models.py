"""The files of registered model versions: each version's own copy, made at registration.

A version's files are copied (from a run's files, a client's upload, or a local path) into a
prefix that only that registration writes, under a fresh storage key; the store records the
key once the copy is whole. A registration that fails on the way leaves no files behind.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runyard.artifacts.store import ArtifactStore
from runyard.core.errors import NotFoundError, ValidationError
from runyard.core.limits import Limits
from runyard.core.paths import model_prefix, validate_artifact_name
from runyard.core.registry import MAX_MODEL_FILES, validate_model_name


@dataclass
class StagedModel:
    """Files being copied for one registration: their storage key and prefix, and once
    copied, their top-level name and every file name (relative to the version)."""

    storage_key: str
    prefix: str
    path: str = ""
    files: list[str] = field(default_factory=list)


@contextlib.contextmanager
def staged_model(files: ArtifactStore, workspace: str, model_name: str) -> Iterator[StagedModel]:
    """A fresh prefix for a version's files; deleted again if the block raises (a copy cut
    short, or a store that refused the version)."""
    validate_model_name(model_name)
    key = uuid.uuid4().hex
    staged = StagedModel(key, model_prefix(workspace, model_name, key))
    try:
        yield staged
    except BaseException:
        with contextlib.suppress(Exception):
            files.delete_prefix(staged.prefix)
        raise


def copy_stored_files(
    files: ArtifactStore, source_prefix: str, path: str, staged: StagedModel, what: str
) -> None:
    """Copy the file or folder `path` of a stored prefix (a run's, an upload's) into the
    staged version, keeping its last name component: `outputs/model.pkl` becomes
    `model.pkl`, the folder `outputs` becomes `outputs/…`."""
    limits = Limits.from_env()
    path = validate_artifact_name(path, limits)
    root = posixpath.basename(path)
    if files.exists(source_prefix, path):
        sources = {path: root}
    else:
        sources = {
            name: posixpath.join(root, name[len(path) + 1 :])
            for name in files.list_files(source_prefix, path)
        }
    if not sources:
        raise NotFoundError(
            f"{what} has no file or folder {path!r}; give the path of a file or folder "
            "it holds, like 'outputs/model.pkl' or 'outputs'"
        )
    _check_count(len(sources))
    for name, target in sources.items():
        files.copy_file(source_prefix, name, staged.prefix, target)
    staged.path = root
    staged.files = sorted(sources.values())


def put_local_files(
    files: ArtifactStore, local_path: str | os.PathLike[str], staged: StagedModel
) -> None:
    """Upload a local file or folder into the staged version under its own name."""
    source = Path(local_path)
    root = local_root(source)
    if source.is_file():
        staged.files = [files.put_file(staged.prefix, root, source)]
    elif source.is_dir():
        _check_count(sum(1 for p in source.rglob("*") if p.is_file()))
        staged.files = files.put_folder(staged.prefix, root, source)
    else:
        raise NotFoundError(
            f"model path {str(local_path)!r} is not a local file or folder; nothing was registered"
        )
    if not staged.files:
        raise ValidationError(f"model folder {str(local_path)!r} holds no files")
    staged.path = root


def local_root(source: Path) -> str:
    """The name a local model file or folder keeps in the registry: its own last name."""
    name = source.resolve().name if source.name in ("", ".", "..") else source.name
    if not name:
        raise ValidationError(f"cannot register {str(source)!r}: give a file or a folder")
    return name


def _check_count(count: int) -> None:
    if count > MAX_MODEL_FILES:
        raise ValidationError(
            f"a model version may hold {MAX_MODEL_FILES} files; this one has {count} "
            "(register a zip of them instead)"
        )

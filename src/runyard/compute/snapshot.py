"""Snapshots of a source folder: what a submitted run ran, stored once per content.

The ignore rules are git's (`.runyardignore` if present, else `.gitignore`, read with
pathspec); `.git/` and runyard's own `.runyard/` folder are never included, nor symlinks
that lead out of the folder (skipped with a warning, as in `upload_folder`). The snapshot
id is a hash of the file names and contents, so the same folder gives the same id.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits
from runyard.core.paths import is_within, validate_artifact_name

log = logging.getLogger("runyard.snapshot")
IGNORE_FILES = (".runyardignore", ".amlignore", ".gitignore")
ALWAYS_IGNORED = (".git/", ".runyard/", "__pycache__/", "*.pyc")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Snapshot:
    """A zipped source folder ready to upload."""

    snapshot_id: str
    zip_path: Path
    files: list[str]
    size: int


_NEVER = pathspec.GitIgnoreSpec.from_lines(ALWAYS_IGNORED)


def _ignore_spec(source: Path) -> pathspec.PathSpec[Any]:
    lines: list[str] = []
    for name in IGNORE_FILES:
        candidate = source / name
        if candidate.is_file():
            lines.extend(candidate.read_text(errors="replace").splitlines())
            break
    return pathspec.GitIgnoreSpec.from_lines(lines)


def list_snapshot_files(source: Path, limits: Limits) -> list[tuple[str, Path, int]]:
    """(relative name, path, size) of every file a snapshot takes, checked against limits."""
    if not source.is_dir():
        raise ValidationError(f"source_directory {str(source)!r} is not a folder")
    spec = _ignore_spec(source)
    root = os.path.realpath(source)
    found: list[tuple[str, Path, int]] = []
    total = 0
    for folder, dirs, names in os.walk(source):
        relative_dir = Path(folder).relative_to(source).as_posix()
        prefix = "" if relative_dir == "." else relative_dir + "/"
        dirs[:] = sorted(
            d
            for d in dirs
            # Checked on their own: no "!" line of the user's can bring these back.
            if not _NEVER.match_file(prefix + d + "/") and not spec.match_file(prefix + d + "/")
        )
        for name in sorted(names):
            relative = prefix + name
            path = Path(folder) / name
            if _NEVER.match_file(relative) or spec.match_file(relative):
                continue
            if path.is_symlink() and not is_within(os.path.realpath(path), root):
                log.warning(
                    "snapshot skips %s: a symbolic link to %s, outside %s",
                    relative,
                    os.path.realpath(path),
                    source,
                )
                continue
            if not path.is_file():
                continue
            size = path.stat().st_size
            found.append((relative, path, size))
            total += size
            if len(found) > limits.max_snapshot_files:
                raise LimitExceededError(
                    f"the snapshot of {str(source)!r} has more than {limits.max_snapshot_files} "
                    "files; list what the run does not need in .runyardignore (gitignore syntax)"
                )
    if total > limits.max_snapshot_bytes:
        biggest = sorted(found, key=lambda f: -f[2])[:3]
        listed = ", ".join(f"{n} ({s / 1e6:.1f} MB)" for n, _, s in biggest)
        raise LimitExceededError(
            f"the snapshot of {str(source)!r} is {total / 1e6:.1f} MB; the limit is "
            f"{limits.max_snapshot_bytes / 1e6:g} MB. Biggest files: {listed}. List what the "
            "run does not need in .runyardignore (gitignore syntax)"
        )
    return found


def snapshot_directory(
    source: str | os.PathLike[str],
    limits: Limits,
    progress: Callable[[int, int], None] | None = None,
) -> Snapshot:
    """Zip a source folder (ignore rules applied) into a temporary file; the caller deletes it."""
    folder = Path(source).resolve()
    files = list_snapshot_files(folder, limits)
    digest = hashlib.sha256()
    handle, zip_name = tempfile.mkstemp(prefix="runyard-snapshot-", suffix=".zip")
    os.close(handle)
    total = sum(size for _, _, size in files)
    done = 0
    with zipfile.ZipFile(zip_name, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative, path, size in files:
            content = path.read_bytes()
            digest.update(json.dumps([relative, hashlib.sha256(content).hexdigest()]).encode())
            info = zipfile.ZipInfo(relative, date_time=_FIXED_TIME)
            info.external_attr = (path.stat().st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
            done += size
            if progress is not None:
                progress(done, total)
    return Snapshot(digest.hexdigest()[:32], Path(zip_name), [f[0] for f in files], total)


def extract_snapshot(
    zip_path: str | os.PathLike[str], target: str | os.PathLike[str], limits: Limits
) -> list[str]:
    """Unpack a snapshot into a folder; member names that would escape it are refused."""
    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = validate_artifact_name(info.filename, limits)
            destination = folder / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(info))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                destination.chmod(mode)
            names.append(name)
    return names

"""Which files of a local folder an upload takes: the one rule for `upload_folder` (every
transport) and for snapshots of a submitted run's source folder.

Regular files are taken; so is a symlink whose target stays inside the folder. A symlink
that leaves the folder (a link to `~/.ssh/id_rsa`, to `/etc`, to a sibling project) is
skipped with a warning: uploading what it points at would publish a file the user never put
in the folder. Symlinked folders are not descended into; broken links, sockets and fifos
are skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from runyard.core.paths import is_within

log = logging.getLogger("runyard.files")


def stays_inside(path: Path, root: str) -> bool:
    """Whether `path`, links followed, is within `root` (already resolved)."""
    return is_within(os.path.realpath(path), root)


def folder_files(folder: str | os.PathLike[str]) -> Iterator[tuple[str, Path]]:
    """(relative '/'-separated name, path) of every file an upload of `folder` takes, in
    walk order; links that leave it are logged and skipped."""
    source = Path(folder)
    root = os.path.realpath(source)
    for current, dirs, names in os.walk(source):
        dirs.sort()
        for name in sorted(names):
            path = Path(current) / name
            if path.is_symlink() and not stays_inside(path, root):
                log.warning(
                    "skipped %s: it is a symbolic link to %s, outside the folder %s",
                    path,
                    os.path.realpath(path),
                    source,
                )
                continue
            if not path.is_file():  # broken links, sockets, fifos
                continue
            yield path.relative_to(source).as_posix(), path

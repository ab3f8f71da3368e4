"""Leftovers of killed processes: temporary upload files and partial artifact files.

A server killed with SIGKILL mid-upload leaves its `runyard-upload-<pid>-*` file in the
temporary folder, and any writer of a local artifact store killed mid-write leaves a
`.runyard-partial-*` file beside the target. Nothing else would ever delete them, so the
server looks for them when it starts and then on a schedule.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time

from runyard.artifacts import ArtifactStore
from runyard.server.bodies import UPLOAD_PREFIX

log = logging.getLogger("runyard.server")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_upload_leftovers(stale_after: float, folder: str | None = None) -> int:
    """Delete upload files whose server process is gone, or untouched for `stale_after`
    seconds; returns how many. Uploads in progress in a live server are left alone."""
    folder = folder or tempfile.gettempdir()
    removed = 0
    now = time.time()
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith(UPLOAD_PREFIX) or not entry.is_file(follow_symlinks=False):
                continue
            owner = entry.name[len(UPLOAD_PREFIX) :].split("-", 1)[0]
            dead = owner.isdigit() and int(owner) != os.getpid() and not _alive(int(owner))
            try:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > stale_after
                if dead or stale:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:  # another worker got there first
                continue
    return removed


def remove_leftovers(files: ArtifactStore, stale_after: float) -> int:
    """Both kinds of leftovers; logs what it removed."""
    uploads = remove_upload_leftovers(stale_after)
    partials = files.remove_partial_leftovers(stale_after)
    if uploads or partials:
        log.info(
            "removed leftovers of killed processes: %d upload files, %d partial files",
            uploads,
            partials,
        )
    return uploads + partials

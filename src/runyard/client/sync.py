"""Uploading a spool folder's leftovers now (what `runyard sync` does)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from runyard.client.http import HttpTransport
from runyard.client.pipeline import LoggingPipeline
from runyard.client.spool import upload_orphans
from runyard.core.limits import Limits


class ServerWorkspace(Protocol):
    """What syncing needs to know of a workspace on a server (an SDK `Workspace` has it)."""

    @property
    def name(self) -> str: ...

    @property
    def server_url(self) -> str | None: ...

    @property
    def token(self) -> str | None: ...

    @property
    def limits(self) -> Limits: ...


def sync_spool(
    workspace: ServerWorkspace, folder: Path, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """Send every batch and call left in the folder by ended processes; (items, points)."""
    assert workspace.server_url is not None
    transport = HttpTransport(
        workspace.server_url, workspace.name, workspace.token, workspace.limits
    )
    # A pipeline that never runs its own queue: it only knows how to replay spooled calls.
    replayer = LoggingPipeline(
        transport.store, workspace.limits, files=transport.files, offline=True
    )
    try:
        return upload_orphans(folder, replayer.replay, workspace.limits, progress)
    finally:
        replayer.close()
        transport.close()

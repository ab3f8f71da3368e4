"""Delivering a spool folder's leftovers now (what `runyard sync` does)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from runyard.client.base import Transport
from runyard.client.orphans import replayer, upload_orphans
from runyard.client.spool import spool_folder
from runyard.core.limits import Limits


class SyncedWorkspace(Protocol):
    """What syncing needs to know of a workspace (an SDK `Workspace` has it): its server,
    or its embedded store and files."""

    @property
    def name(self) -> str: ...

    @property
    def server_url(self) -> str | None: ...

    @property
    def store_url(self) -> str | None: ...

    @property
    def artifacts_url(self) -> str | None: ...

    @property
    def token(self) -> str | None: ...

    @property
    def limits(self) -> Limits: ...


def workspace_spool_folder(workspace: SyncedWorkspace) -> Path:
    """The spool folder of a workspace: of its server, or of its embedded store."""
    location = workspace.server_url or workspace.store_url
    assert location is not None
    return spool_folder(location, workspace.name)


def sync_spool(
    workspace: SyncedWorkspace,
    folder: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Deliver every batch and call left in the folder by ended processes; (items, points).

    Points go under their original idempotency keys: what was delivered before is not
    stored twice.
    """
    folder = workspace_spool_folder(workspace) if folder is None else folder
    transport: Transport
    if workspace.server_url is not None:
        from runyard.client.http import HttpTransport

        transport = HttpTransport(
            workspace.server_url, workspace.name, workspace.token, workspace.limits
        )
    else:
        from runyard.client.local import InProcessTransport

        assert workspace.store_url is not None and workspace.artifacts_url is not None
        transport = InProcessTransport(
            workspace.store_url, workspace.artifacts_url, workspace.limits, workspace.name
        )
    try:
        return upload_orphans(folder, replayer(transport.store, transport.files), progress)
    finally:
        transport.close()

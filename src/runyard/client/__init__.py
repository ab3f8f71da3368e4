"""How the SDK reaches a workspace: embedded (SQLite/PostgreSQL + files) or a server."""

from __future__ import annotations

import os

from runyard.client.base import FileStore, Transport
from runyard.client.pipeline import LoggingPipeline
from runyard.core.errors import ValidationError
from runyard.core.limits import Limits

__all__ = ["FileStore", "LoggingPipeline", "Transport", "connect"]

MODES = ("online", "offline")


def connect(
    workspace: str,
    limits: Limits,
    *,
    store_url: str | None = None,
    artifacts_url: str | None = None,
    server_url: str | None = None,
    token: str | None = None,
) -> tuple[Transport, LoggingPipeline]:
    """A transport and its logging pipeline: in-process for a store URL, HTTP for a server.

    With a server, batches go through the durable spool; RUNYARD_MODE=offline keeps
    everything in the spool for `runyard sync`.
    """
    if server_url is None:
        from runyard.client.local import InProcessTransport

        assert store_url is not None and artifacts_url is not None
        local = InProcessTransport(store_url, artifacts_url, limits, workspace=workspace)
        return local, LoggingPipeline(local.store, limits)
    from runyard.client.http import HttpTransport
    from runyard.client.spool import Spool, spool_folder

    mode = os.environ.get("RUNYARD_MODE", "online")
    if mode not in MODES:
        raise ValidationError(f"RUNYARD_MODE must be one of {', '.join(MODES)}, got {mode!r}")
    remote = HttpTransport(server_url, workspace, token, limits)
    spool = Spool(spool_folder(server_url, workspace))
    pipeline = LoggingPipeline(
        remote.store, limits, spool=spool, files=remote.files, offline=mode == "offline"
    )
    if mode == "offline":
        from runyard.client.offline import OfflineTransport

        return OfflineTransport(pipeline, spool.folder), pipeline
    return remote, pipeline

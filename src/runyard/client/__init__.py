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

    Either way, what is logged is spooled (a local journal) before it is delivered;
    with a server, mutations it cannot take now are spooled too, and
    RUNYARD_MODE=offline keeps everything in the spool for `runyard sync`.
    """
    from runyard.client.spool import Spool, spool_folder

    if server_url is None:
        from runyard.client.local import InProcessTransport

        assert store_url is not None and artifacts_url is not None
        local = InProcessTransport(store_url, artifacts_url, limits, workspace=workspace)
        spool = Spool(spool_folder(store_url, workspace))
        return local, LoggingPipeline(local.store, limits, spool=spool, files=local.files)
    from runyard.client.http import HttpTransport

    mode = os.environ.get("RUNYARD_MODE", "online")
    if mode not in MODES:
        raise ValidationError(f"RUNYARD_MODE must be one of {', '.join(MODES)}, got {mode!r}")
    remote = HttpTransport(server_url, workspace, token, limits)
    spool = Spool(spool_folder(server_url, workspace))
    pipeline = LoggingPipeline(
        remote.store,
        limits,
        spool=spool,
        files=remote.files,
        offline=mode == "offline",
        remote=True,
    )
    if mode == "offline":
        from runyard.client.offline import OfflineTransport

        return OfflineTransport(pipeline, spool.folder), pipeline
    from runyard.client.online import OnlineTransport

    return OnlineTransport(remote, pipeline, spool.folder), pipeline

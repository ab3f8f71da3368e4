"""The embedded transport: straight to a SQL store and an fsspec folder, no server."""

from __future__ import annotations

from runyard.artifacts import ArtifactStore
from runyard.client.base import FileStore, Transport
from runyard.core.limits import Limits
from runyard.core.names import DEFAULT_WORKSPACE
from runyard.store.base import TrackingStore
from runyard.store.sql import SqlTrackingStore


class InProcessTransport(Transport):
    """A workspace whose store and files this process opens itself."""

    def __init__(
        self,
        store_url: str,
        artifacts_url: str,
        limits: Limits | None = None,
        workspace: str = DEFAULT_WORKSPACE,
    ) -> None:
        self._store = SqlTrackingStore(store_url, limits, workspace)
        self._files = ArtifactStore(artifacts_url, snapshot_scope=workspace)

    @property
    def store(self) -> TrackingStore:
        """The SQL tracking store."""
        return self._store

    @property
    def files(self) -> FileStore:
        """The artifact folder (or fsspec URL)."""
        return self._files

    def close(self) -> None:
        """Close the store's connections."""
        self._store.close()

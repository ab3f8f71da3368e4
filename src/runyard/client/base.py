"""The transport the SDK talks through: a tracking store plus a file store for one workspace."""

from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from dataclasses import fields
from typing import TYPE_CHECKING, Protocol

from runyard.core.limits import Limits
from runyard.store.base import TrackingStore

if TYPE_CHECKING:
    from runyard.client.models import ModelRegistry

#: Limits for decoding what a store already holds (or a spool already accepted): they were
#: checked where the values were written, so a reader with smaller limits still reads them.
STORED_LIMITS = Limits(**{f.name: sys.maxsize for f in fields(Limits)})


class FileStore(Protocol):
    """Files of runs, addressed by a run's prefix and a relative name."""

    def put_file(self, prefix: str, name: str, local_path: str | os.PathLike[str]) -> str: ...

    def put_bytes(self, prefix: str, name: str, data: bytes) -> str: ...

    def put_folder(
        self, prefix: str, name_prefix: str, local_dir: str | os.PathLike[str]
    ) -> list[str]: ...

    def get_file(self, prefix: str, name: str, local_path: str | os.PathLike[str]) -> None: ...

    def read_bytes(self, prefix: str, name: str) -> bytes: ...

    def exists(self, prefix: str, name: str) -> bool: ...

    def list_files(self, prefix: str, under: str = "") -> list[str]: ...

    def put_snapshot(self, snapshot_id: str, zip_path: str | os.PathLike[str]) -> None: ...

    def has_snapshot(self, snapshot_id: str) -> bool: ...

    def get_snapshot(self, snapshot_id: str, local_path: str | os.PathLike[str]) -> None: ...


class Transport(ABC):
    """What a workspace is reached through: in-process (embedded) or HTTP (a server)."""

    @property
    @abstractmethod
    def store(self) -> TrackingStore:
        """Runs, metadata and metric points."""

    @property
    @abstractmethod
    def files(self) -> FileStore:
        """Run files and images."""

    @property
    @abstractmethod
    def models(self) -> ModelRegistry:
        """Registered models and their files."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

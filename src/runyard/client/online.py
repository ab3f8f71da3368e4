"""Online mode: a server restart must never crash training.

Reads go to the server and may raise. A mutation (tags, properties, display name,
description, status, a file) is made at once while the server answers; when it cannot
be, it goes through the spool like points (a file as a spooled copy) and is delivered
later, in order — and every mutation after it queues behind it until delivery catches
up, so none overtakes another.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from runyard.client.base import FileStore, Transport
from runyard.client.http import HttpTrackingStore, HttpTransport
from runyard.client.http_files import HttpFileStore
from runyard.client.models import ModelRegistry
from runyard.client.operations import copy_file, keep_copy
from runyard.client.pipeline import LoggingPipeline
from runyard.core.entities import RunError, run_changes
from runyard.core.errors import TransportError
from runyard.core.paths import validate_artifact_name
from runyard.core.status import Status
from runyard.store.base import TrackingStore

log = logging.getLogger("runyard.pipeline")

T = TypeVar("T")


def _made_or_spooled(
    pipeline: LoggingPipeline, op: str, args: Callable[[], dict[str, Any]], call: Callable[[], T]
) -> T | None:
    """Make the call now, unless the server is away or earlier calls still wait for it;
    then spool it (on disk before this returns). None when spooled."""
    if not pipeline.calls_pending():
        try:
            return call()
        except TransportError as exc:
            log.warning("the server is unreachable (%s): %s goes through the spool", exc, op)
    pipeline.spool_call(op, args())
    return None


class SpoolingStore(HttpTrackingStore):
    """The server's tracking store, with mutations that survive the server being away."""

    def __init__(self, remote: HttpTrackingStore, pipeline: LoggingPipeline) -> None:
        super().__init__(remote._api, remote.limits)
        self._pipeline = pipeline

    def update_run(
        self,
        run_id: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        run_definition: dict[str, object] | None = None,
    ) -> None:
        """Change descriptive fields (spooled while the server is away)."""
        _made_or_spooled(
            self._pipeline,
            "update_run",
            lambda: {"run_id": run_id, **run_changes(display_name, description, run_definition)},
            lambda: super(SpoolingStore, self).update_run(
                run_id,
                display_name=display_name,
                description=description,
                run_definition=run_definition,
            ),
        )

    def set_status(self, run_id: str, status: Status, error: RunError | None = None) -> Status:
        """Move the run to a status (spooled while the server is away)."""
        made = _made_or_spooled(
            self._pipeline,
            "set_status",
            lambda: {
                "run_id": run_id,
                "status": Status(status).value,
                "error": error.model_dump() if error else None,
            },
            lambda: super(SpoolingStore, self).set_status(run_id, status, error),
        )
        return Status(status) if made is None else made

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags (spooled while the server is away)."""
        _made_or_spooled(
            self._pipeline,
            "set_tags",
            lambda: {"run_id": run_id, "tags": tags},
            lambda: super(SpoolingStore, self).set_tags(run_id, tags),
        )

    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None:
        """Delete tags (spooled while the server is away)."""
        keys = list(keys)
        _made_or_spooled(
            self._pipeline,
            "remove_tags",
            lambda: {"run_id": run_id, "keys": keys},
            lambda: super(SpoolingStore, self).remove_tags(run_id, keys),
        )

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Add write-once properties (spooled while the server is away; a clash found at
        delivery is raised at the run's next call)."""
        _made_or_spooled(
            self._pipeline,
            "add_properties",
            lambda: {"run_id": run_id, "properties": properties},
            lambda: super(SpoolingStore, self).add_properties(run_id, properties),
        )

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        """Add write-once params (spooled while the server is away, like properties)."""
        _made_or_spooled(
            self._pipeline,
            "log_params",
            lambda: {"run_id": run_id, "params": params},
            lambda: super(SpoolingStore, self).log_params(run_id, params),
        )


class SpoolingFileStore(HttpFileStore):
    """The server's file store; an upload the server cannot take now is a spooled copy."""

    def __init__(self, remote: HttpFileStore, pipeline: LoggingPipeline, folder: Path) -> None:
        super().__init__(remote._api, remote._limits)
        self._pipeline = pipeline
        self._folder = folder

    def _upload(self, prefix: str, name: str, copy: Callable[[Path], object], send: Any) -> str:
        name = validate_artifact_name(name, self._limits)
        made = _made_or_spooled(
            self._pipeline,
            "upload_file",
            lambda: keep_copy(self._folder, prefix, name, copy),
            send,
        )
        return name if made is None else str(made)

    def put_file(self, prefix: str, name: str, local_path: str | os.PathLike[str]) -> str:
        """Upload a local file (a spooled copy while the server is away)."""
        copy = copy_file(local_path)
        return self._upload(
            prefix,
            name,
            copy,
            lambda: super(SpoolingFileStore, self).put_file(prefix, name, local_path),
        )

    def put_bytes(self, prefix: str, name: str, data: bytes) -> str:
        """Upload bytes as a file (spooled while the server is away)."""
        return self._upload(
            prefix,
            name,
            lambda kept: kept.write_bytes(data),
            lambda: super(SpoolingFileStore, self).put_bytes(prefix, name, data),
        )


class OnlineTransport(Transport):
    """A workspace on a server, reached through the spool whenever the server is away."""

    def __init__(self, remote: HttpTransport, pipeline: LoggingPipeline, folder: Path) -> None:
        self._remote = remote
        self._store = SpoolingStore(remote._store, pipeline)
        self._files = SpoolingFileStore(remote._files, pipeline, folder)

    @property
    def store(self) -> TrackingStore:
        """The server's store; mutations spooled while it is away."""
        return self._store

    @property
    def files(self) -> FileStore:
        """The server's files; uploads spooled while it is away."""
        return self._files

    @property
    def models(self) -> ModelRegistry:
        """The server's model registry: registering needs its answer (the version), so it
        is not spooled and may raise while the server is away."""
        return self._remote.models

    def close(self) -> None:
        """Close the connection pool."""
        self._remote.close()

"""Offline mode (RUNYARD_MODE=offline): every change goes to the spool, to sync later.

Runs are created with ids made here, so a script runs to the end with no server; what
it changed is replayed in order by `runyard sync`. Reads that need the server (metrics,
searches, files) say so; a run's own status, tags and properties are known locally.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from runyard.artifacts.local_folder import folder_files
from runyard.client.base import FileStore, Transport
from runyard.client.models import ModelRegistry
from runyard.client.operations import copy_file, keep_copy
from runyard.client.pipeline import LoggingPipeline
from runyard.core.entities import (
    ExperimentInfo,
    NewRun,
    RunDocument,
    RunError,
    RunFilter,
    run_changes,
)
from runyard.core.errors import ImmutablePropertyError, NotFoundError, OfflineError
from runyard.core.history import History
from runyard.core.log_lines import LogLine
from runyard.core.metrics import MetricInfo, MetricSeries, PointBatch
from runyard.core.registry import ModelFilter, ModelVersion, NewModelVersion
from runyard.core.run_table import (
    RunState,
    RunTablePage,
    RunTableQuery,
    TableValues,
    TableValuesQuery,
)
from runyard.core.status import TERMINAL, Status, check_transition
from runyard.store.base import TrackingStore


def _needs_server(what: str) -> NoReturn:
    raise OfflineError(
        f"{what} needs the server, and RUNYARD_MODE=offline: what this process logs is kept "
        "in the spool; run `runyard sync` once the server is reachable, then read it there"
    )


class OfflineStore(TrackingStore):
    """Changes become spooled calls; the runs made here are remembered for reading back."""

    def __init__(self, pipeline: LoggingPipeline) -> None:
        self._pipeline = pipeline
        self._runs: dict[str, RunDocument] = {}

    def _doc(self, run_id: str) -> RunDocument:
        doc = self._runs.get(run_id)
        if doc is None:
            raise NotFoundError(f"run {run_id!r} was not created in this offline process")
        return doc

    def _update(self, run_id: str, **changes: Any) -> None:
        self._runs[run_id] = self._doc(run_id).model_copy(update=changes)

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """A stand-in: the server numbers the experiment at sync."""
        return ExperimentInfo(experiment_id=0, name=name, created_utc=datetime.now(UTC))

    def get_experiment(self, name: str) -> ExperimentInfo:
        """See get_or_create_experiment."""
        return self.get_or_create_experiment(name)

    def list_experiments(self, include_archived: bool = False) -> list[ExperimentInfo]:
        """Needs the server."""
        _needs_server("listing experiments")

    def set_experiment_archived(self, name: str, archived: bool) -> None:
        """Needs the server."""
        _needs_server("archiving an experiment")

    def rename_experiment(self, name: str, new_name: str) -> None:
        """Needs the server."""
        _needs_server("renaming an experiment")

    def create_runs(self, new_runs: Sequence[NewRun]) -> list[RunDocument]:
        """Spool the creation; the runs' numbers are given by the server at sync."""
        self._pipeline.enqueue_op(
            "create_runs", {"runs": [r.model_dump(mode="json") for r in new_runs]}
        )
        now = datetime.now(UTC)
        docs = []
        for new in new_runs:
            doc = RunDocument(
                run_id=new.run_id,
                run_number=0,
                experiment_name=new.experiment_name,
                experiment_id=0,
                display_name=new.display_name,
                description=new.description,
                status=new.status,
                target=new.target,
                run_type=new.run_type,
                parent_run_id=new.parent_run_id,
                created_utc=now,
                start_time_utc=now if new.status is Status.RUNNING else None,
                submitted_by=new.submitted_by,
                tags=dict(new.tags),
                properties=dict(new.properties),
                run_definition=dict(new.run_definition),
            )
            self._runs[new.run_id] = doc
            docs.append(doc)
        return docs

    def get_run(self, run_id: str) -> RunDocument:
        """A run made in this process, as it stands here."""
        return self._doc(run_id)

    def search_runs(
        self, run_filter: RunFilter, *, limit: int = 100, page_token: str | None = None
    ) -> tuple[list[RunDocument], str | None]:
        """Needs the server."""
        _needs_server("searching runs")

    def update_run(
        self,
        run_id: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        run_definition: dict[str, object] | None = None,
    ) -> None:
        """Spool the change."""
        changes = run_changes(display_name, description, run_definition)
        self._update(run_id, **changes)
        self._pipeline.enqueue_op("update_run", {"run_id": run_id, **changes})

    def set_status(self, run_id: str, status: Status, error: RunError | None = None) -> Status:
        """Check the transition here, spool it."""
        doc = self._doc(run_id)
        if check_transition(doc.status, status):
            now = datetime.now(UTC)
            self._update(
                run_id,
                status=status,
                error=error,
                end_time_utc=now if status in TERMINAL else None,
                start_time_utc=doc.start_time_utc or (now if status is Status.RUNNING else None),
            )
            self._pipeline.enqueue_op(
                "set_status",
                {
                    "run_id": run_id,
                    "status": status.value,
                    "error": error.model_dump() if error else None,
                },
            )
        return status

    def heartbeat(self, run_id: str) -> None:
        """Nobody listens offline."""

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        """Spool the tags."""
        self._update(run_id, tags={**self._doc(run_id).tags, **tags})
        self._pipeline.enqueue_op("set_tags", {"run_id": run_id, "tags": tags})

    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None:
        """Spool the removal."""
        keys = list(keys)
        remaining = {k: v for k, v in self._doc(run_id).tags.items() if k not in keys}
        self._update(run_id, tags=remaining)
        self._pipeline.enqueue_op("remove_tags", {"run_id": run_id, "keys": keys})

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Check immutability here, spool the properties."""
        existing = self._doc(run_id).properties
        for key, value in properties.items():
            if key in existing and existing[key] != value:
                raise ImmutablePropertyError(
                    f"property {key!r} of run {run_id!r} is already {existing[key]!r}"
                )
        self._update(run_id, properties={**existing, **properties})
        self._pipeline.enqueue_op("add_properties", {"run_id": run_id, "properties": properties})

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        """Check immutability here, spool the params."""
        existing = self._doc(run_id).params
        for key, value in params.items():
            if key in existing and existing[key] != value:
                raise ImmutablePropertyError(
                    f"param {key!r} of run {run_id!r} is already {existing[key]!r}"
                )
        self._update(run_id, params={**existing, **params})
        self._pipeline.enqueue_op("log_params", {"run_id": run_id, "params": params})

    def log_points(
        self, run_id: str, batches: Sequence[PointBatch], idempotency_key: str | None = None
    ) -> bool:
        """Points reach the spool through the pipeline, not through here."""
        _needs_server("writing points directly")

    def list_metrics(self, run_id: str) -> list[MetricInfo]:
        """Nothing is known here: the server counts at sync."""
        return []

    def get_metric_series(
        self, run_id: str, names: Sequence[str] | None = None, *, values_only: bool = False
    ) -> list[MetricSeries]:
        """Needs the server."""
        _needs_server("reading metrics")

    def get_metric_history_range(
        self,
        run_id: str,
        name: str,
        column: str,
        max_points: int | None,
        min_step: int | None,
        max_step: int | None,
    ) -> History:
        """Needs the server."""
        _needs_server("reading metric history")

    def run_table(self, query: RunTableQuery) -> RunTablePage:
        """Needs the server."""
        _needs_server("listing runs")

    def run_table_values(self, query: TableValuesQuery) -> TableValues:
        """Needs the server."""
        _needs_server("listing runs")

    def cancel_run(self, run_id: str) -> Status:
        """Needs the server."""
        _needs_server("canceling runs")

    def run_states(
        self, experiment: str, after_pk: int | None, watched: Sequence[int] = ()
    ) -> tuple[int, list[tuple[int, RunState]]]:
        """Needs the server."""
        _needs_server("following runs")

    def read_points_since(
        self,
        run_id: str,
        cursors: dict[tuple[str, str], tuple[int, int]],
        limit: int = 10_000,
        counts: dict[tuple[str, str], int] | None = None,
    ) -> list[MetricSeries]:
        """Needs the server."""
        _needs_server("reading metrics")

    def get_metric_history(
        self, run_id: str, name: str, column: str = "", max_points: int | None = None
    ) -> History:
        """Needs the server."""
        _needs_server("reading metric history")

    def append_log_lines(self, run_id: str, stream: str, lines: Sequence[str]) -> int:
        """Spool the lines."""
        self._pipeline.enqueue_op(
            "append_log_lines", {"run_id": run_id, "stream": stream, "lines": list(lines)}
        )
        return 0

    def read_log_lines(
        self, run_id: str, stream: str | None = None, after: int = -1, limit: int = 10_000
    ) -> list[LogLine]:
        """Needs the server."""
        _needs_server("reading logs")

    def list_log_streams(self, run_id: str) -> dict[str, int]:
        """Needs the server."""
        _needs_server("listing logs")

    def close(self) -> None:
        """Nothing to close."""


class OfflineFileStore(FileStore):
    """Uploads are copied into the spool folder and sent at sync."""

    def __init__(self, pipeline: LoggingPipeline, folder: Path) -> None:
        self._pipeline = pipeline
        self._folder = folder

    def _keep(self, prefix: str, name: str, copy: Any) -> str:
        from runyard.core.limits import Limits
        from runyard.core.paths import validate_artifact_name

        name = validate_artifact_name(name, Limits.from_env())
        self._pipeline.enqueue_op("upload_file", keep_copy(self._folder, prefix, name, copy))
        return name

    def put_file(self, prefix: str, name: str, local_path: str | os.PathLike[str]) -> str:
        """Keep a copy of the file for sync."""
        return self._keep(prefix, name, copy_file(local_path))

    def put_bytes(self, prefix: str, name: str, data: bytes) -> str:
        """Keep the bytes for sync."""
        return self._keep(prefix, name, lambda kept: kept.write_bytes(data))

    def put_folder(
        self, prefix: str, name_prefix: str, local_dir: str | os.PathLike[str]
    ) -> list[str]:
        """Keep a copy of every file of the folder for sync."""
        return sorted(
            self.put_file(prefix, f"{name_prefix}/{relative}", path)
            for relative, path in folder_files(local_dir)
        )

    def get_file(self, prefix: str, name: str, local_path: str | os.PathLike[str]) -> None:
        """Needs the server."""
        _needs_server("downloading a file")

    def read_bytes(self, prefix: str, name: str) -> bytes:
        """Needs the server."""
        _needs_server("reading a file")

    def exists(self, prefix: str, name: str) -> bool:
        """Needs the server."""
        _needs_server("looking for a file")

    def list_files(self, prefix: str, under: str = "") -> list[str]:
        """Nothing is listed offline (logs are listed by get_details)."""
        return []

    def put_snapshot(self, snapshot_id: str, zip_path: str | os.PathLike[str]) -> None:
        """Submitting needs the server."""
        _needs_server("submitting a script")

    def has_snapshot(self, snapshot_id: str) -> bool:
        """Needs the server."""
        _needs_server("looking for a snapshot")

    def get_snapshot(self, snapshot_id: str, local_path: str | os.PathLike[str]) -> None:
        """Needs the server."""
        _needs_server("downloading a snapshot")


class OfflineModelRegistry(ModelRegistry):
    """Models need the server: versions are numbered there, and `register_model` returns
    the version it made, which an offline process cannot know."""

    def register_from_run(self, new: NewModelVersion, path: str) -> ModelVersion:
        """Needs the server."""
        _needs_server("registering a model")

    def register_local(
        self, new: NewModelVersion, local_path: str | os.PathLike[str]
    ) -> ModelVersion:
        """Needs the server."""
        _needs_server("registering a model")

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """Needs the server."""
        _needs_server("reading a model")

    def list(self, model_filter: ModelFilter) -> list[ModelVersion]:
        """Needs the server."""
        _needs_server("listing models")

    def set_tags(self, name: str, version: int, tags: dict[str, str | None]) -> None:
        """Needs the server."""
        _needs_server("tagging a model")

    def remove_tags(self, name: str, version: int, keys: Iterable[str]) -> None:
        """Needs the server."""
        _needs_server("removing a model's tags")

    def add_properties(self, name: str, version: int, properties: dict[str, str]) -> None:
        """Needs the server."""
        _needs_server("adding a model's properties")

    def download_file(
        self, model: ModelVersion, name: str, local_path: str | os.PathLike[str]
    ) -> None:
        """Needs the server."""
        _needs_server("downloading a model")


class OfflineTransport(Transport):
    """The transport of a process in offline mode."""

    def __init__(self, pipeline: LoggingPipeline, folder: Path) -> None:
        self._store = OfflineStore(pipeline)
        self._files = OfflineFileStore(pipeline, folder)
        self._models = OfflineModelRegistry()

    @property
    def store(self) -> TrackingStore:
        """Spooling store."""
        return self._store

    @property
    def files(self) -> FileStore:
        """Spooling file store."""
        return self._files

    @property
    def models(self) -> ModelRegistry:
        """Models need the server: every call says so."""
        return self._models

    def close(self) -> None:
        """Nothing to close."""

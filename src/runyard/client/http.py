"""The HTTP transport: the same TrackingStore and FileStore, spoken to a runyard server.

Errors come back as the server's `{"error": {"type", "message"}}` and are raised as the
same runyard error classes; an unreachable or failing server raises TransportError,
which the logging pipeline retries (with the batch's idempotency key).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import httpx

from runyard.client.base import STORED_LIMITS, FileStore, Transport
from runyard.client.http_api import Api, number, raise_for
from runyard.client.http_files import HttpFileStore
from runyard.client.http_models import HttpModelRegistry
from runyard.client.models import ModelRegistry
from runyard.core.entities import (
    ExperimentInfo,
    NewRun,
    RunDocument,
    RunError,
    RunFilter,
    run_changes,
)
from runyard.core.errors import TransportError, ValidationError
from runyard.core.history import History
from runyard.core.limits import Limits
from runyard.core.log_lines import LogLine
from runyard.core.metrics import MetricInfo, MetricKind, MetricSeries, PointBatch
from runyard.core.run_table import (
    RunState,
    RunTablePage,
    RunTableQuery,
    TableValues,
    TableValuesQuery,
)
from runyard.core.status import Status
from runyard.core.wire import MEDIA_TYPE, decode_batches, encode_batches
from runyard.store.base import TrackingStore

#: Points per page when reading series: a few tens of MB per answer, whatever their length.
SERIES_PAGE_POINTS = 500_000
#: The header of a series page that names the next page.
NEXT_PAGE_HEADER = "x-runyard-next-page-token"


class HttpTrackingStore(TrackingStore):
    """A tracking store on the other side of an HTTP connection."""

    def __init__(self, api: Api, limits: Limits) -> None:
        self._api = api
        self.limits = limits

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """The experiment of that name, created if needed."""
        return ExperimentInfo.model_validate(self._api.json("PUT", f"/experiments/{name}"))

    def get_experiment(self, name: str) -> ExperimentInfo:
        """The experiment of that name."""
        return ExperimentInfo.model_validate(self._api.json("GET", f"/experiments/{name}"))

    def list_experiments(self, include_archived: bool = False) -> list[ExperimentInfo]:
        """Every experiment of the workspace."""
        found = self._api.json("GET", "/experiments", params={"include_archived": include_archived})
        return [ExperimentInfo.model_validate(e) for e in found]

    def set_experiment_archived(self, name: str, archived: bool) -> None:
        """Archive or reactivate an experiment."""
        self._api.call("POST", f"/experiments/{name}/archive", json={"archived": archived})

    def rename_experiment(self, name: str, new_name: str) -> None:
        """Rename an experiment."""
        self._api.call("POST", f"/experiments/{name}/rename", json={"name": new_name})

    def create_runs(self, new_runs: Sequence[NewRun]) -> list[RunDocument]:
        """Create runs in one request."""
        body = {"runs": [r.model_dump(mode="json") for r in new_runs]}
        return [RunDocument.model_validate(d) for d in self._api.json("POST", "/runs", json=body)]

    def get_run(self, run_id: str) -> RunDocument:
        """One run's document."""
        return RunDocument.model_validate(self._api.json("GET", f"/runs/{run_id}"))

    def search_runs(
        self, run_filter: RunFilter, *, limit: int = 100, page_token: str | None = None
    ) -> tuple[list[RunDocument], str | None]:
        """One page of matching runs and the next page's token."""
        body = {
            "filter": run_filter.model_dump(mode="json"),
            "limit": limit,
            "page_token": page_token,
        }
        page = self._api.json("POST", "/runs/search", json=body)
        return [RunDocument.model_validate(d) for d in page["runs"]], page["next_page_token"]

    def update_run(
        self,
        run_id: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        run_definition: dict[str, object] | None = None,
    ) -> None:
        """Change descriptive fields."""
        body = run_changes(display_name, description, run_definition)
        self._api.call("PATCH", f"/runs/{run_id}", json=body)

    def set_status(self, run_id: str, status: Status, error: RunError | None = None) -> Status:
        """Move the run to a status."""
        body = {"status": Status(status).value, "error": error.model_dump() if error else None}
        return Status(self._api.json("POST", f"/runs/{run_id}/status", json=body)["status"])

    def heartbeat(self, run_id: str) -> None:
        """Tell the server the run's process is alive."""
        self._api.call("POST", f"/runs/{run_id}/heartbeat")

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags."""
        self._api.call("PUT", f"/runs/{run_id}/tags", json={"tags": tags})

    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None:
        """Delete tags."""
        self._api.call("POST", f"/runs/{run_id}/tags/remove", json={"keys": list(keys)})

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Add write-once properties."""
        self._api.call("POST", f"/runs/{run_id}/properties", json={"properties": properties})

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        """Add write-once params."""
        self._api.call("POST", f"/runs/{run_id}/params", json={"params": params})

    def log_points(
        self, run_id: str, batches: Sequence[PointBatch], idempotency_key: str | None = None
    ) -> bool:
        """Send points as one binary frame; False if the server had that key already."""
        return self.send_frame(run_id, encode_batches(list(batches), idempotency_key))

    def send_frame(self, run_id: str, frame: bytes) -> bool:
        """Send an already encoded frame (its key inside); False if the server had it."""
        answer = self._api.json(
            "POST", f"/runs/{run_id}/points", content=frame, headers={"content-type": MEDIA_TYPE}
        )
        return bool(answer["stored"])

    def list_metrics(self, run_id: str) -> list[MetricInfo]:
        """The run's metric summaries."""
        found = self._api.json("GET", f"/runs/{run_id}/metrics")
        return [
            MetricInfo(
                name=m["name"],
                column=m["column"],
                kind=MetricKind(m["kind"]),
                description=m["description"],
                count=m["count"],
                last_value=m["last_value"],
                last_step=m["last_step"],
                min_value=number(m["min_value"]),
                max_value=number(m["max_value"]),
            )
            for m in found
        ]

    def get_metric_series(
        self, run_id: str, names: Sequence[str] | None = None, *, values_only: bool = False
    ) -> list[MetricSeries]:
        """Every point of the named metrics, fetched as binary frames page by page (the
        server never holds more than a page; a metric cut by a page is joined here)."""
        params: dict[str, Any] = {"values_only": values_only, "page_size": SERIES_PAGE_POINTS}
        if names is not None:
            params["name"] = list(names)
        found: list[MetricSeries] = []
        while True:
            response = self._api.call(
                "GET",
                f"/runs/{run_id}/metrics/series",
                params=params,
                headers={"accept": MEDIA_TYPE},
            )
            # What the server holds passed the writer's limits; this process's own do not apply.
            _, batches = decode_batches(response.content, STORED_LIMITS, max_points=2**62)
            for b in batches:
                last = found[-1] if found else None
                if last is not None and (last.name, last.column) == (b.name, b.column):
                    last.values.extend(b.values)  # the same metric, continued on this page
                    if not values_only:
                        start = len(last.steps)
                        last.steps.extend(
                            s if s is not None else start + i for i, s in enumerate(b.steps)
                        )
                        last.times.extend(b.times)
                    continue
                found.append(
                    MetricSeries(
                        name=b.name,
                        column=b.column,
                        kind=b.kind,
                        description=b.description,
                        steps=[]
                        if values_only
                        else [s if s is not None else i for i, s in enumerate(b.steps)],
                        values=b.values,
                        times=[] if values_only else b.times,
                    )
                )
            token = response.headers.get(NEXT_PAGE_HEADER)
            if token is None:
                return found
            params["page_token"] = token

    def read_points_since(
        self,
        run_id: str,
        cursors: dict[tuple[str, str], tuple[int, int]],
        limit: int = 10_000,
        counts: dict[tuple[str, str], int] | None = None,
    ) -> list[MetricSeries]:
        """The server's own way to feed live streams; a client follows them instead."""
        raise ValidationError(
            f"reading points since a cursor is done by the server; to follow run {run_id} "
            f"live over HTTP, read GET /runs/{run_id}/events"
        )

    def get_metric_history(
        self, run_id: str, name: str, column: str = "", max_points: int | None = None
    ) -> History:
        """A metric's chart points, downsampled by the server."""
        params: dict[str, Any] = {"name": name, "column": column}
        if max_points is not None:
            params["max_points"] = max_points
        h = self._api.json("GET", f"/runs/{run_id}/metrics/history", params=params)
        return History(
            count=h["count"],
            downsampled=h["downsampled"],
            steps=h["steps"],
            values=[number(v) for v in h["values"]] if h["downsampled"] else h["values"],
            min=[number(v) for v in h["min"]],
            max=[number(v) for v in h["max"]],
            counts=h["counts"],
        )

    def get_metric_history_range(
        self,
        run_id: str,
        name: str,
        column: str,
        max_points: int | None,
        min_step: int | None,
        max_step: int | None,
    ) -> History:
        """A metric's chart points within a step range, downsampled by the server."""
        params: dict[str, Any] = {"name": name, "column": column}
        for key, value in (("max_points", max_points), ("min_step", min_step)):
            if value is not None:
                params[key] = value
        if max_step is not None:
            params["max_step"] = max_step
        h = self._api.json("GET", f"/runs/{run_id}/metrics/history", params=params)
        return History(
            count=h["count"],
            downsampled=h["downsampled"],
            steps=h["steps"],
            values=[number(v) for v in h["values"]] if h["downsampled"] else h["values"],
            min=[number(v) for v in h["min"]],
            max=[number(v) for v in h["max"]],
            counts=h["counts"],
        )

    def run_table(self, query: RunTableQuery) -> RunTablePage:
        """One page of the runs table, from the server."""
        body = query.model_dump(mode="json")
        return RunTablePage.model_validate(self._api.json("POST", "/runs/table", json=body))

    def run_table_values(self, query: TableValuesQuery) -> TableValues:
        """Distinct values of a field, from the server."""
        body = query.model_dump(mode="json")
        answer = self._api.json("POST", "/runs/table/values", json=body)
        return TableValues.model_validate(answer)

    def cancel_run(self, run_id: str) -> Status:
        """Cancel the run on the server, as `Run.cancel()` does."""
        return Status(self._api.json("POST", f"/runs/{run_id}/cancel")["status"])

    def run_states(
        self, experiment: str, after_pk: int | None, watched: Sequence[int] = ()
    ) -> tuple[int, list[tuple[int, RunState]]]:
        """The server's own feed of its status streams; a client follows the stream."""
        raise ValidationError(
            f"run states are read by the server; to follow experiment {experiment!r} live "
            f"over HTTP, read GET /experiments/{experiment}/events"
        )

    def follow_logs(
        self, run_id: str, printed: dict[str, int], deadline: float | None
    ) -> Iterator[str]:
        """Log lines of the run as the server pushes them (its event stream), until the run
        has ended; `printed` holds, per stream, the number of the last line already seen."""
        url = f"/runs/{run_id}/events"
        kind = ""
        # Without a deadline, wait for lines as long as the run goes on (the server pings).
        read = None if deadline is None else max(0.5, deadline - time.monotonic())
        try:
            with self._api.client.stream(
                "GET", url, params={"metrics": False}, timeout=httpx.Timeout(30.0, read=read)
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise_for(response)
                for line in response.iter_lines():
                    if deadline is not None and time.monotonic() > deadline:
                        return
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "log":
                        event = json.loads(line[6:])
                        stream, first = event["stream"], event["first"]
                        for offset, text in enumerate(event["lines"]):
                            if first + offset > printed.get(stream, -1):
                                printed[stream] = first + offset
                                yield text
                    elif kind == "end":
                        return
        except httpx.HTTPError as exc:
            raise TransportError(f"lost the run's event stream: {exc}") from exc

    def append_log_lines(self, run_id: str, stream: str, lines: Sequence[str]) -> int:
        """Append lines to a log stream of the run."""
        answer = self._api.json(
            "POST", f"/runs/{run_id}/logs/{stream}", json={"lines": list(lines)}
        )
        return int(answer["first"])

    def read_log_lines(
        self, run_id: str, stream: str | None = None, after: int = -1, limit: int = 10_000
    ) -> list[LogLine]:
        """Lines of a stream (or all) numbered above `after`."""
        params: dict[str, Any] = {"after": after, "limit": limit}
        if stream is not None:
            params["stream"] = stream
        found = self._api.json("GET", f"/runs/{run_id}/logs", params=params)
        return [LogLine(**line) for line in found]

    def list_log_streams(self, run_id: str) -> dict[str, int]:
        """The run's log streams and their line counts."""
        return dict(self._api.json("GET", f"/runs/{run_id}/logs/streams"))

    def close(self) -> None:
        """Close the connection pool."""
        self._api.client.close()


class HttpTransport(Transport):
    """A workspace on a runyard server."""

    def __init__(
        self,
        server_url: str,
        workspace: str,
        token: str | None = None,
        limits: Limits | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.server_url = server_url
        self.limits = limits or Limits.from_env()
        self._api = Api(server_url, workspace, token, timeout)
        self._store = HttpTrackingStore(self._api, self.limits)
        self._files = HttpFileStore(self._api, self.limits)
        self._models = HttpModelRegistry(self._api, self.limits)

    @property
    def store(self) -> TrackingStore:
        """The server's tracking store."""
        return self._store

    @property
    def files(self) -> FileStore:
        """The server's file store."""
        return self._files

    @property
    def models(self) -> ModelRegistry:
        """The server's model registry."""
        return self._models

    def close(self) -> None:
        """Close the connection pool."""
        self._store.close()

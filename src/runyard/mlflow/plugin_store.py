"""The in-process MLflow tracking store: mlflow's client writing into a runyard workspace.

Loaded by mlflow through the `mlflow.tracking_store` entry point for `runyard://` URIs
(core/mlflow_uri.py). It is mlflow's own `RestStore`. For a local workspace the HTTP hop is
taken out: every request goes, as the same JSON body, to the same handler the server's MLflow
routes use (`endpoints.find_route`), with the workspace's owner access — one meaning for both
ways in, and whatever endpoints are added to the table work here too. For a workspace on a
server the requests go to its MLflow routes as usual. Metrics are the exception:
`log_metric` and the metrics of `log_batch` are queued on the workspace's logging pipeline,
as `run.log` is (no wait on the database, spooled durably, delivered once), and any read
(a GET, a search) first stores what is queued, so a read after a write sees it.

A run submitted through runyard belongs to its runner: ending it through mlflow
(`mlflow.end_run()`, Lightning's `finalize`) leaves its status alone, here as over REST
(the rule is the shared handler's), since the runner sets the final status.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import RestException
from mlflow.store.tracking.rest_store import RestStore
from mlflow.utils.proto_json_utils import parse_dict
from mlflow.utils.rest_utils import MlflowHostCreds
from mlflow.utils.validation import _validate_metric
from starlette.responses import Response

from runyard.artifacts import ArtifactStore
from runyard.client.pipeline import flush_timeout
from runyard.core.errors import NotFoundError, RunyardError
from runyard.core.mlflow_uri import MlflowLocation, parse_mlflow_uri
from runyard.core.roles import Role
from runyard.mlflow import app  # noqa: F401  (imports every endpoint module: the full table)
from runyard.mlflow.endpoints import API_VERSIONS, find_route
from runyard.mlflow.errors import MlflowError, from_runyard
from runyard.sdk.workspace import Workspace
from runyard.store.base import ModelStore, TrackingStore

_ARTIFACTS_PREFIX = "mlflow-artifacts:/"
log = logging.getLogger("runyard.mlflow")


@dataclass(frozen=True)
class LocalAccess:
    """The owner's view of a local workspace (what `endpoints.Access` asks for)."""

    workspace: str
    role: Role
    store: TrackingStore
    files: ArtifactStore
    models: ModelStore


def open_workspace(location: MlflowLocation) -> Workspace:
    """The workspace a URI names, sharing its transport and pipeline with the SDK's objects
    of the same workspace in this process (one pipeline: one spool, one order of writes).
    A server's token comes from MLFLOW_TRACKING_TOKEN, where mlflow's clients read it."""
    if location.server_url is not None:
        token = os.environ.get("MLFLOW_TRACKING_TOKEN") or None
        return Workspace(location.workspace, server_url=location.server_url, token=token)
    return Workspace(
        location.workspace, store_url=location.store_url, artifacts_url=location.artifacts_url
    )


def local_access(workspace: Workspace) -> LocalAccess:
    """The owner's access to a workspace this process opens itself."""
    transport = workspace.transport
    store = transport.store
    files = transport.files
    if not isinstance(files, ArtifactStore) or not isinstance(store, ModelStore):
        raise TypeError("a local workspace is opened in-process")  # pragma: no cover
    return LocalAccess(workspace.name, Role.OWNER, store, files, store)


def _endpoint_key(path: str) -> tuple[str, str]:
    """`/api/2.0/mlflow/runs/get` -> (`2.0`, `runs/get`): the API version and the table's
    key, as app.py gets them."""
    head, sep, rest = path.partition("/mlflow/")
    version = head.rstrip("/").rpartition("/")[2]
    if not sep or version not in API_VERSIONS:
        raise MlflowError("ENDPOINT_NOT_FOUND", f"{path} is not an MLflow tracking endpoint")
    return version, rest.strip("/")


class RunyardTrackingStore(RestStore):
    """mlflow's REST store, answered in-process by runyard's MLflow handlers."""

    def __init__(self, store_uri: str, artifact_uri: str | None = None) -> None:
        self.location = parse_mlflow_uri(store_uri)
        workspace = open_workspace(self.location)
        #: A local workspace's handlers' access; None on a server (requests go there).
        self.access: LocalAccess | None = None
        if workspace.is_remote:
            creds = MlflowHostCreds(workspace.get_mlflow_tracking_uri(), token=workspace.token)
        else:
            self.access = local_access(workspace)
            creds = MlflowHostCreds(self.location.tracking_uri)
        super().__init__(lambda: creds)
        self.store = workspace.transport.store
        self.pipeline = workspace.pipeline
        #: Runs whose existence was checked: a metric of an unknown run is refused at once.
        self._known_runs: set[str] = set()
        #: Metric names that passed mlflow's name check.
        self._checked_names: set[str] = set()

    # Metrics: through the pipeline
    def log_metric(self, run_id: str, metric: Metric) -> None:
        """Queue one point (mlflow's checks, then the pipeline: no database wait).

        The hot path of a training loop, so `_check_metric` and
        `LoggingPipeline.enqueue_point` are inlined here, as run.log inlines its queueing:
        the calls cost more than the rest of the method (the pipeline's tuple is its own)."""
        key, value, step, timestamp = metric.key, metric.value, metric.step, metric.timestamp
        if not (
            key in self._checked_names
            and type(value) is float
            and type(step) is int
            and type(timestamp) is int
            and timestamp >= 0
        ):
            self._check_metric(metric)
            value = float(value)
        if run_id not in self._known_runs:
            self._check_run(run_id)
        pipeline = self.pipeline
        if pipeline.failed:
            self._raise_pipeline_errors(run_id)
        queue = pipeline.queue
        queue.append((run_id, key, value, step, timestamp / 1000.0, ""))
        if len(queue) > pipeline.room:
            pipeline.relieve()

    def log_batch(
        self, run_id: str, metrics: list[Metric], params: list[Param], tags: list[RunTag]
    ) -> None:
        """Params and tags through the handler (checked, written at once); metrics queued
        (every one checked first, so a bad one writes nothing; queued as log_metric does)."""
        points = []
        checked = self._checked_names
        for metric in metrics:
            key, value, step, timestamp = metric.key, metric.value, metric.step, metric.timestamp
            if not (
                key in checked
                and type(value) is float
                and type(step) is int
                and type(timestamp) is int
                and timestamp >= 0
            ):
                self._check_metric(metric)
                value = float(value)
            points.append((run_id, key, value, step, timestamp / 1000.0, ""))
        if params or tags:
            super().log_batch(run_id, [], params, tags)
        elif run_id not in self._known_runs:
            self._check_run(run_id)
        pipeline = self.pipeline
        if pipeline.failed:
            self._raise_pipeline_errors(run_id)
        queue = pipeline.queue
        queue.extend(points)
        if len(queue) > pipeline.room:
            pipeline.relieve()

    def _check_metric(self, metric: Metric) -> None:
        """mlflow's own checks of a metric; a float at an int step and time under a name
        already checked passes at once (the hot path: a training loop's calls)."""
        key, value, timestamp, step = metric.key, metric.value, metric.timestamp, metric.step
        if (
            key in self._checked_names
            and type(value) is float
            and type(step) is int
            and type(timestamp) is int
            and timestamp >= 0
        ):
            return
        _validate_metric(key, value, timestamp, step)
        self._checked_names.add(key)

    def _check_run(self, run_id: str) -> None:
        try:
            self.store.get_run(run_id)
        except NotFoundError:
            raise RestException(
                {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Run '{run_id}' not found"}
            ) from None
        except RunyardError as exc:
            raise _rest_exception(from_runyard(exc)) from None
        self._known_runs.add(run_id)

    def _raise_pipeline_errors(self, run_id: str) -> None:
        try:
            self.pipeline.raise_errors(run_id)
        except RunyardError as exc:
            raise _rest_exception(from_runyard(exc)) from None

    def flush(self) -> None:
        """Store every point queued so far (reads do this first), waiting as a runyard run's
        reads do: at most RUNYARD_FLUSH_TIMEOUT seconds, through a server's restart too."""
        pipeline = self.pipeline
        if pipeline.queue or pipeline.deliverer.pending_points:
            left = pipeline.flush(flush_timeout())
            if left:
                log.warning("%d metric points are not stored yet: a read may miss them", left)

    # Everything else: the endpoint table
    def _call_endpoint(
        self,
        api: Any,
        json_body: str | None = None,
        endpoint: str | None = None,
        retry_timeout_seconds: float | None = None,
        response_proto: Any = None,
    ) -> Any:
        """Answer a request with the handler the server would use, in this process."""
        method_to_info = self._V3_METHOD_TO_INFO if api in self._V3_APIS else self._METHOD_TO_INFO
        default_path, method = method_to_info[api]
        if _is_read(method, endpoint or default_path):
            self.flush()
        if self.access is None:  # a server: the request goes there
            response = super()._call_endpoint(
                api, json_body, endpoint, retry_timeout_seconds, response_proto
            )
            self._patch_artifact_uris(response)
            return response
        body = json.loads(json_body) if json_body else {}
        answer = self.dispatch(method, endpoint or default_path, body)
        response = response_proto or api.Response()
        parse_dict(js_dict=self._local_artifact_uris(answer), message=response)
        return response

    def _patch_artifact_uris(self, message: Any) -> None:
        """A server's answer with `runyard://` artifact roots, as `_local_artifact_uris`."""
        for field, value in message.ListFields():
            if field.type == field.TYPE_MESSAGE:
                if field.message_type.GetOptions().map_entry:
                    continue
                for item in value if field.is_repeated else [value]:
                    self._patch_artifact_uris(item)
            elif field.name == "artifact_uri" and isinstance(value, str):
                setattr(message, field.name, self._artifact_uri(value))

    def dispatch(self, method: str, path: str, body: dict[str, Any]) -> Any:
        """The handler's answer to one request (MLflow's errors as mlflow raises them)."""
        if self.access is None:
            raise TypeError("requests to a server go through _call_endpoint")
        try:
            version, key = _endpoint_key(path)
            found = find_route(version, method, key)
            if found is None:
                raise MlflowError(
                    "ENDPOINT_NOT_FOUND", f"{method} {path} is not implemented by runyard"
                )
            _, handler, ids = found
            answer = handler(self.access, {**body, **ids})
            if isinstance(answer, Response):  # a handler that wrote its JSON itself
                return json.loads(bytes(answer.body))
            return answer
        except MlflowError as exc:
            raise _rest_exception(exc) from None
        except RunyardError as exc:
            raise _rest_exception(from_runyard(exc)) from None

    def _local_artifact_uris(self, answer: Any) -> Any:
        """Runs' `mlflow-artifacts:/<experiment>/<run>/artifacts` roots as `runyard://` URIs,
        which runyard's artifact repository resolves to the run's files."""
        if isinstance(answer, dict):
            out = {}
            for key, value in answer.items():
                if key == "artifact_uri" and isinstance(value, str):
                    value = self._artifact_uri(value)
                else:
                    value = self._local_artifact_uris(value)
                out[key] = value
            return out
        if isinstance(answer, list):
            return [self._local_artifact_uris(item) for item in answer]
        return answer

    def _artifact_uri(self, uri: str) -> str:
        if not uri.startswith(_ARTIFACTS_PREFIX):
            return uri
        return self.location.at(uri[len(_ARTIFACTS_PREFIX) :])


def _is_read(method: str, path: str) -> bool:
    """Whether a request reads what metrics may have changed (queued points go first);
    writes need not wait: MLflow orders nothing between metrics and other writes."""
    return method == "GET" or "search" in path or "get-history" in path


def _rest_exception(exc: MlflowError) -> RestException:
    """What mlflow's REST store raises for the same error answered over HTTP."""
    return RestException({"error_code": exc.error_code, "message": exc.message})

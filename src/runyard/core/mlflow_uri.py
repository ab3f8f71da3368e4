"""The `runyard://` MLflow URI: how the mlflow client finds a runyard workspace in-process.

`runyard://<workspace>?store=<database URL>&artifacts=<folder or fsspec URL>` names a local
workspace, `runyard://<workspace>?server=<runyard server URL>` one on a server (values
percent-encoded). mlflow hands such a tracking URI to runyard's plugin (the
`mlflow.tracking_store` entry point), which opens the workspace as the SDK does. A run's
artifact URI is the tracking URI with `/<experiment id>/<run id>/artifacts[/<path>]` as its
path, resolved by the `mlflow.artifact_repository` entry point onto the run's files.
Written by the SDK (`Workspace.get_mlflow_tracking_uri`), read by the plugin: it lives below
both. No secret ever goes into it (mlflow prints and logs tracking URIs).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from runyard.core.errors import ValidationError
from runyard.core.names import validate_workspace_name

SCHEME = "runyard"
_EXPECTED = (
    "expected runyard://<workspace>?store=<database URL>&artifacts=<folder or URL> (a local "
    "workspace) or runyard://<workspace>?server=<http(s) URL> (a workspace on a server)"
)


@dataclass(frozen=True)
class MlflowLocation:
    """The workspace a `runyard://` URI names (local, or on a server), and the path below it
    (artifacts)."""

    workspace: str
    store_url: str | None = None
    artifacts_url: str | None = None
    server_url: str | None = None
    path: str = ""

    @property
    def tracking_uri(self) -> str:
        """The URI without a path: what `mlflow.set_tracking_uri` takes."""
        return _uri(self.workspace, "", self._query())

    def at(self, path: str) -> str:
        """The URI of `path` below this workspace: `<experiment id>/<run id>/artifacts/…`
        names a run's files (the path an `mlflow-artifacts:/` URI of the server has)."""
        return _uri(self.workspace, "/" + path.strip("/"), self._query())

    def _query(self) -> str:
        if self.server_url is not None:
            return f"server={quote(self.server_url, safe='')}"
        store, artifacts = (
            quote(self.store_url or "", safe=""),
            quote(self.artifacts_url or "", safe=""),
        )
        return f"store={store}&artifacts={artifacts}"


def _uri(workspace: str, path: str, query: str) -> str:
    return f"{SCHEME}://{workspace}{path}?{query}"


def tracking_uri(workspace: str, store_url: str, artifacts_url: str) -> str:
    """The MLflow tracking URI of a local workspace (its store and artifact folder)."""
    return MlflowLocation(validate_workspace_name(workspace), store_url, artifacts_url).tracking_uri


def server_tracking_uri(workspace: str, server_url: str) -> str:
    """The in-process MLflow tracking URI of a workspace on a server (the token is not in it:
    the plugin reads MLFLOW_TRACKING_TOKEN, as mlflow's REST client does)."""
    name = validate_workspace_name(workspace)
    return MlflowLocation(name, server_url=server_url.rstrip("/")).tracking_uri


def parse_mlflow_uri(uri: str) -> MlflowLocation:
    """The workspace a `runyard://` tracking or artifact URI names (ValidationError says what
    a valid one looks like)."""
    parts = urlsplit(uri)
    if parts.scheme != SCHEME or not parts.netloc:
        raise ValidationError(f"invalid runyard MLflow URI {uri!r}: {_EXPECTED}")
    query = parse_qs(parts.query, keep_blank_values=False)
    name = validate_workspace_name(parts.netloc)
    server = query.get("server", [""])[-1]
    if server:
        if not server.startswith(("http://", "https://")):
            raise ValidationError(f"invalid runyard MLflow URI {uri!r}: {_EXPECTED}")
        return MlflowLocation(name, server_url=server, path=parts.path)
    store = query.get("store", [""])[-1]
    artifacts = query.get("artifacts", [""])[-1]
    if not store or not artifacts:
        raise ValidationError(
            f"invalid runyard MLflow URI {uri!r}: it names no store or artifacts; {_EXPECTED}"
        )
    return MlflowLocation(name, store, artifacts, path=parts.path)

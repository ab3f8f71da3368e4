"""The `runyard://` MLflow URI: how the mlflow client finds a local runyard workspace.

`runyard://<workspace>?store=<database URL>&artifacts=<folder or fsspec URL>` (both
percent-encoded). mlflow hands such a tracking URI to runyard's plugin (the
`mlflow.tracking_store` entry point), which opens that store and folder in-process. A run's
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


@dataclass(frozen=True)
class MlflowLocation:
    """A local workspace named by a `runyard://` URI, and the path below it (artifacts)."""

    workspace: str
    store_url: str
    artifacts_url: str
    path: str = ""

    @property
    def tracking_uri(self) -> str:
        """The URI without a path: what `mlflow.set_tracking_uri` takes."""
        return tracking_uri(self.workspace, self.store_url, self.artifacts_url)

    def at(self, path: str) -> str:
        """The URI of `path` below this workspace: `<experiment id>/<run id>/artifacts/…`
        names a run's files (the path an `mlflow-artifacts:/` URI of the server has)."""
        return _uri(self.workspace, "/" + path.strip("/"), self._query())

    def _query(self) -> str:
        return (
            f"store={quote(self.store_url, safe='')}&artifacts={quote(self.artifacts_url, safe='')}"
        )


def _uri(workspace: str, path: str, query: str) -> str:
    return f"{SCHEME}://{workspace}{path}?{query}"


def tracking_uri(workspace: str, store_url: str, artifacts_url: str) -> str:
    """The MLflow tracking URI of a local workspace (its store and artifact folder)."""
    location = MlflowLocation(validate_workspace_name(workspace), store_url, artifacts_url)
    return _uri(location.workspace, "", location._query())


def parse_mlflow_uri(uri: str) -> MlflowLocation:
    """The workspace a `runyard://` tracking or artifact URI names (ValidationError says what
    a valid one looks like)."""
    expected = "expected runyard://<workspace>?store=<database URL>&artifacts=<folder or URL>"
    parts = urlsplit(uri)
    if parts.scheme != SCHEME or not parts.netloc:
        raise ValidationError(f"invalid runyard MLflow URI {uri!r}: {expected}")
    query = parse_qs(parts.query, keep_blank_values=False)
    store = query.get("store", [""])[-1]
    artifacts = query.get("artifacts", [""])[-1]
    if not store or not artifacts:
        raise ValidationError(
            f"invalid runyard MLflow URI {uri!r}: it names no store or artifacts; {expected}"
        )
    return MlflowLocation(validate_workspace_name(parts.netloc), store, artifacts, parts.path)

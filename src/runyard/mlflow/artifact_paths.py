"""The one namespace of MLflow's artifact proxy paths, and what each names in runyard.

A path under `/api/2.0/mlflow-artifacts/artifacts/` is `<root>/<id…>/<file>`:

    runs/<run_id>/artifacts/<file>                  a runyard run's own files
    logged-models/<model_id>/artifacts/<file>       an MLflow 3 logged model's files (in
                                                    its source run's `logged-models/<id>/`)
    models/<name>/versions/<n>/<file>               (the registry registers this root)

Each root has a resolver in `ROOTS` that checks the id against the request's workspace and
answers the artifact store prefix and the file name within it, so nothing outside the
workspace, nor outside the run's or model's own files, can be named. Artifact URIs handed to
clients (`mlflow-artifacts:/runs/<id>/artifacts`) are built here too.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from runyard.core.errors import NotFoundError, ValidationError
from runyard.core.limits import Limits
from runyard.core.logged_models import validate_logged_model_id
from runyard.core.paths import logged_model_prefix, run_prefix, validate_artifact_name
from runyard.core.roles import Role
from runyard.mlflow.endpoints import Access
from runyard.mlflow.errors import MlflowError, invalid
from runyard.store.base import LoggedModelStore

SCHEME = "mlflow-artifacts:"
RUNS_ROOT = "runs"
LOGGED_MODELS_ROOT = "logged-models"
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Located:
    """Where a proxy path points: an artifact store prefix and a name under it ("" for the
    prefix's root), and what role writing there needs (None: nobody writes there)."""

    prefix: str
    name: str
    write_role: Role | None = Role.CONTRIBUTOR


#: A root's resolver: (access, the path after `<root>/`) -> where it points.
Resolver = Callable[[Access, str], Located]
ROOTS: dict[str, Resolver] = {}


def artifact_root(name: str) -> Callable[[Resolver], Resolver]:
    """Register the resolver of one root of the namespace."""

    def register(resolver: Resolver) -> Resolver:
        ROOTS[name] = resolver
        return resolver

    return register


def run_artifact_uri(run_id: str) -> str:
    """A run's artifact_uri: its files through the proxy."""
    return f"{SCHEME}/{RUNS_ROOT}/{run_id}/artifacts"


def logged_model_artifact_uri(model_id: str) -> str:
    """A logged model's artifact_location."""
    return f"{SCHEME}/{LOGGED_MODELS_ROOT}/{model_id}/artifacts"


def safe_path(path: str) -> str:
    """A proxy path decoded as often as it was encoded, refused (MLflow's 400 "Invalid path")
    if in any spelling it climbs, is absolute, names a drive or holds a control character."""
    for _ in range(8):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    else:
        raise invalid("Invalid path: encoded too many times")
    bad = (
        "\\" in path
        or "#" in path
        or ".." in path.split("/")
        or "" in path.rstrip("/").split("/")[1:]  # "a//b": an absolute path glued on
        or path.startswith("/")
        or _DRIVE.match(path) is not None
        or any(ord(c) < 32 or ord(c) == 127 for c in path)
    )
    if bad:
        raise invalid(f"Invalid path {path!r}: artifact paths are relative and may not climb")
    return "/".join(part for part in path.split("/") if part not in ("", "."))


def locate(access: Access, path: str) -> Located:
    """What a (decoded, safe) proxy path names in the request's workspace."""
    root, _, rest = path.partition("/")
    resolver = ROOTS.get(root)
    if resolver is None:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST",
            f"No artifact root {root!r}; artifact paths start with one of: "
            + ", ".join(f"{r}/" for r in sorted(ROOTS)),
        )
    return resolver(access, rest)


def file_name(rest: str) -> str:
    """The validated file name under a prefix ("" for its root)."""
    if not rest:
        return ""
    try:
        return validate_artifact_name(rest, Limits.from_env())
    except ValidationError as exc:
        raise invalid(f"Invalid path: {exc}") from None


def _split(rest: str, what: str, shape: str) -> tuple[str, str]:
    """`<id>/artifacts[/<file>]` -> (id, file)."""
    parts = rest.split("/", 2)
    if len(parts) < 2 or parts[1] != "artifacts" or not parts[0]:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"Invalid {what} artifact path {rest!r}: expected {shape}"
        )
    return parts[0], (parts[2] if len(parts) > 2 else "")


@artifact_root(RUNS_ROOT)
def _run_files(access: Access, rest: str) -> Located:
    run_id, name = _split(rest, "run", "runs/<run_id>/artifacts/<path>")
    try:
        doc = access.store.get_run(run_id)
    except (NotFoundError, ValidationError):
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Run '{run_id}' not found") from None
    return Located(run_prefix(doc.experiment_name, doc.run_id), file_name(name))


@artifact_root(LOGGED_MODELS_ROOT)
def _logged_model_files(access: Access, rest: str) -> Located:
    model_id, name = _split(rest, "logged model", "logged-models/<model_id>/artifacts/<path>")
    store = access.store
    try:
        validate_logged_model_id(model_id)
        if not isinstance(store, LoggedModelStore):
            raise NotFoundError("this store keeps no logged models")
        model = store.get_logged_model(model_id)
    except (NotFoundError, ValidationError):
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"Logged model with ID '{model_id}' not found."
        ) from None
    source = None
    if model.source_run_id is not None:
        doc = store.get_run(model.source_run_id)
        source = run_prefix(doc.experiment_name, doc.run_id)
    return Located(logged_model_prefix(access.workspace, model_id, source), file_name(name))


def entry_name(under: str, found: str) -> str:
    """The first component of `found` below the folder `under` (what a listing shows)."""
    relative = found[len(under) + 1 :] if under else found
    return relative.split("/", 1)[0]


def join(*parts: str) -> str:
    """Join path parts, skipping empty ones."""
    return posixpath.join(*[p for p in parts if p]) if any(parts) else ""

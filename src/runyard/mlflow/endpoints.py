"""The table of MLflow endpoints and what every handler shares.

Each endpoint module (tracking in `tracking.py`, artifacts, logged models, the registry)
registers its handlers with `route`; `app.py` dispatches over the table. Kept apart so
that adding endpoints never touches the dispatcher.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any, Protocol

from runyard.artifacts import ArtifactStore
from runyard.core.roles import Role
from runyard.mlflow.errors import MlflowError, invalid
from runyard.store.base import ModelStore, TrackingStore


class Access(Protocol):
    """What a handler needs of an authorized request (server/access.py's Access satisfies it):
    the workspace's name, the caller's role, its tracking store, files and model registry."""

    @property
    def workspace(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def store(self) -> TrackingStore: ...

    @property
    def files(self) -> ArtifactStore: ...

    @property
    def models(self) -> ModelStore: ...


#: The server's token check (server/access.py's AccessControl.authorize): workspace,
#: Authorization header, role needed -> the access granted, or an Authentication/Permission
#: error. Passed in so that this layer does not import the server that mounts it.
Authorize = Callable[[str, str | None, Role], Access]
Handler = Callable[[Access, dict[str, Any]], Any]
#: (API version, method, path below /api/<version>/mlflow/) -> (role needed, handler).
ROUTES: dict[tuple[str, str, str], tuple[Role, Handler]] = {}
#: Endpoints with ids in their path (`logged-models/{model_id}`): version, real method,
#: the path as a pattern.
PATTERNS: list[tuple[str, str, re.Pattern[str], Role, Handler]] = []
#: The versions of MLflow's REST API the server mounts (/api/2.0/mlflow, /api/3.0/mlflow).
API_VERSIONS = ("2.0", "3.0")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def route(
    method: str, path: str, role: Role, *, version: str = "2.0"
) -> Callable[[Handler], Handler]:
    """Register a handler for one MLflow endpoint (the body is JSON or the query string).

    `{name}` in the path matches one path segment, handed to the handler as `body[name]`."""
    if version not in API_VERSIONS:
        raise ValueError(f"unknown MLflow API version {version!r}; known: {API_VERSIONS}")

    def register(handler: Handler) -> Handler:
        if "{" in path:
            pattern = "/".join(
                _PLACEHOLDER.sub(r"(?P<\1>[^/]+)", part) if "{" in part else re.escape(part)
                for part in path.split("/")
            )
            PATTERNS.append((version, method, re.compile(pattern), role, handler))
        else:
            ROUTES[(version, method, path)] = (role, handler)
        return handler

    return register


def find_route(version: str, method: str, path: str) -> tuple[Role, Handler, dict[str, str]] | None:
    """The endpoint a request reaches, with the ids its path holds. One path may take several
    verbs (registered-models/alias: GET, POST, DELETE); otherwise a plain endpoint registered
    for POST answers any verb, and one for GET answers POST too: MLflow's clients POST some
    searches and GET others."""
    fallbacks = ["POST"] + (["GET"] if method == "POST" else [])
    for wanted in (method, *fallbacks):
        found = ROUTES.get((version, wanted, path))
        if found is not None:
            return found[0], found[1], {}
    for at, wanted, pattern, role, handler in PATTERNS:
        match = pattern.fullmatch(path)
        if match and at == version and wanted == method:
            return role, handler, match.groupdict()
    return None


def authorization(header: str | None) -> str | None:
    """The native API's Bearer header; basic auth carries the token as its password."""
    if header and header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise MlflowError("UNAUTHENTICATED", "malformed basic authorization header") from None
        return f"Bearer {decoded.partition(':')[2]}"
    return header


def required_arg(body: dict[str, Any], name: str) -> Any:
    value = body.get(name)
    if value is None or value == "":
        raise invalid(f"Missing value for required parameter '{name}'.")
    return value


def string(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = required_arg(body, name) if required else body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid value {value!r} for parameter '{name}': expected a string")
    return value


def integer(body: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool):
        raise invalid(f"Invalid value {value!r} for parameter '{name}': expected an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(
            f"Invalid value {value!r} for parameter '{name}': expected an integer"
        ) from None


def view_type(body: dict[str, Any], name: str) -> str:
    """MLflow's ViewType argument: ACTIVE_ONLY (the default), DELETED_ONLY or ALL."""
    view = body.get(name) or "ACTIVE_ONLY"
    if view in (1, "1"):
        view = "ACTIVE_ONLY"
    elif view in (2, "2"):
        view = "DELETED_ONLY"
    elif view in (3, "3"):
        view = "ALL"
    if view not in ("ACTIVE_ONLY", "DELETED_ONLY", "ALL"):
        raise invalid(f"Invalid {name} {view!r}; allowed: ACTIVE_ONLY, DELETED_ONLY, ALL")
    return str(view)


def max_results(body: dict[str, Any], default: int, most: int) -> int:
    """The max_results argument, within MLflow's bounds for the endpoint."""
    wanted = integer(body, "max_results", default)
    assert wanted is not None
    if wanted < 1 or wanted > most:
        raise invalid(
            f"Invalid value {wanted} for parameter 'max_results' supplied. It must be at "
            f"most {most}, and at least 1."
        )
    return wanted


def offset_token(body: dict[str, Any]) -> int:
    """The page_token argument of a listing paged by offset (runyard's tokens are offsets)."""
    token = body.get("page_token") or "0"
    # isdigit() alone takes '²', which int() refuses: ASCII digits only.
    if not isinstance(token, str | int) or not (str(token).isascii() and str(token).isdigit()):
        raise invalid(f"Invalid page token {token!r}: pass the next_page_token of a previous page")
    return int(token)


def page_of(
    items: list[Any], body: dict[str, Any], default: int, most: int
) -> tuple[list[Any], str]:
    """One page of a listing held in memory, and the next page's token ('' at the end)."""
    start = offset_token(body)
    end = start + max_results(body, default, most)
    return items[start:end], (str(end) if end < len(items) else "")

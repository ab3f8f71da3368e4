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
ROUTES: dict[tuple[str, str], tuple[Role, Handler]] = {}
#: Endpoints with ids in their path (`logged-models/{model_id}`), by their real method.
PATTERNS: list[tuple[str, re.Pattern[str], Role, Handler]] = []
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def route(method: str, path: str, role: Role) -> Callable[[Handler], Handler]:
    """Register a handler for one MLflow endpoint (the body is JSON or the query string).

    `{name}` in the path matches one path segment, handed to the handler as `body[name]`."""

    def register(handler: Handler) -> Handler:
        if "{" in path:
            pattern = "/".join(
                _PLACEHOLDER.sub(r"(?P<\1>[^/]+)", part) if "{" in part else re.escape(part)
                for part in path.split("/")
            )
            PATTERNS.append((method, re.compile(pattern), role, handler))
        else:
            ROUTES[(method, path)] = (role, handler)
        return handler

    return register


def find_route(method: str, path: str) -> tuple[Role, Handler, dict[str, str]] | None:
    """The endpoint a request reaches, with the ids its path holds. One path may take several
    verbs (registered-models/alias: GET, POST, DELETE); otherwise a plain endpoint registered
    for POST answers any verb, and one for GET answers POST too: MLflow's clients POST some
    searches and GET others."""
    fallbacks = [("POST", path)] + ([("GET", path)] if method == "POST" else [])
    for key in ((method, path), *fallbacks):
        if key in ROUTES:
            role, handler = ROUTES[key]
            return role, handler, {}
    for wanted, pattern, role, handler in PATTERNS:
        match = pattern.fullmatch(path)
        if match and wanted == method:
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

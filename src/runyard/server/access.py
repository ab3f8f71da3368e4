"""Who may do what: API tokens, roles, and the workspace a request is confined to."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from runyard.artifacts import ArtifactStore
from runyard.core.errors import AuthenticationError, PermissionDeniedError
from runyard.core.limits import Limits
from runyard.core.names import validate_workspace_name
from runyard.core.roles import Grant, Role
from runyard.server.config import AuthMode, ServerConfig, is_loopback
from runyard.store.base import ModelStore, TrackingStore
from runyard.store.database import Database
from runyard.store.sql import SqlTrackingStore
from runyard.store.tokens import TokenStore

#: Seconds a token check is reused: how long a revoked token may still work (open streams too).
_GRANT_TTL = 2.0
_MAX_CACHED_GRANTS = 10_000

#: The studio's sign-in: the token in an HttpOnly cookie, and a readable CSRF cookie whose
#: value every cookie-authenticated write echoes in a header (double submit).
SESSION_COOKIE = "runyard_session"
CSRF_COOKIE = "runyard_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_value(token: str) -> str:
    """The CSRF value that belongs to a session token: derived, so every server process
    checks it without shared state, and a cookie planted by a sibling site cannot match."""
    return hashlib.sha256(b"runyard-csrf\0" + token.encode()).hexdigest()


def check_same_origin(request: Request) -> None:
    """Refuse a write a browser sent from another site (its Origin names another host)."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin is None:
        return
    hosts = {request.headers.get("host", ""), request.headers.get("x-forwarded-host", "")}
    if origin == "null" or origin.split("://", 1)[-1].rstrip("/") not in hosts - {""}:
        raise PermissionDeniedError(
            f"refusing a cross-site request from {origin!r}: the studio and scripts call this "
            "server from its own origin"
        )


def request_credentials(request: Request) -> str | None:
    """The Authorization header a request authenticates with: its own Bearer header, else
    the session cookie, which for a write also needs the matching CSRF header."""
    check_same_origin(request)
    header = request.headers.get("authorization")
    if header:
        return header
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        expected = csrf_value(token)
        if not (
            hmac.compare_digest(sent, expected)
            and hmac.compare_digest(request.cookies.get(CSRF_COOKIE, ""), expected)
        ):
            raise PermissionDeniedError(
                f"a change made with the sign-in cookie needs the {CSRF_HEADER} header set to "
                f"the value of the {CSRF_COOKIE} cookie (cross-site request forgery protection)"
            )
    return f"Bearer {token}"


@dataclass(frozen=True)
class Access:
    """A request's view: one workspace's store, model registry and files, and the caller's
    role."""

    workspace: str
    role: Role
    store: TrackingStore
    files: ArtifactStore
    models: ModelStore
    #: What the request presented and needed, so a long request (a stream) can be re-checked.
    credential: str | None = field(default=None, repr=False)
    needed: Role = Role.READER


class AccessControl:
    """Checks tokens (cached a few seconds) and hands out per-workspace stores."""

    def __init__(self, config: ServerConfig, db: Database, files: ArtifactStore) -> None:
        self.config = config
        self.db = db
        self.files = files
        self.tokens = TokenStore(db)
        self.limits = Limits.from_env()
        self._stores: dict[str, SqlTrackingStore] = {}
        self._files: dict[str, ArtifactStore] = {}
        self._grants: dict[str, tuple[float, Grant | None]] = {}
        self._required: tuple[float, bool] = (0.0, False)
        self._lock = threading.Lock()

    def auth_required(self) -> bool:
        """Whether requests need a token: see `AuthMode`. In auto mode a loopback server
        locks when its first token is created and stays locked, even once all are revoked."""
        mode = self.config.auth
        if mode is AuthMode.OFF:
            return False
        if mode is AuthMode.REQUIRED or not is_loopback(self.config.host):
            return True
        checked_at, required = self._required
        if not required and time.monotonic() - checked_at > _GRANT_TTL:
            required = self.tokens.ever_created()
            self._required = (time.monotonic(), required)
        return required

    def grant(self, token: str) -> Grant | None:
        """The grant of a token, cached for a few seconds (revocation takes that long)."""
        cached = self._grants.get(token)
        if cached is not None and time.monotonic() - cached[0] < _GRANT_TTL:
            return cached[1]
        grant = self.tokens.check(token)
        with self._lock:
            if len(self._grants) >= _MAX_CACHED_GRANTS:  # garbage tokens must not grow memory
                self._grants.clear()
            self._grants[token] = (time.monotonic(), grant)
        return grant

    def store(self, workspace: str) -> SqlTrackingStore:
        """The store view of a workspace (created on first use): runs and models."""
        with self._lock:
            found = self._stores.get(workspace)
            if found is None:
                found = self._stores[workspace] = SqlTrackingStore(self.db, self.limits, workspace)
            return found

    def authorize(self, workspace: str, header: str | None, needed: Role) -> Access:
        """The access a request gets, or AuthError / ForbiddenError saying why not."""
        validate_workspace_name(workspace)
        role = Role.OWNER
        if self.auth_required():
            if not header or not header.lower().startswith("bearer "):
                raise AuthenticationError(
                    "this server requires an API token: send 'Authorization: Bearer <token>' "
                    "(create one with `runyard token create`)"
                )
            grant = self.grant(header[7:].strip())
            if grant is None:
                raise AuthenticationError("the API token is not valid (unknown or revoked)")
            if grant.workspace != workspace:
                raise PermissionDeniedError(
                    f"this token grants access to workspace {grant.workspace!r} only"
                )
            if not grant.role.allows(needed):
                raise PermissionDeniedError(
                    f"this token's role is {grant.role.value}; this needs {needed.value}"
                )
            role = grant.role
        files = self._files.get(workspace)
        if files is None:
            files = self._files[workspace] = self.files.for_snapshot_scope(workspace)
        store = self.store(workspace)
        return Access(workspace, role, store, files, store, header, needed)

    def recheck(self, access: Access) -> None:
        """Raise AuthError / ForbiddenError if what granted `access` no longer does (a token
        revoked since): cheap, the grant cache answers most calls."""
        self.authorize(access.workspace, access.credential, access.needed)


def require(needed: Role) -> Callable[..., Coroutine[Any, Any, Access]]:
    """A FastAPI dependency granting `needed` on the path's workspace."""

    async def dependency(request: Request, workspace: str) -> Access:
        control: AccessControl = request.app.state.access
        header = request_credentials(request)
        return await run_in_threadpool(control.authorize, workspace, header, needed)

    return dependency

"""The gate every request passes before a route sees it.

In order: the Host header must name this server (DNS rebinding defence), the headers must
fit the header cap, the caller must be authenticated for the path's workspace, a body must
be of a media type the route reads, and no body may pass its cap — declared or streamed.
All of it happens before a byte of the body is read, so an anonymous caller cannot make the
server buffer anything (FastAPI reads a JSON body before it runs a route's dependencies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runyard.core.errors import (
    HeadersTooLargeError,
    HostNotAllowedError,
    PayloadTooLargeError,
    RunyardError,
    UnsupportedMediaTypeError,
)
from runyard.core.names import MLFLOW_WORKSPACE_PREFIX
from runyard.core.roles import Role
from runyard.core.wire import MEDIA_TYPE
from runyard.server.access import AccessControl, request_credentials
from runyard.server.config import ServerConfig
from runyard.server.errors import error_response

JSON = "application/json"
_WORKSPACE_PATH = re.compile(r"/api/v1/workspaces/(?P<workspace>[^/]*)(?P<rest>/.*)?")
_UPLOAD = re.compile(r"/runs/[^/]+/files/.+|/snapshots/[^/]+|/model-uploads/[^/]+/files/.+")
_POINTS = re.compile(r"/runs/[^/]+/points")
#: MLflow's artifact proxy uploads (any workspace, either API root): raw bytes like ours.
_MLFLOW_UPLOAD = re.compile(
    f"(?:{re.escape(MLFLOW_WORKSPACE_PREFIX)}/[^/]+)?"
    r"/(?:ajax-)?api/2\.0/mlflow-artifacts/artifacts/.+"
)


@dataclass(frozen=True)
class BodyRule:
    """What a route takes as its body: at most `cap` bytes, of these media types (None: any)."""

    cap: int
    media_types: tuple[str, ...] | None
    #: How an admin raises the cap, for the refusal's message.
    setting: str

    def refusal(self, what: str) -> PayloadTooLargeError:
        """The 413 of a body past this rule's cap."""
        return PayloadTooLargeError(
            f"{what} is past {self.cap} bytes (the limit; raise it with {self.setting})"
        )


def body_rule(config: ServerConfig, method: str, path: str) -> BodyRule:
    """The body rule of a request: file and snapshot uploads take any bytes up to the upload
    cap, points take JSON or a points frame, everything else JSON only."""
    match = _WORKSPACE_PATH.fullmatch(path)
    rest = (match.group("rest") or "") if match else ""
    if method == "PUT" and (_UPLOAD.fullmatch(rest) or _MLFLOW_UPLOAD.fullmatch(path)):
        return BodyRule(config.max_upload_bytes, None, "--max-upload-bytes")
    if method == "POST" and _POINTS.fullmatch(rest):
        return BodyRule(config.max_points_bytes, (JSON, MEDIA_TYPE), "RUNYARD_MAX_POINTS_BYTES")
    return BodyRule(config.max_body_bytes, (JSON,), "--max-body-bytes")


class _BodyTooLarge(PayloadTooLargeError):
    """Raised into the app when a streamed body passes its cap."""


class RequestGate:
    """ASGI middleware applying the checks above; refusals are the usual JSON errors."""

    def __init__(self, app: ASGIApp, config: ServerConfig, access: AccessControl) -> None:
        self.app = app
        self.config = config
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        try:
            rule = await self._admit(scope, headers)
        except RunyardError as refused:
            await error_response(refused)(scope, receive, send)
            return
        await _Metered(self.app, rule)(scope, receive, send)

    async def _admit(self, scope: Scope, headers: dict[str, str]) -> BodyRule:
        host = headers.get("host")
        if not self.config.host_allowed(host):
            raise HostNotAllowedError(
                f"this server does not answer to the host name {host!r}; it answers to "
                "localhost, 127.0.0.1 and [::1] (a loopback server) and to the names given "
                "with `runyard server --allowed-host NAME`"
            )
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        size += sum(len(name) + len(value) for name, value in scope["headers"])
        if size > self.config.max_header_bytes:
            raise HeadersTooLargeError(
                f"request line and headers of {size} bytes; the limit is "
                f"{self.config.max_header_bytes} (RUNYARD_MAX_HEADER_BYTES)"
            )
        path: str = scope["path"]
        match = _WORKSPACE_PATH.fullmatch(path)
        if match is not None:
            # The studio's sign-in cookie counts as the Authorization header (with its CSRF
            # check for writes), as it does for the routes.
            await run_in_threadpool(
                self.access.authorize,
                match.group("workspace"),
                request_credentials(Request(scope)),
                Role.READER,
            )
        rule = body_rule(self.config, scope["method"], path)
        has_body = "transfer-encoding" in headers or headers.get("content-length", "0") != "0"
        if has_body and rule.media_types is not None:
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if media not in rule.media_types:
                raise UnsupportedMediaTypeError(
                    f"a body of type {media or 'unknown'!r} is not read here; send "
                    + " or ".join(repr(m) for m in rule.media_types)
                )
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > rule.cap:
            raise rule.refusal(f"a request body of {declared} bytes")
        return rule


class _Metered:
    """Runs the app with a body counter: past the cap the app's own answer is dropped and a
    413 is sent instead (the app may have turned the error into something else)."""

    def __init__(self, app: ASGIApp, rule: BodyRule) -> None:
        self.app = app
        self.rule = rule
        self.received = 0
        self.too_large = False
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.rule.cap:
                    self.too_large = True
                    raise _BodyTooLarge(str(self.rule.refusal("the request body")))
            return message

        async def guarded_send(message: Message) -> None:
            if self.too_large and not self.started:
                return
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not (self.too_large and not self.started):
                raise
        if self.too_large and not self.started:
            refused = self.rule.refusal("the request body")
            await error_response(refused)(scope, receive, send)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (the last of repeated ones)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}

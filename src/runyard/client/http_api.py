"""The HTTP plumbing shared by the client's store and file store: one connection pool to
one workspace of a server, and the mapping of error answers back to runyard's errors."""

from __future__ import annotations

import math
import re
from typing import Any

import httpx

from runyard.core import errors
from runyard.core.errors import RunyardError, TransportError, ValidationError

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
#: Characters httpx refuses in a URL; sent percent-encoded, the server answers what they mean
#: (a name holding NUL is not found), instead of the SDK failing with httpx's InvalidURL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def number(value: Any) -> Any:
    return _SPECIAL.get(value, value) if isinstance(value, str) else value


def raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    kind, message = "RunyardError", response.text[:500]
    try:
        body = response.json()["error"]
        kind, message = body["type"], body["message"]
    except (ValueError, KeyError, TypeError):
        pass
    if response.status_code >= 500:
        raise TransportError(f"server error {response.status_code}: {message}")
    cls = getattr(errors, kind, None)
    if not (isinstance(cls, type) and issubclass(cls, RunyardError)):
        cls = ValidationError if response.status_code in (400, 422) else RunyardError
    raise cls(message)


class Api:
    """One connection pool to one workspace of a server."""

    def __init__(self, server_url: str, workspace: str, token: str | None, timeout: float) -> None:
        headers = {"user-agent": "runyard-sdk"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.client = httpx.Client(
            base_url=f"{server_url.rstrip('/')}/api/v1/workspaces/{workspace}",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
        )

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        path = _CONTROL.sub(lambda found: f"%{ord(found.group()):02X}", path)
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TransportError(f"cannot reach the runyard server: {exc}") from exc
        raise_for(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(method, path, **kwargs).json()

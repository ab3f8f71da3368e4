"""The studio's sign-in: who the caller is, and a token kept in an HttpOnly cookie.

Scripts keep sending `Authorization: Bearer`; a browser trades the token once for a
cookie it cannot read (so page scripts never hold it) plus a readable CSRF cookie.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from runyard.core.errors import AuthenticationError
from runyard.core.roles import Role
from runyard.server.access import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    AccessControl,
    check_same_origin,
    csrf_value,
    request_credentials,
)
from runyard.server.encoding import SafeJSONResponse
from runyard.version import __version__

router = APIRouter(tags=["session"])
_COOKIE_AGE = 30 * 24 * 3600


class SignIn(BaseModel):
    """A token to sign in with (what `runyard token create` printed)."""

    token: str = Field(min_length=1, max_length=200)


class WorkspaceAccess(BaseModel):
    """A workspace the caller reaches and the role it has there."""

    name: str
    role: Role


class SessionInfo(BaseModel):
    """Whether the caller is signed in, what it reaches, and how to send CSRF tokens."""

    auth_required: bool
    authenticated: bool
    via: Literal["cookie", "bearer", "none"]
    workspaces: list[WorkspaceAccess]
    version: str
    csrf_header: str = CSRF_HEADER
    csrf_cookie: str = CSRF_COOKIE


def _describe(control: AccessControl, header: str | None, via: str) -> SessionInfo:
    if not control.auth_required():
        reach = [WorkspaceAccess(name=n, role=Role.OWNER) for n in control.db.list_workspaces()]
        return SessionInfo(
            auth_required=False,
            authenticated=True,
            via="none",
            workspaces=reach,
            version=__version__,
        )
    grant = None
    if header and header.lower().startswith("bearer "):
        grant = control.grant(header[7:].strip())
    if grant is None:
        return SessionInfo(
            auth_required=True, authenticated=False, via="none", workspaces=[], version=__version__
        )
    return SessionInfo(
        auth_required=True,
        authenticated=True,
        via="bearer" if via == "bearer" else "cookie",
        workspaces=[WorkspaceAccess(name=grant.workspace, role=grant.role)],
        version=__version__,
    )


@router.get("/session", response_model=SessionInfo)
async def get_session(request: Request) -> Response:
    """Which workspaces the caller reaches and with which role; whether sign-in is needed."""
    control: AccessControl = request.app.state.access
    header = request_credentials(request)
    via = "bearer" if request.headers.get("authorization") else "cookie"
    return SafeJSONResponse(await run_in_threadpool(_describe, control, header, via))


@router.post("/session", response_model=SessionInfo)
async def sign_in(request: Request, body: SignIn) -> Response:
    """Check a token and keep it in an HttpOnly, SameSite=Strict cookie (with a CSRF cookie)."""
    check_same_origin(request)
    control: AccessControl = request.app.state.access
    grant = await run_in_threadpool(control.grant, body.token)
    if grant is None:
        raise AuthenticationError("the API token is not valid (unknown or revoked)")
    info = await run_in_threadpool(_describe, control, f"Bearer {body.token}", "cookie")
    response = SafeJSONResponse(info)
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        body.token,
        max_age=_COOKIE_AGE,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf_value(body.token),
        max_age=_COOKIE_AGE,
        path="/",
        secure=secure,
        httponly=False,
        samesite="strict",
    )
    return response


@router.delete("/session", status_code=204)
async def sign_out(request: Request) -> Response:
    """Forget the sign-in cookies (a cookie-authenticated sign-out needs the CSRF header)."""
    request_credentials(request)
    response = Response(status_code=204)
    secure = request.url.scheme == "https"
    for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=http_only, samesite="strict")
    return response

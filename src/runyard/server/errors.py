"""The one place that turns errors into HTTP answers: `{"error": {"type", "message"}}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from runyard.core.errors import NotFoundError, RunyardError, ValidationError

log = logging.getLogger("runyard.server")

#: Statuses after which the connection is closed: the client may still be sending a body.
_CLOSE_AFTER = frozenset({413, 421, 431})


def error_body(kind: str, message: str) -> dict[str, dict[str, str]]:
    """The JSON body of every error answer."""
    return {"error": {"type": kind, "message": message}}


def error_response(exc: RunyardError) -> JSONResponse:
    """The answer to a runyard error, with its HTTP status."""
    if exc.http_status >= 500:
        log.error("store error: %s", exc)
    headers = {"connection": "close"} if exc.http_status in _CLOSE_AFTER else None
    return JSONResponse(
        error_body(type(exc).__name__, str(exc)), status_code=exc.http_status, headers=headers
    )


def unstorable_input(method: str, exc: Exception) -> RunyardError:
    """What a request holding text no store can hold (NUL on PostgreSQL, unpaired surrogates
    anywhere) means: a read finds nothing (404), a write is invalid (400); never a 500."""
    if isinstance(exc, DataError):
        reason = str(exc.orig or exc).strip().splitlines()[0]
    else:
        reason = "it holds characters that are not valid Unicode text (unpaired surrogates)"
    if method in ("GET", "HEAD"):
        return NotFoundError(f"nothing is stored under that name: {reason}")
    return ValidationError(f"the request cannot be stored or matched: {reason}")


def install_error_handlers(app: FastAPI) -> None:
    """Map runyard's errors to their HTTP status, data the store cannot hold to 404 / 400,
    and request errors to 422."""

    @app.exception_handler(RunyardError)
    async def _runyard_error(_request: Request, exc: RunyardError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(DataError)
    @app.exception_handler(UnicodeError)
    async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
        log.info("refused input the store cannot hold: %s", str(exc).splitlines()[0])
        return error_response(unstorable_input(request.method, exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "NotFoundError", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        return JSONResponse(
            error_body(kind, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _request_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]
        )
        return JSONResponse(error_body("ValidationError", problems), status_code=422)

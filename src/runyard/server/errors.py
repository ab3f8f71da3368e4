"""The one place that turns errors into HTTP answers: `{"error": {"type", "message"}}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from runyard.core.errors import RunyardError

log = logging.getLogger("runyard.server")


def error_body(kind: str, message: str) -> dict[str, dict[str, str]]:
    """The JSON body of every error answer."""
    return {"error": {"type": kind, "message": message}}


def install_error_handlers(app: FastAPI) -> None:
    """Map runyard's errors to their HTTP status and request errors to 422."""

    @app.exception_handler(RunyardError)
    async def _runyard_error(_request: Request, exc: RunyardError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("store error: %s", exc)
        return JSONResponse(error_body(type(exc).__name__, str(exc)), status_code=exc.http_status)

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

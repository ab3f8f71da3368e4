"""MLflow's tracking REST API as a FastAPI sub-application over runyard's store.

Mounted by the server at `/api/2.0/mlflow` and `/ajax-api/2.0/mlflow` for the default
workspace and at `/mlflow/<workspace>/api/2.0/mlflow` (and `.../ajax-api/...`) for any
other, so `MlflowClient(tracking_uri="http://host:port/mlflow/<workspace>")` works as-is.
Tokens are the native API's: `Authorization: Bearer <token>` (what MLFLOW_TRACKING_TOKEN
sends) or basic auth with the token as password.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from runyard.core.errors import RunyardError
from runyard.core.names import DEFAULT_WORKSPACE, MLFLOW_WORKSPACE_PREFIX
from runyard.mlflow import artifacts, logged_models, registry, tracking  # noqa: F401  (endpoints)
from runyard.mlflow.endpoints import Authorize, authorization, find_route
from runyard.mlflow.errors import MlflowError, error_response, from_runyard, invalid

#: The path prefix of a non-default workspace's tracking URI: http://host:port/mlflow/<ws>.
WORKSPACE_PREFIX = MLFLOW_WORKSPACE_PREFIX


async def _body(request: Request) -> dict[str, Any]:
    """The request's arguments: the query string, and a JSON object body when there is one."""
    args: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        args[key] = values if len(values) > 1 or key in ("experiment_ids",) else values[0]
    raw = await request.body()
    if raw.strip():
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise MlflowError("MALFORMED_REQUEST", f"request body is not JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise invalid("request body must be a JSON object")
        args.update(parsed)
    return args


def create_mlflow_app(authorize: Authorize) -> FastAPI:
    """The sub-application: one dispatcher over the endpoint table, errors in MLflow's shape."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.api_route("/{endpoint:path}", methods=["GET", "POST", "PATCH", "DELETE"])
    async def dispatch(request: Request, endpoint: str) -> JSONResponse:
        workspace = request.path_params.get("workspace", DEFAULT_WORKSPACE)
        found = find_route(request.method, endpoint.strip("/"))
        try:
            if found is None:
                raise MlflowError(
                    "ENDPOINT_NOT_FOUND",
                    f"{request.method} /api/2.0/mlflow/{endpoint} is not implemented by runyard",
                )
            role, handler, ids = found
            body = {**await _body(request), **ids}
            header = authorization(request.headers.get("authorization"))
            access = await run_in_threadpool(authorize, workspace, header, role)
            answer = await run_in_threadpool(handler, access, body)
        except MlflowError as exc:
            return error_response(exc)
        except RunyardError as exc:
            return error_response(from_runyard(exc))
        return JSONResponse(answer)

    return app

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
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from runyard.core.errors import RunyardError
from runyard.core.names import DEFAULT_WORKSPACE, MLFLOW_WORKSPACE_PREFIX
from runyard.mlflow import (  # noqa: F401  (each registers its endpoints)
    artifacts,
    experiment_search,
    history_bulk,
    inputs,
    lifecycle,
    logged_models,
    registry,
    run_search,
    server_info,
    tracking,
)
from runyard.mlflow.endpoints import API_VERSIONS, Authorize, authorization, find_route
from runyard.mlflow.errors import MlflowError, error_response, from_runyard, invalid

#: The path prefix of a non-default workspace's tracking URI: http://host:port/mlflow/<ws>.
WORKSPACE_PREFIX = MLFLOW_WORKSPACE_PREFIX


async def _body(request: Request) -> dict[str, Any]:
    """The request's arguments: the query string, and a JSON object body when there is one."""
    args: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        args[key] = values if len(values) > 1 or key in ("experiment_ids", "run_ids") else values[0]
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


def create_mlflow_app(authorize: Authorize, version: str = "2.0") -> FastAPI:
    """The sub-application of one API version: a dispatcher over the endpoint table, errors
    in MLflow's shape. What runyard does not implement (traces, prompts, gateway, scorers,
    webhooks...) answers ENDPOINT_NOT_FOUND with 404, the status MLflow's server gives."""
    if version not in API_VERSIONS:
        raise ValueError(f"unknown MLflow API version {version!r}; known: {API_VERSIONS}")
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.api_route("/{endpoint:path}", methods=["GET", "POST", "PATCH", "DELETE"])
    async def dispatch(request: Request, endpoint: str) -> Response:
        workspace = request.path_params.get("workspace", DEFAULT_WORKSPACE)
        found = find_route(version, request.method, endpoint.strip("/"))
        try:
            if found is None:
                raise MlflowError(
                    "ENDPOINT_NOT_FOUND",
                    f"{request.method} /api/{version}/mlflow/{endpoint} is not implemented by "
                    "runyard (see the README's list of MLflow endpoints it does not serve)",
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
        if isinstance(answer, Response):  # a handler that wrote its JSON itself
            return answer
        return JSONResponse(answer)

    return app

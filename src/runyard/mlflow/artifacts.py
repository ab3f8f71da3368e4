"""MLflow's artifact proxy (`/api/2.0/mlflow-artifacts/...`) and the tracking API's
`artifacts/list`, over runyard's artifact store.

The proxy takes raw bodies, so it is its own sub-application rather than an entry of the
JSON endpoint table. Uploads are spooled to disk by the server's own upload reader (passed
in, as the token check is) and capped by the request gate like the native file routes.
Where a proxy path points is decided in `artifact_paths.py` alone.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Awaitable, Callable, Iterator
from typing import IO, Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from runyard.core.errors import RunyardError
from runyard.core.names import DEFAULT_WORKSPACE
from runyard.core.roles import Role
from runyard.mlflow.artifact_paths import Located, locate, run_artifact_uri, safe_path
from runyard.mlflow.endpoints import Access, Authorize, authorization, route, string
from runyard.mlflow.errors import MlflowError, error_response, from_runyard

#: Reads a request's body into a temporary file and returns its path (the caller deletes it).
Spool = Callable[[Request], Awaitable[str]]
#: MLflow's own words: its client falls back to a plain upload when it sees them.
MULTIPART_UPLOAD_UNSUPPORTED = (
    "Multipart upload is not supported for the current artifact repository"
)
MULTIPART_DOWNLOAD_UNSUPPORTED = (
    "Multipart download is not supported for the current artifact repository"
)
_CHUNK = 1024 * 1024


def list_entries(access: Access, where: Located) -> list[dict[str, Any]]:
    """The files and folders directly under a location, as MLflow's FileInfo (name relative
    to the location); a file or a missing folder lists nothing, as in MLflow."""
    under = where.name
    entries: dict[str, dict[str, Any]] = {}
    for name, size in access.files.list_sizes(where.prefix):
        if under and not name.startswith(under + "/"):
            continue
        relative = name[len(under) + 1 :] if under else name
        first, _, more = relative.partition("/")
        if more:
            entries.setdefault(first, {"path": first, "is_dir": True})
        else:
            entries[first] = {"path": first, "is_dir": False, "file_size": size}
    return [entries[key] for key in sorted(entries)]


def _delete(access: Access, where: Located) -> None:
    """Delete a file, or every file under a folder (nothing there is no error, as in MLflow)."""
    if where.name and access.files.exists(where.prefix, where.name):
        access.files.delete_file(where.prefix, where.name)
        return
    for name, _size in access.files.list_sizes(where.prefix):
        if not where.name or name.startswith(where.name + "/"):
            access.files.delete_file(where.prefix, name)


def _file_response(handle: IO[bytes], name: str) -> StreamingResponse:
    """The file's bytes as a download that a browser will not run or sniff."""

    def chunks() -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    base = posixpath.basename(name).replace('"', "_").replace("\\", "_")
    ascii_name = base.encode("ascii", "replace").decode().replace("?", "_")
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Content-Disposition": f'attachment; filename="{ascii_name}"',
    }
    return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)


def create_artifacts_app(authorize: Authorize, spool: Spool) -> FastAPI:
    """The proxy sub-application: list, download, upload, delete; multipart answers MLflow's
    not-implemented so its client uploads and downloads in one piece."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    async def access_to(request: Request, path: str, needed: Role) -> tuple[Access, Located]:
        workspace = request.path_params.get("workspace", DEFAULT_WORKSPACE)
        header = authorization(request.headers.get("authorization"))
        access = await run_in_threadpool(authorize, workspace, header, needed)
        where = await run_in_threadpool(locate, access, safe_path(path))
        if needed is not Role.READER:
            if where.write_role is None:
                raise MlflowError("PERMISSION_DENIED", f"{path!r} is read-only")
            if not access.role.allows(where.write_role):
                raise MlflowError(
                    "PERMISSION_DENIED",
                    f"this token's role is {access.role.value}; writing {path!r} needs "
                    f"{where.write_role.value}",
                )
        return access, where

    async def answer(work: Awaitable[Response]) -> Response:
        try:
            return await work
        except MlflowError as exc:
            return error_response(exc)
        except RunyardError as exc:
            return error_response(from_runyard(exc))

    async def listing(request: Request) -> Response:
        path = request.query_params.get("path", "")
        if not path:
            return JSONResponse({"files": []})
        access, where = await access_to(request, path, Role.READER)
        files = await run_in_threadpool(list_entries, access, where)
        return JSONResponse({"files": files} if files else {})

    async def download(request: Request, path: str) -> Response:
        access, where = await access_to(request, path, Role.READER)
        if not where.name or not await run_in_threadpool(
            access.files.exists, where.prefix, where.name
        ):
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"No such file: {path!r}")
        handle = await run_in_threadpool(access.files.open_read, where.prefix, where.name)
        return _file_response(handle, where.name)

    async def upload(request: Request, path: str) -> Response:
        access, where = await access_to(request, path, Role.CONTRIBUTOR)
        if not where.name:
            raise MlflowError("INVALID_PARAMETER_VALUE", f"Invalid path {path!r}: names no file")
        temp = await spool(request)
        try:
            await run_in_threadpool(access.files.put_file, where.prefix, where.name, temp)
        finally:
            os.unlink(temp)
        return JSONResponse({})

    async def delete(request: Request, path: str) -> Response:
        access, where = await access_to(request, path, Role.CONTRIBUTOR)
        await run_in_threadpool(_delete, access, where)
        return JSONResponse({})

    @app.get("/artifacts")
    async def list_route(request: Request) -> Response:
        return await answer(listing(request))

    @app.api_route("/artifacts/{path:path}", methods=["GET", "PUT", "DELETE"])
    async def file_route(request: Request, path: str) -> Response:
        handlers = {"GET": download, "PUT": upload, "DELETE": delete}
        return await answer(handlers[request.method](request, path))

    @app.post("/mpu/{action}/{path:path}")
    async def multipart(action: str, path: str) -> Response:
        return error_response(MlflowError("NOT_IMPLEMENTED", MULTIPART_UPLOAD_UNSUPPORTED))

    @app.get("/presigned/{path:path}")
    async def presigned(path: str) -> Response:
        return error_response(MlflowError("NOT_IMPLEMENTED", MULTIPART_DOWNLOAD_UNSUPPORTED))

    return app


@route("GET", "artifacts/list", Role.READER)
def list_run_artifacts(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    """The tracking API's listing of a run's files: paths relative to the run's root."""
    run_id = string(body, "run_id", required=False) or string(body, "run_uuid")
    assert run_id is not None
    path = safe_path(str(body.get("path") or ""))
    where = locate(access, f"runs/{run_id}/artifacts/{path}".rstrip("/"))
    files = [
        {
            **entry,
            "path": posixpath.join(where.name, entry["path"]) if where.name else entry["path"],
        }
        for entry in list_entries(access, where)
    ]
    answer: dict[str, Any] = {"root_uri": run_artifact_uri(run_id)}
    if files:
        answer["files"] = files
    return answer

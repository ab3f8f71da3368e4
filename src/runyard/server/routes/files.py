"""Files of a run: list, upload (streamed to disk first), download (streamed)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from runyard.artifacts.store import snapshot_name
from runyard.core.errors import NotFoundError
from runyard.core.paths import run_prefix as run_prefix_of
from runyard.core.roles import Role
from runyard.server.access import Access, require
from runyard.server.bodies import server_config, spool_body
from runyard.server.encoding import SafeJSONResponse
from runyard.server.file_answers import stream_file
from runyard.server.models import FILE_BODY, FileList, StoredFile

router = APIRouter(tags=["files"])
Reader = Annotated[Access, Depends(require(Role.READER))]
Contributor = Annotated[Access, Depends(require(Role.CONTRIBUTOR))]


def run_prefix(access: Access, run_id: str) -> str:
    """The run's folder in the file store; looking the run up confines it to the workspace."""
    doc = access.store.get_run(run_id)
    return run_prefix_of(doc.experiment_name, doc.run_id)


@router.get("/runs/{run_id}/files", response_model=FileList)
async def list_files(access: Reader, run_id: str, under: str = "") -> Response:
    """Names of the run's files (under a folder, if given), sorted."""
    prefix = await run_in_threadpool(run_prefix, access, run_id)
    names = await run_in_threadpool(access.files.list_files, prefix, under)
    return SafeJSONResponse(FileList(files=names))


@router.put("/runs/{run_id}/files/{name:path}", response_model=StoredFile, openapi_extra=FILE_BODY)
async def upload_file(access: Contributor, run_id: str, name: str, request: Request) -> Response:
    """Store the request body as the run's file `name` (relative, cannot escape the run)."""
    prefix = await run_in_threadpool(run_prefix, access, run_id)
    path = await spool_body(request, server_config(request).max_upload_bytes)
    try:
        stored = await run_in_threadpool(access.files.put_file, prefix, name, path)
    finally:
        os.unlink(path)
    return SafeJSONResponse(StoredFile(name=stored))


@router.get("/runs/{run_id}/files/{name:path}")
async def download_file(access: Reader, run_id: str, name: str) -> Response:
    """The content of one of the run's files."""
    prefix = await run_in_threadpool(run_prefix, access, run_id)
    if not await run_in_threadpool(access.files.exists, prefix, name):
        raise NotFoundError(f"run {run_id!r} has no file {name!r}")
    handle = await run_in_threadpool(access.files.open_read, prefix, name)
    return stream_file(handle, name)


@router.put("/snapshots/{snapshot_id}", status_code=204, openapi_extra=FILE_BODY)
async def upload_snapshot(access: Contributor, snapshot_id: str, request: Request) -> Response:
    """Store a snapshot zip of a submitted run's source folder under its content id."""
    snapshot_name(snapshot_id)
    path = await spool_body(request, server_config(request).max_upload_bytes)
    try:
        await run_in_threadpool(access.files.put_snapshot, snapshot_id, path)
    finally:
        os.unlink(path)
    return Response(status_code=204)


@router.get("/snapshots/{snapshot_id}/exists")
async def snapshot_exists(access: Reader, snapshot_id: str) -> Response:
    """Whether a snapshot is stored (a submitter uploads each content once)."""
    found = await run_in_threadpool(access.files.has_snapshot, snapshot_id)
    return SafeJSONResponse({"exists": found})


@router.get("/snapshots/{snapshot_id}")
async def download_snapshot(access: Reader, snapshot_id: str) -> Response:
    """A snapshot zip."""
    name = snapshot_name(snapshot_id)
    if not await run_in_threadpool(access.files.has_snapshot, snapshot_id):
        raise NotFoundError(f"no snapshot {snapshot_id!r}")
    handle = await run_in_threadpool(access.files.open_read, access.files.snapshot_prefix, name)

    def chunks() -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk

    return StreamingResponse(chunks(), media_type="application/zip")

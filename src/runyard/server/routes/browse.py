"""Browsing a run's files and its snapshot: sizes, previews, members, the zip for download."""

from __future__ import annotations

import zipfile
from typing import IO, Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from runyard.artifacts.store import snapshot_name
from runyard.core.errors import NotFoundError
from runyard.core.roles import Role
from runyard.server.access import Access, require
from runyard.server.encoding import SafeJSONResponse
from runyard.server.file_answers import (
    MAX_PREVIEW,
    FileEntry,
    FilePreview,
    FileTree,
    file_headers,
    media_type,
    preview,
    stream_file,
)
from runyard.server.routes.files import run_prefix

router = APIRouter(tags=["files"])
Reader = Annotated[Access, Depends(require(Role.READER))]
PreviewBytes = Annotated[int, Query(ge=1, le=MAX_PREVIEW)]


class SnapshotFiles(FileTree):
    """The members of a run's snapshot."""

    snapshot_id: str


@router.get("/runs/{run_id}/file-tree", response_model=FileTree)
async def file_tree(access: Reader, run_id: str) -> Response:
    """Every file of the run with its size, sorted by name (folders are the `/` in names)."""
    prefix = await run_in_threadpool(run_prefix, access, run_id)
    found = await run_in_threadpool(access.files.list_sizes, prefix)
    return SafeJSONResponse(FileTree(files=[FileEntry(name=n, size=s) for n, s in found]))


@router.get("/runs/{run_id}/file-preview/{name:path}", response_model=FilePreview)
async def file_preview(
    access: Reader, run_id: str, name: str, max_bytes: PreviewBytes = 65536
) -> Response:
    """The start of a run's file as text (or its kind, for images and binaries)."""

    def read() -> FilePreview:
        prefix = run_prefix(access, run_id)
        size = access.files.size(prefix, name)
        with access.files.open_read(prefix, name) as handle:
            head = handle.read(max_bytes + 1)
        return preview(name, size, head, max_bytes)

    return SafeJSONResponse(await run_in_threadpool(read))


def _open_snapshot(access: Access, run_id: str) -> tuple[str, IO[bytes]]:
    doc = access.store.get_run(run_id)
    snapshot_id = doc.run_definition.get("snapshotId")
    if not isinstance(snapshot_id, str):
        raise NotFoundError(f"run {run_id!r} has no snapshot (only submitted runs have one)")
    name = snapshot_name(snapshot_id)
    if not access.files.has_snapshot(snapshot_id):
        raise NotFoundError(f"the snapshot {snapshot_id!r} of run {run_id!r} is not stored")
    return snapshot_id, access.files.open_read(access.files.snapshot_prefix, name)


def _member(archive: zipfile.ZipFile, run_id: str, name: str) -> zipfile.ZipInfo:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise NotFoundError(f"the snapshot of run {run_id!r} has no file {name!r}") from None
    if info.is_dir():
        raise NotFoundError(f"{name!r} in the snapshot of run {run_id!r} is a folder")
    return info


@router.get("/runs/{run_id}/snapshot", response_model=SnapshotFiles)
async def snapshot_files(access: Reader, run_id: str) -> Response:
    """The files of the source snapshot the run was submitted with, with their sizes."""

    def listing() -> SnapshotFiles:
        snapshot_id, handle = _open_snapshot(access, run_id)
        with handle, zipfile.ZipFile(handle) as archive:
            files = [
                FileEntry(name=i.filename, size=i.file_size)
                for i in archive.infolist()
                if not i.is_dir()
            ]
        return SnapshotFiles(snapshot_id=snapshot_id, files=sorted(files, key=lambda f: f.name))

    return SafeJSONResponse(await run_in_threadpool(listing))


@router.get("/runs/{run_id}/snapshot/files/{name:path}")
async def snapshot_file(access: Reader, run_id: str, name: str) -> Response:
    """One file of the run's snapshot."""

    def read() -> bytes:
        _snapshot_id, handle = _open_snapshot(access, run_id)
        with handle, zipfile.ZipFile(handle) as archive:
            return archive.read(_member(archive, run_id, name))

    data = await run_in_threadpool(read)
    return Response(data, media_type=media_type(name), headers=file_headers(name))


@router.get("/runs/{run_id}/snapshot/preview/{name:path}", response_model=FilePreview)
async def snapshot_preview(
    access: Reader, run_id: str, name: str, max_bytes: PreviewBytes = 65536
) -> Response:
    """The start of a snapshot file as text (or its kind, for images and binaries)."""

    def read() -> FilePreview:
        _snapshot_id, handle = _open_snapshot(access, run_id)
        with handle, zipfile.ZipFile(handle) as archive:
            info = _member(archive, run_id, name)
            with archive.open(info) as member:
                head = member.read(max_bytes + 1)
        return preview(info.filename, info.file_size, head, max_bytes)

    return SafeJSONResponse(await run_in_threadpool(read))


@router.get("/runs/{run_id}/snapshot/zip")
async def snapshot_zip(access: Reader, run_id: str) -> Response:
    """The whole snapshot as a zip, streamed."""
    _snapshot_id, handle = await run_in_threadpool(_open_snapshot, access, run_id)
    answer: StreamingResponse = stream_file(handle, f"{run_id}-snapshot.zip")
    answer.media_type = "application/zip"
    answer.headers["content-type"] = "application/zip"
    answer.headers.update(file_headers(f"{run_id}-snapshot.zip"))
    return answer

"""The model registry: register versions (from a run's files or uploaded files), list, get,
tag, add properties, and download a version's files."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from runyard.artifacts.models import copy_stored_files, staged_model
from runyard.core.errors import NotFoundError, ValidationError
from runyard.core.paths import (
    model_upload_prefix,
    run_prefix,
    validate_artifact_name,
)
from runyard.core.registry import (
    ModelFilter,
    ModelVersion,
    NewModelVersion,
    validate_model_filter,
    validate_model_name,
    validate_new_model_version,
)
from runyard.core.roles import Role
from runyard.core.tags import validate_properties, validate_tags
from runyard.server.access import Access, require
from runyard.server.bodies import server_config, spool_body
from runyard.server.encoding import SafeJSONResponse
from runyard.server.models import (
    FILE_BODY,
    AddProperties,
    RegisterModel,
    RemoveTags,
    SetTags,
    StoredFile,
)

router = APIRouter(tags=["models"])
Reader = Annotated[Access, Depends(require(Role.READER))]
Contributor = Annotated[Access, Depends(require(Role.CONTRIBUTOR))]


def _register(access: Access, new: NewModelVersion, body: RegisterModel) -> ModelVersion:
    """Copy the files into the version's own prefix, then record the version."""
    from_run = body.run_id is not None or body.path is not None
    if from_run == (body.upload_key is not None):
        raise ValidationError(
            "register a model from a run's files (give run_id and path) or from uploaded "
            "files (give upload_key), one of the two"
        )
    files = access.files
    with staged_model(files, access.workspace, new.name) as staged:
        if body.upload_key is None:
            if body.run_id is None or body.path is None:
                raise ValidationError("registering from a run needs both run_id and path")
            run = access.store.get_run(body.run_id)
            source = run_prefix(run.experiment_name, run.run_id)
            copy_stored_files(files, source, body.path, staged, f"run {run.run_id!r}")
        else:
            source = model_upload_prefix(access.workspace, body.upload_key)
            tops = {name.split("/", 1)[0] for name in files.list_files(source)}
            if len(tops) != 1:
                raise ValidationError(
                    f"upload {body.upload_key!r} holds {len(tops)} top-level files or folders; "
                    "upload one file, or one folder's files under its name, before registering"
                )
            copy_stored_files(files, source, tops.pop(), staged, f"upload {body.upload_key!r}")
        version = access.models.create_model_version(
            new, staged.storage_key, staged.path, staged.files
        )
    if body.upload_key is not None:
        files.delete_prefix(model_upload_prefix(access.workspace, body.upload_key))
    return version


@router.post("/models/{model_name}/versions", status_code=201, response_model=ModelVersion)
async def register_model(access: Contributor, model_name: str, body: RegisterModel) -> Response:
    """Register the next version of a model; its files are copied, so later changes to the
    run's files leave it as it is."""
    new = validate_new_model_version(
        NewModelVersion(
            name=model_name,
            run_id=body.run_id,
            description=body.description,
            model_framework=body.model_framework,
            model_framework_version=body.model_framework_version,
            tags=body.tags,
            properties=body.properties,
        ),
        access.store.limits,
    )
    version = await run_in_threadpool(_register, access, new, body)
    return SafeJSONResponse(version, status_code=201)


@router.put(
    "/model-uploads/{upload_key}/files/{name:path}",
    response_model=StoredFile,
    openapi_extra=FILE_BODY,
)
async def upload_model_file(
    access: Contributor, upload_key: str, name: str, request: Request
) -> Response:
    """Store a local model file of a registration to come (its key is the client's)."""
    prefix = model_upload_prefix(access.workspace, upload_key)
    validate_artifact_name(name, access.store.limits)
    path = await spool_body(request, server_config(request).max_upload_bytes)
    try:
        stored = await run_in_threadpool(access.files.put_file, prefix, name, path)
    finally:
        os.unlink(path)
    return SafeJSONResponse(StoredFile(name=stored))


@router.post("/models/search", response_model=list[ModelVersion])
async def search_models(access: Reader, body: ModelFilter) -> Response:
    """Versions matching the filter (name, tags, properties, run, latest only)."""
    model_filter = validate_model_filter(body, access.store.limits)
    return SafeJSONResponse(
        await run_in_threadpool(access.models.list_model_versions, model_filter)
    )


@router.get("/models/{model_name}/versions", response_model=list[ModelVersion])
async def list_versions(access: Reader, model_name: str) -> Response:
    """Every version of a model, newest first (404 if the model does not exist)."""
    validate_model_name(model_name)
    found = await run_in_threadpool(access.models.list_model_versions, ModelFilter(name=model_name))
    if not found:
        await run_in_threadpool(access.models.get_model_version, model_name)
    return SafeJSONResponse(found)


@router.get("/models/{model_name}/latest", response_model=ModelVersion)
async def latest_version(access: Reader, model_name: str) -> Response:
    """The newest version of a model."""
    return SafeJSONResponse(await run_in_threadpool(access.models.get_model_version, model_name))


@router.get("/models/{model_name}/versions/{version}", response_model=ModelVersion)
async def get_version(access: Reader, model_name: str, version: int) -> Response:
    """One version of a model."""
    return SafeJSONResponse(
        await run_in_threadpool(access.models.get_model_version, model_name, version)
    )


@router.put("/models/{model_name}/versions/{version}/tags", status_code=204)
async def set_tags(access: Contributor, model_name: str, version: int, body: SetTags) -> Response:
    """Add or overwrite tags of a version."""
    tags = validate_tags(body.tags, access.store.limits)
    await run_in_threadpool(access.models.set_model_tags, model_name, version, tags)
    return Response(status_code=204)


@router.post("/models/{model_name}/versions/{version}/tags/remove", status_code=204)
async def remove_tags(
    access: Contributor, model_name: str, version: int, body: RemoveTags
) -> Response:
    """Delete tags of a version by key."""
    await run_in_threadpool(access.models.remove_model_tags, model_name, version, body.keys)
    return Response(status_code=204)


@router.post("/models/{model_name}/versions/{version}/properties", status_code=204)
async def add_properties(
    access: Contributor, model_name: str, version: int, body: AddProperties
) -> Response:
    """Add write-once properties (409 if one exists with another value)."""
    properties = validate_properties(body.properties, access.store.limits)
    await run_in_threadpool(access.models.add_model_properties, model_name, version, properties)
    return Response(status_code=204)


@router.get("/models/{model_name}/versions/{version}/files/{name:path}")
async def download_file(access: Reader, model_name: str, version: int, name: str) -> Response:
    """The content of one file of a version."""
    found = await run_in_threadpool(access.models.get_model_version, model_name, version)
    name = validate_artifact_name(name, access.store.limits)
    if name not in found.files:
        raise NotFoundError(
            f"model {found.id} has no file {name!r}; its files are listed in its 'files'"
        )
    handle = await run_in_threadpool(access.files.open_read, found.url, name)

    def chunks() -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk

    filename = posixpath.basename(name).replace('"', "")
    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )

"""Runs: creation, search, life cycle, tags, properties and params."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from runyard.core.entities import RunDocument, validate_new_run
from runyard.core.limits import check_length
from runyard.core.roles import Role
from runyard.core.tags import validate_params, validate_properties, validate_tags
from runyard.server.access import Access, require
from runyard.server.encoding import SafeJSONResponse
from runyard.server.models import (
    AddProperties,
    ChangeStatus,
    CreateRuns,
    LogParams,
    RemoveTags,
    RunPage,
    SearchRuns,
    SetTags,
    StatusAnswer,
    UpdateRun,
)

router = APIRouter(tags=["runs"])
Reader = Annotated[Access, Depends(require(Role.READER))]
Contributor = Annotated[Access, Depends(require(Role.CONTRIBUTOR))]


@router.post("/runs", response_model=list[RunDocument])
async def create_runs(access: Contributor, body: CreateRuns) -> Response:
    """Create runs in one transaction (their experiments too, if new)."""
    limits = access.store.limits
    checked = [validate_new_run(new, limits) for new in body.runs]
    return SafeJSONResponse(await run_in_threadpool(access.store.create_runs, checked))


@router.post("/runs/search", response_model=RunPage)
async def search_runs(access: Reader, body: SearchRuns) -> Response:
    """One page of runs matching the filter, newest first or ordered by a metric."""
    docs, token = await run_in_threadpool(
        lambda: access.store.search_runs(body.filter, limit=body.limit, page_token=body.page_token)
    )
    return SafeJSONResponse(RunPage(runs=docs, next_page_token=token))


@router.get("/runs/{run_id}", response_model=RunDocument)
async def get_run(access: Reader, run_id: str) -> Response:
    """One run's document."""
    return SafeJSONResponse(await run_in_threadpool(access.store.get_run, run_id))


@router.patch("/runs/{run_id}", status_code=204)
async def update_run(access: Contributor, run_id: str, body: UpdateRun) -> Response:
    """Change the display name, description or run definition."""
    if body.display_name is not None:
        check_length("display name", body.display_name, access.store.limits.max_display_name_length)
    await run_in_threadpool(
        lambda: access.store.update_run(
            run_id,
            display_name=body.display_name,
            description=body.description,
            run_definition=body.run_definition,
        )
    )
    return Response(status_code=204)


@router.post("/runs/{run_id}/status", response_model=StatusAnswer)
async def set_status(access: Contributor, run_id: str, body: ChangeStatus) -> Response:
    """Move the run to a status the transition table allows (409 otherwise)."""
    status = await run_in_threadpool(access.store.set_status, run_id, body.status, body.error)
    return SafeJSONResponse(StatusAnswer(status=status))


@router.post("/runs/{run_id}/cancel", response_model=StatusAnswer)
async def cancel_run(access: Contributor, run_id: str) -> Response:
    """Cancel as `run.cancel()` does: an interactive run ends Canceled, a submitted one gets
    CancelRequested and its runner ends it (409 if the run has already ended)."""
    status = await run_in_threadpool(access.store.cancel_run, run_id)
    return SafeJSONResponse(StatusAnswer(status=status))


@router.post("/runs/{run_id}/heartbeat", status_code=204)
async def heartbeat(access: Contributor, run_id: str) -> Response:
    """The run's process is alive."""
    await run_in_threadpool(access.store.heartbeat, run_id)
    return Response(status_code=204)


@router.put("/runs/{run_id}/tags", status_code=204)
async def set_tags(access: Contributor, run_id: str, body: SetTags) -> Response:
    """Add or overwrite tags."""
    tags = validate_tags(body.tags, access.store.limits)
    await run_in_threadpool(access.store.set_tags, run_id, tags)
    return Response(status_code=204)


@router.post("/runs/{run_id}/tags/remove", status_code=204)
async def remove_tags(access: Contributor, run_id: str, body: RemoveTags) -> Response:
    """Delete tags by key."""
    await run_in_threadpool(access.store.remove_tags, run_id, body.keys)
    return Response(status_code=204)


@router.post("/runs/{run_id}/properties", status_code=204)
async def add_properties(access: Contributor, run_id: str, body: AddProperties) -> Response:
    """Add write-once properties (409 if one exists with another value)."""
    properties = validate_properties(body.properties, access.store.limits)
    await run_in_threadpool(access.store.add_properties, run_id, properties)
    return Response(status_code=204)


@router.post("/runs/{run_id}/params", status_code=204)
async def log_params(access: Contributor, run_id: str, body: LogParams) -> Response:
    """Add write-once params (409 if one exists with another value)."""
    params = validate_params(body.params, access.store.limits)
    await run_in_threadpool(access.store.log_params, run_id, params)
    return Response(status_code=204)

"""Experiments of a workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from runyard.core.entities import ExperimentInfo
from runyard.core.names import validate_experiment_name
from runyard.core.roles import Role
from runyard.server.access import Access, require
from runyard.server.encoding import SafeJSONResponse
from runyard.server.models import Archive, Rename

router = APIRouter(tags=["experiments"])
Reader = Annotated[Access, Depends(require(Role.READER))]
Contributor = Annotated[Access, Depends(require(Role.CONTRIBUTOR))]
Owner = Annotated[Access, Depends(require(Role.OWNER))]


@router.get("/experiments", response_model=list[ExperimentInfo])
async def list_experiments(access: Reader, include_archived: bool = False) -> Response:
    """Every experiment with run counts and last activity."""
    found = await run_in_threadpool(access.store.list_experiments, include_archived)
    return SafeJSONResponse(found)


@router.get("/experiments/{name}", response_model=ExperimentInfo)
async def get_experiment(access: Reader, name: str) -> Response:
    """One experiment."""
    return SafeJSONResponse(await run_in_threadpool(access.store.get_experiment, name))


@router.put("/experiments/{name}", response_model=ExperimentInfo)
async def ensure_experiment(access: Contributor, name: str) -> Response:
    """The experiment of that name, created if needed."""
    validate_experiment_name(name)
    return SafeJSONResponse(await run_in_threadpool(access.store.get_or_create_experiment, name))


@router.post("/experiments/{name}/archive", status_code=204)
async def archive_experiment(access: Owner, name: str, body: Archive) -> Response:
    """Archive an experiment or bring it back (owners only)."""
    await run_in_threadpool(access.store.set_experiment_archived, name, body.archived)
    return Response(status_code=204)


@router.post("/experiments/{name}/rename", status_code=204)
async def rename_experiment(access: Owner, name: str, body: Rename) -> Response:
    """Give an experiment another name (owners only; 409 if the name is taken)."""
    await run_in_threadpool(access.store.rename_experiment, name, body.name)
    return Response(status_code=204)

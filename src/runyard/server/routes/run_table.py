"""The runs table: server-side paging and sorting by any column, for the studio and scripts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from runyard.core.roles import Role
from runyard.core.run_table import RunTablePage, RunTableQuery, TableValues, TableValuesQuery
from runyard.server.access import Access, require
from runyard.server.encoding import SafeJSONResponse

router = APIRouter(tags=["runs"])
Reader = Annotated[Access, Depends(require(Role.READER))]


@router.post("/runs/table", response_model=RunTablePage)
async def run_table(access: Reader, body: RunTableQuery) -> Response:
    """One page of an experiment's runs, sorted by any column (metric summaries too), with
    the chosen metrics' last/min/max and each run's children counted by status."""
    return SafeJSONResponse(await run_in_threadpool(access.store.run_table, body))


@router.post("/runs/table/values", response_model=TableValues)
async def run_table_values(access: Reader, body: TableValuesQuery) -> Response:
    """Distinct submitters, targets, tag keys, property keys, metric names, or values of
    one tag or property, across an experiment's runs (at most 1000, sorted)."""
    return SafeJSONResponse(await run_in_threadpool(access.store.run_table_values, body))

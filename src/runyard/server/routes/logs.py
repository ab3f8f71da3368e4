"""Log lines of a run (stdout, stderr, …), appended while it runs and read back by number."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from runyard.core.errors import ValidationError
from runyard.core.log_lines import LogLine
from runyard.core.roles import Role
from runyard.server.access import Access, require
from runyard.server.encoding import SafeJSONResponse
from runyard.server.models import LogLines

router = APIRouter(tags=["logs"])
Reader = Annotated[Access, Depends(require(Role.READER))]
Contributor = Annotated[Access, Depends(require(Role.CONTRIBUTOR))]
_STREAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
MAX_LINE = 64 * 1024


def check_stream(stream: str) -> str:
    """Stream names are short words such as stdout, stderr, driver.txt."""
    if not _STREAM.fullmatch(stream):
        raise ValidationError(
            f"invalid log stream {stream!r}: 1-100 letters, digits, '_', '.', '-'"
        )
    return stream


@router.post("/runs/{run_id}/logs/{stream}")
async def append_lines(access: Contributor, run_id: str, stream: str, body: LogLines) -> Response:
    """Append lines to a log stream; answers the number of the first."""
    check_stream(stream)
    lines = [line[:MAX_LINE] for line in body.lines]
    first = await run_in_threadpool(access.store.append_log_lines, run_id, stream, lines)
    return SafeJSONResponse({"first": first, "count": len(lines)})


@router.get("/runs/{run_id}/logs", response_model=list[LogLine])
async def read_lines(
    access: Reader,
    run_id: str,
    stream: str | None = None,
    after: Annotated[int, Query(ge=-1)] = -1,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Response:
    """Lines numbered above `after` (of one stream, or of all), oldest first."""
    if stream is not None:
        check_stream(stream)
    found = await run_in_threadpool(access.store.read_log_lines, run_id, stream, after, limit)
    return SafeJSONResponse(found)


@router.get("/runs/{run_id}/logs/streams", response_model=dict[str, int])
async def list_streams(access: Reader, run_id: str) -> Response:
    """The run's log streams and their line counts."""
    return SafeJSONResponse(await run_in_threadpool(access.store.list_log_streams, run_id))

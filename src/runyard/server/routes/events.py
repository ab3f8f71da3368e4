"""Live streams (server-sent events) of a run: new metric points, status changes, log lines.

The server keeps no state between requests (several may run behind a load balancer), so a
stream polls the store a few times a second from cursors it holds itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from runyard.core.roles import Role
from runyard.server.access import Access, require
from runyard.server.encoding import dumps, to_jsonable

router = APIRouter(tags=["streams"])
Reader = Annotated[Access, Depends(require(Role.READER))]


async def _existing_run(access: Reader, run_id: str) -> str:
    """Look the run up before the stream starts, so an unknown run is a 404, not an empty
    200 stream."""
    await run_in_threadpool(access.store.get_run, run_id)
    return run_id


def _event(kind: str, data: Any) -> ServerSentEvent:
    return ServerSentEvent(event=kind, raw_data=dumps(to_jsonable(data)).decode())


@router.get(
    "/runs/{run_id}/events",
    response_class=EventSourceResponse,
    dependencies=[Depends(_existing_run)],
)
async def run_events(
    access: Reader,
    run_id: str,
    request: Request,
    metrics: bool = True,
    logs: bool = True,
    from_start: bool = True,
) -> AsyncIterator[ServerSentEvent]:
    """`status`, `metric` and `log` events as they happen; `end` once the run has ended
    and everything it logged was sent."""
    store = access.store
    poll = request.app.state.config.stream_poll_interval
    doc = await run_in_threadpool(store.get_run, run_id)  # found by the dependency already
    status = doc.status
    yield _event("status", {"status": status, "error": doc.error})
    cursors: dict[tuple[str, str], tuple[int, int]] = {}
    log_after: dict[str, int] = {}
    if not from_start:
        for info in await run_in_threadpool(store.list_metrics, run_id):
            if info.last_step is not None:
                cursors[(info.name, info.column)] = (info.last_step, info.count)
        for stream, count in (await run_in_threadpool(store.list_log_streams, run_id)).items():
            log_after[stream] = count - 1
    while not await request.is_disconnected():
        news = 0
        if metrics:
            for series in await run_in_threadpool(store.read_points_since, run_id, cursors):
                assert series.seqs is not None
                cursors[(series.name, series.column)] = (series.steps[-1], series.seqs[-1])
                news += len(series.values)
                yield _event(
                    "metric",
                    {
                        "name": series.name,
                        "column": series.column,
                        "kind": series.kind,
                        "steps": series.steps,
                        "values": series.values,
                        "times": series.times,
                    },
                )
        if logs:
            streams = await run_in_threadpool(store.list_log_streams, run_id)
            for stream in streams:
                lines = await run_in_threadpool(
                    store.read_log_lines, run_id, stream, log_after.get(stream, -1)
                )
                if lines:
                    log_after[stream] = lines[-1].seq
                    news += len(lines)
                    yield _event(
                        "log",
                        {
                            "stream": stream,
                            "lines": [ln.line for ln in lines],
                            "first": lines[0].seq,
                        },
                    )
        doc = await run_in_threadpool(store.get_run, run_id)
        if doc.status is not status:
            status = doc.status
            yield _event("status", {"status": status, "error": doc.error})
        if status.is_terminal and news == 0:
            yield _event("end", {"status": status})
            return
        if news == 0:
            await asyncio.sleep(poll)

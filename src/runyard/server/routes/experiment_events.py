"""The live stream of an experiment's run statuses, for the runs table (server-sent events).

Stateless between requests like the run streams: each stream remembers the statuses of the
runs that have not ended and the newest run id, and polls the store for the unended runs,
the newer ones and those it remembers (they may have ended) a few times a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from runyard.core.roles import Role
from runyard.core.run_table import RunState
from runyard.server.access import Access, require
from runyard.server.encoding import dumps, to_jsonable

router = APIRouter(tags=["streams"])
Reader = Annotated[Access, Depends(require(Role.READER))]
_PING_SECONDS = 15.0


async def _existing_experiment(access: Reader, name: str) -> str:
    """Look the experiment up first, so an unknown one is a 404, not an empty stream."""
    await run_in_threadpool(access.store.get_experiment, name)
    return name


def _event(kind: str, data: Any) -> ServerSentEvent:
    return ServerSentEvent(event=kind, raw_data=dumps(to_jsonable(data)).decode())


@router.get(
    "/experiments/{name}/events",
    response_class=EventSourceResponse,
    dependencies=[Depends(_existing_experiment)],
)
async def experiment_events(
    access: Reader, name: str, request: Request
) -> AsyncIterator[ServerSentEvent]:
    """`status` when a run of the experiment (at any depth) changes status, `created` when a
    run appears, `ping` every 15 s; never ends by itself."""
    store = access.store
    poll = request.app.state.config.stream_poll_interval
    newest, states = await run_in_threadpool(store.run_states, name, None)
    known: dict[int, RunState] = {pk: state for pk, state in states}
    pinged = time.monotonic()
    yield _event("ping", {})
    while not await request.is_disconnected():
        watched = [pk for pk, state in known.items() if not state.status.is_terminal]
        latest, states = await run_in_threadpool(store.run_states, name, newest, watched)
        for pk, state in states:
            before = known.get(pk)
            if pk > newest:
                yield _event("created", state)
            elif before is not None and before.status is not state.status:
                yield _event("status", state)
            known[pk] = state
        newest = max(newest, latest)
        for pk in [pk for pk, state in known.items() if state.status.is_terminal]:
            del known[pk]  # ended runs never change again
        if time.monotonic() - pinged > _PING_SECONDS:
            pinged = time.monotonic()
            yield _event("ping", {})
        await asyncio.sleep(poll)

"""Live streams (server-sent events) of a run: new metric points, status changes, log lines.

Streams of one run share one watcher per server process (server/streams.py), so their
cost does not grow with their number. Each stream first reads what came before it joined
(from the start of the run, or from now), then sends the shared news it has not sent yet,
and stops as soon as its client goes away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from runyard.core.entities import RunDocument
from runyard.core.errors import ValidationError
from runyard.core.log_lines import LogLine
from runyard.core.metrics import MetricSeries
from runyard.core.roles import Role
from runyard.server.access import Access, AccessControl, require
from runyard.server.encoding import dumps, to_jsonable
from runyard.server.streams import (
    Closed,
    EndNews,
    Lagged,
    LogNews,
    MetricNews,
    Ping,
    StatusNews,
    StreamHub,
    Subscriber,
)
from runyard.store.base import TrackingStore

router = APIRouter(tags=["streams"])
Reader = Annotated[Access, Depends(require(Role.READER))]


async def _existing_run(access: Reader, run_id: str) -> str:
    """Look the run up before the stream starts, so an unknown run is a 404, not an empty
    200 stream."""
    await run_in_threadpool(access.store.get_run, run_id)
    return run_id


def _event(kind: str, data: Any) -> bytes:
    """One server-sent event on the wire (compact JSON holds no line breaks)."""
    return b"event: " + kind.encode() + b"\ndata: " + dumps(to_jsonable(data)) + b"\n\n"


def _metric_event(series: MetricSeries) -> bytes:
    # `last_seq` with the last step is the metric's place in a resume cursor.
    return _event(
        "metric",
        {
            "name": series.name,
            "column": series.column,
            "kind": series.kind,
            "steps": series.steps,
            "values": series.values,
            "times": series.times,
            "last_seq": series.seqs[-1] if series.seqs else None,
        },
    )


def _log_event(stream: str, lines: list[LogLine]) -> bytes:
    return _event(
        "log", {"stream": stream, "lines": [ln.line for ln in lines], "first": lines[0].seq}
    )


class Cursor(BaseModel):
    """A stream's place: per metric (name, column, last step, last seq) sent, per log
    stream the last line number sent. Metrics and streams not named start at the start."""

    model_config = ConfigDict(extra="forbid")
    m: list[tuple[str, str, int, int]] = []
    l: list[tuple[str, int]] = []  # noqa: E741 (a short key: the cursor travels in a URL)


def _resume_cursor(resume: str | None) -> Cursor | None:
    if resume is None:
        return None
    try:
        return Cursor.model_validate_json(resume)
    except PydanticValidationError as bad:
        raise ValidationError(
            "resume must be the JSON cursor a stream sent in its `cursor` event "
            '(updated by the events received since), e.g. {"m": [["loss", "", 9, 9]], '
            f'"l": [["stdout", 41]]}}: {bad.errors()[0]["msg"]}'
        ) from None


class _Sent:
    """What one stream has sent: per metric its (step, seq) cursor, per log its last line."""

    def __init__(self) -> None:
        self.cursors: dict[tuple[str, str], tuple[int, int]] = {}
        self.log_after: dict[str, int] = {}

    def start(
        self, store: TrackingStore, run_id: str, from_start: bool, resume: Cursor | None = None
    ) -> RunDocument:
        """The run's document; with `resume`, go on from that cursor (what a dropped stream
        had received); else unless `from_start`, skip everything it has logged so far."""
        doc = store.get_run(run_id)
        if resume is not None:
            self.cursors = {(m[0], m[1]): (m[2], m[3]) for m in resume.m}
            self.log_after = {stream: after for stream, after in resume.l}
            return doc
        if from_start:
            return doc
        for info in store.list_metrics(run_id):
            if info.last_step is not None:
                self.cursors[(info.name, info.column)] = (info.last_step, info.count - 1)
        for stream, count in store.list_log_streams(run_id).items():
            self.log_after[stream] = count - 1
        return doc

    def cursor(self) -> Cursor:
        """Where this stream stands: a client reopening a dropped stream sends it back
        (updated by the events it received since) as `resume`."""
        return Cursor(
            m=[(name, column, step, seq) for (name, column), (step, seq) in self.cursors.items()],
            l=list(self.log_after.items()),
        )

    def metric(self, news: MetricNews) -> bytes | None:
        """The event for the points this stream has not sent (None if it had them all)."""
        series = news.series
        assert series.seqs is not None
        key = (series.name, series.column)
        _, last_seq = self.cursors.get(key, (-1, -1))
        self.cursors[key] = (series.steps[-1], series.seqs[-1])
        if series.seqs[0] > last_seq:
            if news.shared is None:
                news.shared = _metric_event(series)
            return news.shared  # type: ignore[no-any-return]
        keep = [i for i, seq in enumerate(series.seqs) if seq > last_seq]
        if not keep:
            return None
        part = MetricSeries(
            name=series.name,
            column=series.column,
            kind=series.kind,
            description=series.description,
            steps=[series.steps[i] for i in keep],
            values=[series.values[i] for i in keep],
            times=[series.times[i] for i in keep],
            seqs=[series.seqs[i] for i in keep],
        )
        return _metric_event(part)

    def log(self, news: LogNews) -> bytes | None:
        """The event for the lines this stream has not sent."""
        after = self.log_after.get(news.stream, -1)
        self.log_after[news.stream] = max(after, news.lines[-1].seq)
        if news.lines[0].seq > after:
            if news.shared is None:
                news.shared = _log_event(news.stream, news.lines)
            return news.shared  # type: ignore[no-any-return]
        fresh = [ln for ln in news.lines if ln.seq > after]
        return _log_event(news.stream, fresh) if fresh else None


#: Points per metric (and lines per log) a stream reads from the store in one go.
_READ_LIMIT = 10_000


def _backlog(
    store: TrackingStore, run_id: str, sent: _Sent, metrics: bool, logs: bool
) -> tuple[list[bytes], bool]:
    """What the store holds past this stream's cursors, in one worker-thread visit, and
    whether there may be more (a metric or log gave a full read)."""
    events = []
    full = False
    if metrics:
        for series in store.read_points_since(run_id, sent.cursors, _READ_LIMIT):
            assert series.seqs is not None
            sent.cursors[(series.name, series.column)] = (series.steps[-1], series.seqs[-1])
            full = full or len(series.values) >= _READ_LIMIT
            events.append(_metric_event(series))
    if logs:
        for stream, count in store.list_log_streams(run_id).items():
            after = sent.log_after.get(stream, -1)
            if count - 1 > after:
                lines = store.read_log_lines(run_id, stream, after, _READ_LIMIT)
                if lines:
                    sent.log_after[stream] = lines[-1].seq
                    full = full or len(lines) >= _READ_LIMIT
                    events.append(_log_event(stream, lines))
    return events, full


async def _catch_up(
    hub: StreamHub, store: TrackingStore, run_id: str, sent: _Sent, metrics: bool, logs: bool
) -> AsyncIterator[bytes]:
    """What came before this stream joined (or while it lagged), read by the stream itself.

    These reads take the hub's own few worker threads: a thousand streams opening at once
    queue among themselves, not in front of every other request.
    """
    while True:
        events, more = await to_thread.run_sync(
            _backlog, store, run_id, sent, metrics, logs, limiter=hub.reads
        )
        for event in events:
            yield event
        if not more:
            return


@router.get(
    "/runs/{run_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}},
    dependencies=[Depends(_existing_run)],
)
async def run_events(
    access: Reader,
    run_id: str,
    request: Request,
    metrics: bool = True,
    logs: bool = True,
    from_start: bool = True,
    resume: Annotated[str | None, Query(max_length=200_000)] = None,
) -> StreamingResponse:
    """`status`, `metric` and `log` events as they happen; `end` once the run has ended
    and everything it logged was sent. After the first `status`, a `cursor`: where the
    stream starts.
    A client whose stream dropped reopens it with `resume` = that cursor updated by the
    events it received (each metric event's last step and `last_seq`, each log event's
    last line): the new stream sends exactly what it has not had."""
    cursor = _resume_cursor(resume)
    # Events are encoded once per news item and shared by every stream as bytes: no
    # per-stream serialisation or extra tasks, so a thousand streams cost little more.
    return StreamingResponse(
        _follow(access, run_id, request, metrics, logs, from_start, cursor),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _follow(
    access: Access,
    run_id: str,
    request: Request,
    metrics: bool,
    logs: bool,
    from_start: bool,
    resume: Cursor | None,
) -> AsyncIterator[bytes]:
    """The stream's events, from joining the run's watcher until the end or the client
    leaves."""
    hub: StreamHub = request.app.state.streams
    control: AccessControl = request.app.state.access
    store = access.store
    subscriber = Subscriber(
        metrics,
        logs,
        recheck=partial(control.recheck, access),
        grant=(access.workspace, access.credential, access.needed),
    )
    # Joined before the catch-up reads: nothing committed in between can be missed.
    await hub.subscribe(store, access.workspace, run_id, subscriber)
    try:
        sent = _Sent()
        doc = await to_thread.run_sync(
            sent.start, store, run_id, from_start, resume, limiter=hub.reads
        )
        status = doc.status
        yield _event("status", {"status": status, "error": doc.error})
        yield _event("cursor", sent.cursor())
        async for earlier in _catch_up(hub, store, run_id, sent, metrics, logs):
            yield earlier
        if status.is_terminal:
            yield _event("end", {"status": status})
            return
        while True:
            # No timer per stream: the hub re-checks access and pings (server/streams.py);
            # the server cancels this generator when the client goes away.
            news = await subscriber.queue.get()
            if isinstance(news, Ping):
                yield b": ping\n\n"
                continue
            if isinstance(news, Closed):  # revoked since the stream opened
                lost = news.error
                yield _event("error", {"type": type(lost).__name__, "message": str(lost)})
                return
            if isinstance(news, Lagged):
                subscriber.lagging = False
                async for missed in _catch_up(hub, store, run_id, sent, metrics, logs):
                    yield missed
                continue
            event: bytes | None = None
            if isinstance(news, MetricNews) and metrics:
                event = sent.metric(news)
            elif isinstance(news, LogNews) and logs:
                event = sent.log(news)
            elif isinstance(news, StatusNews) and news.status is not status:
                status = news.status
                if news.shared is None:
                    news.shared = _event("status", {"status": status, "error": news.error})
                event = news.shared
            elif isinstance(news, EndNews):
                if news.shared is None:
                    news.shared = _event("end", {"status": news.status})
                yield news.shared
                return
            if event is not None:
                yield event
    finally:
        hub.unsubscribe(access.workspace, run_id, subscriber)

"""Metric points: ingest (binary frame or JSON), summaries, full series and chart history."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from runyard.core.errors import LimitExceededError, UnsupportedMediaTypeError, ValidationError
from runyard.core.history import History
from runyard.core.metrics import MetricInfo, MetricSeries, PointBatch
from runyard.core.roles import Role
from runyard.core.wire import MEDIA_TYPE, decode_batches, decode_json_batches, encode_batches
from runyard.server.access import Access, require
from runyard.server.bodies import read_body, server_config
from runyard.server.encoding import SafeJSONResponse, dumps, to_jsonable
from runyard.server.models import POINTS_BODY, IngestAnswer

router = APIRouter(tags=["metrics"])
Reader = Annotated[Access, Depends(require(Role.READER))]
Contributor = Annotated[Access, Depends(require(Role.CONTRIBUTOR))]

_INGEST_DOC = (
    f"Body: a `{MEDIA_TYPE}` frame (what the SDK sends) or JSON "
    '`{"key": "<idempotency key>", "batches": [{"name", "kind", "column", "description", '
    '"steps": [int|null], "values": [...], "times": [float]}]}`. A batch sent again with the '
    "same key is not stored twice."
)


@router.post(
    "/runs/{run_id}/points",
    response_model=IngestAnswer,
    description=_INGEST_DOC,
    openapi_extra=POINTS_BODY,
)
async def ingest_points(access: Contributor, run_id: str, request: Request) -> Response:
    """Append metric points to a run, exactly once per idempotency key."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in (MEDIA_TYPE, "application/json"):
        raise UnsupportedMediaTypeError(
            f"points are read as {MEDIA_TYPE!r} or 'application/json', not {media or 'unknown'!r}"
        )
    body = await read_body(request, server_config(request).max_points_bytes)
    limits = access.store.limits
    if media == MEDIA_TYPE:
        key, batches = await run_in_threadpool(decode_batches, body, limits)
    else:
        try:
            parsed = json.loads(body)
        except ValueError:
            raise ValidationError("the body is neither a points frame nor valid JSON") from None
        key, batches = decode_json_batches(parsed, limits)
    stored = await run_in_threadpool(access.store.log_points, run_id, batches, key)
    request.app.state.streams.wake(access.workspace, run_id)  # this process's streams: now
    points = sum(len(b.values) for b in batches)
    return SafeJSONResponse(IngestAnswer(stored=stored, points=points))


@router.get("/runs/{run_id}/metrics", response_model=list[MetricInfo])
async def list_metrics(access: Reader, run_id: str) -> Response:
    """The run's metric series with counts, last values and ranges."""
    return SafeJSONResponse(await run_in_threadpool(access.store.list_metrics, run_id))


#: A series read without paging may hold this many points; past it, pages are required.
UNPAGED_POINTS = 1_000_000
#: The largest page, and the one given when only a page token is sent.
MAX_PAGE_POINTS = 1_000_000
DEFAULT_PAGE_POINTS = 250_000
#: The response header holding the next page's token (absent after the last page).
NEXT_PAGE_HEADER = "x-runyard-next-page-token"
#: The number of buckets of a history asked for without `max_points`.
DEFAULT_HISTORY_POINTS = 1_000


def _frame(series: list[MetricSeries]) -> bytes:
    return encode_batches(
        [
            PointBatch(
                s.name,
                s.kind,
                s.column,
                s.description,
                list(s.steps) or [None] * len(s.values),
                s.values,
                list(s.times) or [0.0] * len(s.values),
            )
            for s in series
        ]
    )


@router.get("/runs/{run_id}/metrics/series")
async def metric_series(
    access: Reader,
    run_id: str,
    request: Request,
    name: Annotated[list[str] | None, Query()] = None,
    values_only: bool = False,
    page_size: Annotated[int | None, Query(ge=1, le=MAX_PAGE_POINTS)] = None,
    page_token: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Every point of the run's metrics (or the named ones): a points frame when the client
    accepts it, JSON otherwise.

    Read in pages (`page_size` points, then the `page_token` each answer gives in its
    `X-Runyard-Next-Page-Token` header until there is none); a metric may continue on the
    next page. Without paging, series of more than 1,000,000 points in all are refused.
    """
    store = access.store
    token = None
    if page_size is None and page_token is None:
        total = await run_in_threadpool(store.count_metric_points, run_id, name)
        if total > UNPAGED_POINTS:
            raise LimitExceededError(
                f"these series hold {total:,} points; read more than {UNPAGED_POINTS:,} in "
                f"pages (page_size up to {MAX_PAGE_POINTS:,}, then each answer's page_token "
                "header), or ask /metrics/history for a downsampled view"
            )
        series = await run_in_threadpool(
            lambda: store.get_metric_series(run_id, name, values_only=values_only)
        )
    else:
        series, token = await run_in_threadpool(
            lambda: store.get_metric_series_page(
                run_id,
                name,
                values_only=values_only,
                page_token=page_token,
                page_size=page_size or DEFAULT_PAGE_POINTS,
            )
        )
    headers = {NEXT_PAGE_HEADER: token} if token is not None else None
    # Encoded in a worker thread: a large answer must not hold up the event loop.
    if MEDIA_TYPE in request.headers.get("accept", ""):
        frame = await run_in_threadpool(_frame, series)
        return Response(frame, media_type=MEDIA_TYPE, headers=headers)
    body = await run_in_threadpool(lambda: dumps(to_jsonable(series)))
    return Response(body, media_type="application/json", headers=headers)


@router.get("/runs/{run_id}/metrics/history", response_model=History)
async def metric_history(
    access: Reader,
    run_id: str,
    name: str,
    column: str = "",
    max_points: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    min_step: Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1)] = None,
    max_step: Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1)] = None,
) -> Response:
    """A metric's points for a chart, downsampled to `max_points` buckets (1,000 when not
    given) that keep each bucket's min and max; every point when the metric has no more.
    With `min_step`/`max_step` only that range (a zoomed chart). For all points of a long
    series, read /metrics/series in pages."""
    points = max_points or DEFAULT_HISTORY_POINTS
    if min_step is None and max_step is None:
        history = await run_in_threadpool(
            access.store.get_metric_history, run_id, name, column, points
        )
    else:
        history = await run_in_threadpool(
            access.store.get_metric_history_range,
            run_id,
            name,
            column,
            points,
            min_step,
            max_step,
        )
    body = await run_in_threadpool(lambda: dumps(to_jsonable(history)))
    return Response(body, media_type="application/json")

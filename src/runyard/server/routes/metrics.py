"""Metric points: ingest (binary frame or JSON), summaries, full series and chart history."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from runyard.core.errors import ValidationError
from runyard.core.history import History
from runyard.core.metrics import MetricInfo, PointBatch
from runyard.core.roles import Role
from runyard.core.wire import MEDIA_TYPE, decode_batches, decode_json_batches, encode_batches
from runyard.server.access import Access, require
from runyard.server.bodies import MAX_POINTS_BODY, read_body
from runyard.server.encoding import SafeJSONResponse
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
    body = await read_body(request, MAX_POINTS_BODY)
    limits = access.store.limits
    if request.headers.get("content-type", "").startswith(MEDIA_TYPE):
        key, batches = await run_in_threadpool(decode_batches, body, limits)
    else:
        try:
            parsed = json.loads(body)
        except ValueError:
            raise ValidationError("the body is neither a points frame nor valid JSON") from None
        key, batches = decode_json_batches(parsed, limits)
    stored = await run_in_threadpool(access.store.log_points, run_id, batches, key)
    points = sum(len(b.values) for b in batches)
    return SafeJSONResponse(IngestAnswer(stored=stored, points=points))


@router.get("/runs/{run_id}/metrics", response_model=list[MetricInfo])
async def list_metrics(access: Reader, run_id: str) -> Response:
    """The run's metric series with counts, last values and ranges."""
    return SafeJSONResponse(await run_in_threadpool(access.store.list_metrics, run_id))


@router.get("/runs/{run_id}/metrics/series")
async def metric_series(
    access: Reader,
    run_id: str,
    request: Request,
    name: Annotated[list[str] | None, Query()] = None,
    values_only: bool = False,
) -> Response:
    """Every point of the run's metrics (or the named ones): a points frame when the client
    accepts it, JSON otherwise."""
    series = await run_in_threadpool(
        lambda: access.store.get_metric_series(run_id, name, values_only=values_only)
    )
    if MEDIA_TYPE in request.headers.get("accept", ""):
        batches = [
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
        frame = await run_in_threadpool(encode_batches, batches)
        return Response(frame, media_type=MEDIA_TYPE)
    return SafeJSONResponse(series)


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
    """A metric's points for a chart, downsampled to `max_points` buckets that keep each
    bucket's min and max; with `min_step`/`max_step` only that range (a zoomed chart)."""
    if min_step is None and max_step is None:
        history = await run_in_threadpool(
            access.store.get_metric_history, run_id, name, column, max_points
        )
    else:
        history = await run_in_threadpool(
            access.store.get_metric_history_range,
            run_id,
            name,
            column,
            max_points,
            min_step,
            max_step,
        )
    return SafeJSONResponse(history)

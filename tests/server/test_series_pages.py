"""Long series are read in pages (bounded server memory); chart history is downsampled by
default; the SDK still gets every point over HTTP."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from runyard import Experiment, Workspace
from runyard.core.entities import NewRun
from runyard.core.limits import Limits
from runyard.core.metrics import MetricKind, PointBatch
from runyard.core.wire import MEDIA_TYPE, decode_batches
from runyard.server.app import create_app
from runyard.server.config import ServerConfig
from runyard.server.routes import metrics as metric_routes
from runyard.store.sql import SqlTrackingStore

HEADER = "x-runyard-next-page-token"


def _seed(store: SqlTrackingStore) -> None:
    store.create_runs([NewRun(run_id="long", experiment_name="pages")])
    n = 2_500
    store.log_points(
        "long",
        [
            PointBatch(
                "loss",
                MetricKind.SCALAR,
                "",
                "",
                list(range(0, 2 * n, 2)),
                [math.sin(i) for i in range(n)],
                [float(i) for i in range(n)],
            ),
            PointBatch("empty", MetricKind.SCALAR, "", "", [], [], []),
            PointBatch("acc", MetricKind.SCALAR, "", "", [None] * 3, [0.1, 0.2, 0.3], [1.0] * 3),
            PointBatch("labels", MetricKind.LIST, "", "", [None, None], ["a", 2], [1.0, 1.0]),
        ],
    )


@pytest.fixture
def api(store_url: str, tmp_path: Path) -> Iterator[Callable[..., httpx.Response]]:
    """GET on the routes of an in-process app over a seeded store."""
    app = create_app(
        ServerConfig(store_url, str(tmp_path / "artifacts"), allowed_hosts=("testserver",))
    )
    _seed(app.state.access.store("pages"))
    client = TestClient(app)  # not entered: no lifespan, these routes need none

    def get(path: str, **params: Any) -> httpx.Response:
        accept = params.pop("accept", "application/json")
        return client.get(
            f"/api/v1/workspaces/pages/runs/long/{path}", params=params, headers={"accept": accept}
        )

    yield get
    client.close()


def _pages(api: Callable[..., httpx.Response], **params: Any) -> list[httpx.Response]:
    pages = [api("metrics/series", **params)]
    while HEADER in pages[-1].headers:
        pages.append(api("metrics/series", page_token=pages[-1].headers[HEADER], **params))
        assert len(pages) < 50
    return pages


def _joined(pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    joined: list[dict[str, Any]] = []
    for page in pages:
        for s in page:
            if joined and (joined[-1]["name"], joined[-1]["column"]) == (s["name"], s["column"]):
                for key in ("steps", "values", "times"):
                    joined[-1][key] += s[key]
            else:
                joined.append(s)
    return joined


def test_series_read_in_pages_equals_the_whole_and_each_page_is_bounded(api: Any) -> None:
    whole = api("metrics/series").json()
    assert [s["name"] for s in whole] == ["loss", "empty", "acc", "labels"]
    pages = _pages(api, page_size=1_000)
    bodies = [p.json() for p in pages]
    assert [sum(len(s["values"]) for s in b) for b in bodies] == [1_000, 1_000, 505]
    assert _joined(bodies) == whole
    # The binary form pages alike.
    frames = _pages(api, page_size=700, accept=MEDIA_TYPE)
    assert len(frames) == 4
    decoded = [decode_batches(f.content, Limits())[1] for f in frames]
    assert max(sum(len(b.values) for b in batches) for batches in decoded) == 700
    values = [v for batches in decoded for b in batches if b.name == "loss" for v in b.values]
    assert values == whole[0]["values"]


def test_page_token_that_is_not_one_is_refused(api: Any) -> None:
    answer = api("metrics/series", page_token="1; DROP TABLE runs")
    assert answer.status_code == 400 and "page token" in answer.json()["error"]["message"]
    assert api("metrics/series", page_size=0).status_code == 422


def test_series_too_long_for_one_answer_is_refused_without_paging(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metric_routes, "UNPAGED_POINTS", 2_000)
    answer = api("metrics/series")
    assert answer.status_code == 400
    assert "in pages" in answer.json()["error"]["message"]
    assert api("metrics/series", name="acc").status_code == 200  # the named ones are few
    assert api("metrics/series", page_size=2_000).status_code == 200


def test_history_without_max_points_is_downsampled(api: Any) -> None:
    history = api("metrics/history", name="loss").json()
    assert history["downsampled"] is True and history["count"] == 2_500
    assert len(history["steps"]) <= metric_routes.DEFAULT_HISTORY_POINTS
    assert sum(history["counts"]) == 2_500
    raw = api("metrics/history", name="loss", max_points=5_000).json()
    assert raw["downsampled"] is False and len(raw["values"]) == 2_500


@pytest.mark.parametrize("transport", ["http"])
def test_get_metrics_over_http_returns_full_series_across_pages(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("runyard.client.http.SERIES_PAGE_POINTS", 700)
    run = Experiment(workspace, "pages").start_logging()
    for i in range(2_000):
        run.log("loss", i * 0.5)
    run.log("acc", 1.0)
    run.log_list("labels", ["a", "b"])
    run.flush()
    metrics = run.get_metrics()
    assert metrics["loss"] == [i * 0.5 for i in range(2_000)]
    assert metrics["acc"] == 1.0 and metrics["labels"] == ["a", "b"]
    series = workspace.transport.store.get_metric_series(run.id, ["loss"])
    assert series[0].steps == list(range(2_000)) and len(series[0].times) == 2_000

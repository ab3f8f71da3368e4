"""Unknown runs and bad workspace names: 404 on every run route (even for empty writes),
another workspace's run is not found, and a malformed workspace name is a 400 that says so.

The fixtures (`served`, `seeded`) are in this package's conftest.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from runyard.core.wire import encode_batches
from tests.server.bad_input.seeded import FRAME, Seeded, assert_refused, points_frame

# Unknown runs

_FRAME_ONE = points_frame("loss", [1.0])
_RUN_ROUTES = [
    ("GET", "", {}),
    ("PATCH", "", {"json": {"display_name": "renamed"}}),
    ("POST", "/status", {"json": {"status": "Completed"}}),
    ("POST", "/heartbeat", {}),
    ("PUT", "/tags", {"json": {"tags": {"a": "b"}}}),
    ("POST", "/tags/remove", {"json": {"keys": ["a"]}}),
    ("POST", "/properties", {"json": {"properties": {"a": "b"}}}),
    ("POST", "/points", {"content": _FRAME_ONE, "headers": FRAME}),
    ("GET", "/metrics", {}),
    ("GET", "/metrics/series", {}),
    ("GET", "/metrics/history", {"params": {"name": "loss"}}),
    ("GET", "/files", {}),
    ("PUT", "/files/a.txt", {"content": b"a"}),
    ("GET", "/files/a.txt", {}),
    ("POST", "/logs/stdout", {"json": {"lines": ["x"]}}),
    ("GET", "/logs", {}),
    ("GET", "/logs/streams", {}),
]


@pytest.mark.parametrize(
    ("method", "suffix", "kwargs"),
    _RUN_ROUTES,
    ids=[f"{method} {suffix or '/'}" for method, suffix, _ in _RUN_ROUTES],
)
def test_unknown_run_is_not_found_on_every_run_route(
    seeded: Seeded, method: str, suffix: str, kwargs: dict[str, Any]
) -> None:
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    with seeded.client() as api:
        answer = api.request(method, f"/runs/{ghost}{suffix}", **kwargs)
    assert_refused(answer, 404, "NotFoundError", f"no run with id {ghost!r}")
    seeded.assert_intact()


def test_unknown_run_event_stream_is_not_found(seeded: Seeded) -> None:
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    with (
        seeded.client() as api,
        api.stream("GET", f"/runs/{ghost}/events", timeout=10) as answer,
    ):
        answer.read()
    assert_refused(answer, 404, "NotFoundError", f"no run with id {ghost!r}")


@pytest.mark.parametrize(
    ("method", "suffix", "kwargs"),
    [
        ("PATCH", "", {"json": {}}),
        ("PUT", "/tags", {"json": {"tags": {}}}),
        ("POST", "/properties", {"json": {"properties": {}}}),
        ("POST", "/points", {"json": {"batches": []}}),
        ("POST", "/points", {"content": encode_batches([]), "headers": FRAME}),
    ],
    ids=[
        "PATCH {}",
        "PUT /tags {}",
        "POST /properties {}",
        "POST /points []",
        "POST /points frame",
    ],
)
def test_unknown_run_is_not_found_even_when_the_write_is_empty(
    seeded: Seeded, method: str, suffix: str, kwargs: dict[str, Any]
) -> None:
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    with seeded.client() as api:
        answer = api.request(method, f"/runs/{ghost}{suffix}", **kwargs)
    assert_refused(answer, 404, "NotFoundError", f"no run with id {ghost!r}")


@pytest.mark.parametrize(
    ("method", "suffix", "kwargs"),
    [
        ("GET", "", {}),
        ("PUT", "/tags", {"json": {"tags": {"team": "intruder"}}}),
        ("GET", "/files/outputs/keep.txt", {}),
    ],
)
def test_run_of_another_workspace_is_not_found(
    seeded: Seeded, method: str, suffix: str, kwargs: dict[str, Any]
) -> None:
    other = f"{seeded.served.server.url}/api/v1/workspaces/w{uuid.uuid4().hex[:12]}"
    with httpx.Client(base_url=other, timeout=30) as api:
        answer = api.request(method, f"{seeded.run}{suffix}", **kwargs)
    assert_refused(answer, 404, "NotFoundError", seeded.run_id)
    seeded.assert_intact()


def test_child_of_an_unknown_parent_is_not_created(seeded: Seeded) -> None:
    with seeded.client() as api:
        answer = api.post(
            "/runs",
            json={
                "runs": [{"run_id": "orphan", "experiment_name": "e2", "parent_run_id": "ghost"}]
            },
        )
        assert_refused(answer, 404, "NotFoundError", "'ghost'")
        assert api.get("/runs/orphan").status_code == 404
    seeded.assert_intact()


def test_run_id_taken_is_a_conflict(seeded: Seeded) -> None:
    with seeded.client() as api:
        answer = api.post(
            "/runs", json={"runs": [{"run_id": seeded.run_id, "experiment_name": "other"}]}
        )
    assert_refused(answer, 409, "ConflictError", f"{seeded.run_id!r} already exists")
    seeded.assert_intact()


# Workspace names


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("bad%20name", "ValidationError", "'bad name'"),
        ("bad.name", "ValidationError", "'bad.name'"),
        ("-leading-dash", "ValidationError", "'-leading-dash'"),
        ("na%C3%AFve", "ValidationError", "'naïve'"),
        ("w" * 256, "LimitExceededError", "the limit is 255"),
    ],
    ids=["space", "dot", "leading-dash", "non-ascii", "256-chars"],
)
@pytest.mark.parametrize(
    ("method", "suffix", "kwargs"),
    [
        ("GET", "/experiments", {}),
        ("POST", "/runs", {"json": {"runs": [{"run_id": "r", "experiment_name": "e"}]}}),
    ],
    ids=["list", "create"],
)
def test_bad_workspace_name_is_refused(
    seeded: Seeded,
    name: str,
    kind: str,
    message: str,
    method: str,
    suffix: str,
    kwargs: dict[str, Any],
) -> None:
    url = f"{seeded.served.server.url}/api/v1/workspaces/{name}{suffix}"
    with httpx.Client(timeout=30) as api:
        answer = api.request(method, httpx.URL(url), **kwargs)
    assert_refused(answer, 400, kind, message)
    seeded.assert_intact()


def test_bad_workspace_name_error_says_it_is_the_workspace(seeded: Seeded) -> None:
    answer = httpx.get(f"{seeded.served.server.url}/api/v1/workspaces/bad%20name/experiments")
    assert_refused(answer, 400, "ValidationError", "workspace", "'bad name'")

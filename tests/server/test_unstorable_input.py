"""Text no store can hold (NUL on PostgreSQL, unpaired surrogates anywhere) in what a request
reads or writes: a 404 or 400 decided in one place (server/errors.py), never a 500, the same
on both backends; the SDK reports not-found at once instead of retrying a server error."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from runyard import Experiment, NotFoundError, Workspace
from runyard.server.app import create_app
from runyard.server.config import ServerConfig

RUN = "seeded-run"


@pytest.fixture
def api(store_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The app in-process on the backend under test, with one run holding a tag and a point."""
    app = create_app(ServerConfig(store_url, str(tmp_path / "artifacts")))
    with TestClient(app, base_url="http://localhost/api/v1/workspaces/w") as client:
        created = client.post(
            "/runs",
            json={"runs": [{"run_id": RUN, "experiment_name": "e", "tags": {"team": "a"}}]},
        )
        assert created.status_code == 200, created.text
        batch = {"name": "loss", "kind": "scalar", "values": [0.5], "times": [1.0]}
        assert client.post(f"/runs/{RUN}/points", json={"batches": [batch]}).status_code == 200
        yield client


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/runs/a%00b", {}),
        ("/runs/a%00b/metrics", {}),
        ("/experiments/a%00b", {}),
        (f"/runs/{RUN}/metrics/history", {"name": "lo\x00ss"}),
        (f"/runs/{RUN}/metrics/history", {"name": "loss", "column": "c\x00"}),
        (f"/runs/{RUN}/metrics/series", {"name": "lo\x00ss"}),
    ],
)
def test_nul_in_a_read_parameter_is_not_found(
    api: TestClient, path: str, params: dict[str, str]
) -> None:
    answer = api.get(path, params=params)

    assert answer.status_code in (200, 404), answer.text
    if answer.status_code == 404:
        assert answer.json()["error"]["type"] == "NotFoundError"
    else:  # a list filtered by a name nothing has
        assert answer.json() == []


def _raw_json(client: TestClient, method: str, path: str, text: str) -> Any:
    return client.request(
        method, path, content=text.encode(), headers={"content-type": "application/json"}
    )


@pytest.mark.parametrize(
    "body",
    [
        '{"filter": {"experiment_name": "e\\ud800"}}',
        '{"filter": {"tags": {"te\\u0000am": "a"}}}',
        '{"filter": {"tags": {"team": "\\udfff"}}}',
        '{"filter": {"metrics": [{"name": "lo\\u0000ss", "op": ">", "value": 0}]}}',
    ],
)
def test_unstorable_text_in_search_keys_is_a_client_error(api: TestClient, body: str) -> None:
    answer = _raw_json(api, "POST", "/runs/search", body)

    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert answer.json()["error"]["type"] == "ValidationError"
    else:
        assert answer.json()["runs"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", f"/runs/{RUN}/tags", '{"tags": {"team": "b\\ud800"}}'),
        ("PUT", f"/runs/{RUN}/tags", '{"tags": {"k\\udc80": "v"}}'),
        ("POST", f"/runs/{RUN}/properties", '{"properties": {"p": "\\ud800"}}'),
        ("PATCH", f"/runs/{RUN}", '{"description": "\\ud800"}'),
        ("POST", "/runs", '{"runs": [{"run_id": "r\\ud800", "experiment_name": "e"}]}'),
    ],
)
def test_unpaired_surrogates_in_a_write_are_refused_and_nothing_changes(
    api: TestClient, method: str, path: str, body: str
) -> None:
    before = api.get(f"/runs/{RUN}").json()

    answer = _raw_json(api, method, path, body)

    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["error"]["type"] == "ValidationError"
    assert api.get(f"/runs/{RUN}").json() == before
    assert [r["runId"] for r in api.post("/runs/search", json={}).json()["runs"]] == [RUN]


@pytest.mark.parametrize(("backend", "transport"), [("postgres", "http")], indirect=True)
def test_sdk_reports_names_with_nul_as_not_found_without_retrying(
    workspace: Workspace,
) -> None:
    run = Experiment(workspace, "e").start_logging()
    run.log("loss", 0.5)
    run.complete()
    store = workspace.transport.store  # what the SDK's objects call over HTTP
    started = time.monotonic()

    for read in (
        lambda: store.get_run(f"ghost\x00{uuid.uuid4().hex[:6]}"),
        lambda: store.get_experiment("e\x00"),
        lambda: store.get_metric_history(run.id, "lo\x00ss", "", None),
    ):
        with pytest.raises(NotFoundError):
            read()

    assert time.monotonic() - started < 5, "the SDK retried instead of reporting not-found"


def test_error_answers_with_surrogates_are_still_valid_json(api: TestClient) -> None:
    answer = api.get("/runs/" + "%ED%A0%80")  # an encoded surrogate: not UTF-8 text
    assert answer.status_code == 404
    json.loads(answer.content)

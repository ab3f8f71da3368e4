"""One secured server per backend for the access-control tests; a victim run per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runyard.core.wire import MEDIA_TYPE
from runyard.sdk.workspace import close_all
from tests.conftest import BACKENDS, ServerProcess, fresh_store_url, poll_until
from tests.server.access_control.secured import (
    CACHE_DEADLINE,
    GRANTS,
    MODEL_FILE,
    TEAM_A,
    TEAM_B,
    Secured,
    Victim,
    create_token,
    points_frame,
    source_zip,
)


@pytest.fixture(scope="package", params=BACKENDS)
def secured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Secured]:
    """One server per backend for this package, requiring tokens once it is set up."""
    folder = tmp_path_factory.mktemp(f"secured-{request.param}")
    stores = fresh_store_url(str(request.param), folder)
    store = next(stores)
    # Runs stay Running for the whole package: none turns NotResponding between two reads.
    server = ServerProcess(store, folder / "artifacts", "--heartbeat-timeout", "3600")
    try:
        server.start()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            # The teams use the open server first (see test_token_create_works_for_a_new_workspace).
            for workspace in (TEAM_A, TEAM_B):
                assert client.get(f"/api/v1/workspaces/{workspace}/experiments").status_code == 200
            tokens = {(ws, role): create_token(store, ws, role) for ws, role in GRANTS}
            poll_until(
                lambda: client.get(f"/api/v1/workspaces/{TEAM_A}/experiments").status_code == 401,
                CACHE_DEADLINE,
                "the server requires tokens once they exist",
            )
        yield Secured(server.url, store, tokens)
    finally:
        server.stop()
        stores.close()


@pytest.fixture
def client(secured: Secured) -> Iterator[httpx.Client]:
    """An HTTP client of the secured server (each request brings its own token)."""
    with httpx.Client(base_url=secured.url, timeout=30) as http:
        yield http


@pytest.fixture
def victim(secured: Secured, client: httpx.Client) -> Victim:
    """A fresh run in team-a, in an experiment of its own, with a model registered from it."""
    experiment = f"victim-{uuid.uuid4().hex[:8]}"
    model = f"{experiment}-model"
    run_id = str(uuid.uuid4())
    snapshot_id = uuid.uuid4().hex
    owner = {"authorization": secured.auth(TEAM_A, "owner")}
    base = f"/api/v1/workspaces/{TEAM_A}"
    new_run = {
        "run_id": run_id,
        "experiment_name": experiment,
        "status": "Running",
        "display_name": "victim",
        "description": "a run other teams must not touch",
        "tags": {"stage": "train"},
        "properties": {"owner": TEAM_A},
        "run_definition": {"snapshotId": snapshot_id},
    }
    frame = {"content-type": MEDIA_TYPE, **owner}
    for response in (
        client.post(f"{base}/runs", json={"runs": [new_run]}, headers=owner),
        client.post(
            f"{base}/runs/{run_id}/points", content=points_frame([0, 1], [0.9, 0.8]), headers=frame
        ),
        client.put(f"{base}/runs/{run_id}/files/{MODEL_FILE}", content=b"weights", headers=owner),
        client.post(
            f"{base}/runs/{run_id}/logs/stdout", json={"lines": ["epoch 1"]}, headers=owner
        ),
        client.put(f"{base}/snapshots/{snapshot_id}", content=source_zip(), headers=owner),
        client.post(
            f"{base}/models/{model}/versions",
            json={"run_id": run_id, "path": MODEL_FILE, "properties": {"owner": TEAM_A}},
            headers=owner,
        ),
    ):
        assert 200 <= response.status_code < 300, response.text
    return Victim(experiment, run_id, snapshot_id, uuid.uuid4().hex, model)


@pytest.fixture
def sdk_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The SDK spools into this test's folder and gives up flushing after 20 s."""
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT", "20")
    yield
    close_all()

"""The SDK with a token: logs end to end, and says clearly what a token may not do.

The fixtures (`secured`, `client`, `victim`, `sdk_env`) are in this package's conftest.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from runyard import Experiment, Run, Workspace
from runyard.core.errors import PermissionDeniedError, RunyardError
from tests.server.access_control.secured import TEAM_A, TEAM_B, Secured

# 5: the SDK with a token


def test_sdk_with_a_contributor_token_logs_a_run_end_to_end(
    secured: Secured, client: httpx.Client, tmp_path: Path, sdk_env: None
) -> None:
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    notes = tmp_path / "notes.txt"
    notes.write_text("what the run learnt")
    ws = Workspace(TEAM_A, server_url=secured.url, token=secured.tokens[(TEAM_A, "contributor")])

    with Experiment(ws, name).start_logging() as run:
        for value in (0.9, 0.7, 0.4):
            run.log("loss", value)
        run.tag("stage", "train")
        run.add_properties({"author": "team-a"})
        run.upload_file("outputs/notes.txt", str(notes))

    reader = {"authorization": secured.auth(TEAM_A, "reader")}
    api = f"/api/v1/workspaces/{TEAM_A}/runs/{run.id}"
    doc = client.get(api, headers=reader).json()
    assert doc["status"] == "Completed"
    assert doc["tags"] == {"stage": "train"}
    assert doc["properties"] == {"author": "team-a"}
    series = client.get(f"{api}/metrics/series", params={"name": "loss"}, headers=reader).json()
    assert [s["values"] for s in series] == [[0.9, 0.7, 0.4]]
    assert client.get(f"{api}/files", headers=reader).json()["files"] == ["outputs/notes.txt"]
    assert Run(Experiment(ws, name), run.id).get_metrics() == {"loss": [0.9, 0.7, 0.4]}


def test_sdk_raises_permission_denied_for_another_workspaces_token(
    secured: Secured, sdk_env: None
) -> None:
    foreign = Workspace(TEAM_A, server_url=secured.url, token=secured.tokens[(TEAM_B, "owner")])

    with pytest.raises(PermissionDeniedError) as denied:
        Experiment.list(foreign)
    with pytest.raises(PermissionDeniedError):
        Experiment(foreign, "intrusion").start_logging()

    assert isinstance(denied.value, RunyardError)
    assert TEAM_B in str(denied.value)


def test_sdk_with_a_reader_token_reads_but_cannot_start_a_run(
    secured: Secured, sdk_env: None
) -> None:
    reader = Workspace(TEAM_A, server_url=secured.url, token=secured.tokens[(TEAM_A, "reader")])

    assert isinstance(Experiment.list(reader), list)
    with pytest.raises(PermissionDeniedError):
        Experiment(reader, "read-only").start_logging()


def test_sdk_workspaces_of_one_server_each_use_their_own_token(
    secured: Secured, sdk_env: None
) -> None:
    """Two Workspace objects for the same server and workspace, with different tokens."""
    owner = Workspace(TEAM_A, server_url=secured.url, token=secured.tokens[(TEAM_A, "owner")])
    reader = Workspace(TEAM_A, server_url=secured.url, token=secured.tokens[(TEAM_A, "reader")])
    Experiment.list(owner)

    with pytest.raises(PermissionDeniedError):
        Experiment(reader, "read-only").start_logging()

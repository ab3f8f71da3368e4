"""A token reaches only its own workspace: every route refuses another workspace's token
and changes nothing; an unknown or revoked token is unauthenticated.

The fixtures (`secured`, `client`, `victim`, `sdk_env`) are in this package's conftest.py.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from runyard import Experiment, Workspace
from runyard.core.errors import AuthenticationError
from tests.conftest import poll_until
from tests.server.access_control.secured import (
    CACHE_DEADLINE,
    MODEL_FILE,
    TEAM_A,
    TEAM_B,
    Call,
    Secured,
    Victim,
    api_calls,
    bearer,
    create_token,
    runyard_cli,
    unexpected_answers,
    visible_state,
)

# 3: a token reaches only its own workspace


def test_token_of_another_workspace_is_refused_on_every_route_and_changes_nothing(
    secured: Secured, client: httpx.Client, victim: Victim
) -> None:
    calls = api_calls(client, TEAM_A, victim)
    owner_a = secured.auth(TEAM_A, "owner")
    before = visible_state(client, owner_a, victim)

    wrong = unexpected_answers(
        client, calls, secured.auth(TEAM_B, "owner"), lambda _: (403, "PermissionDeniedError")
    )

    assert wrong == []
    assert visible_state(client, owner_a, victim) == before
    assert unexpected_answers(client, calls, owner_a, lambda _: (200, None)) == []
    after = visible_state(client, owner_a, victim)
    assert after["run"]["status"] == "Canceled"
    assert after["contents"][MODEL_FILE] == b"intruded"


def test_token_cannot_reach_another_workspaces_run_through_its_own_workspace(
    secured: Secured, client: httpx.Client, victim: Victim
) -> None:
    """Team-b names team-a's run and snapshot ids on its own workspace: nothing is found."""
    calls = [c for c in api_calls(client, TEAM_B, victim) if "_id}" in c.template]
    owner_a = secured.auth(TEAM_A, "owner")
    owner_b = secured.auth(TEAM_B, "owner")
    before = visible_state(client, owner_a, victim)

    def expected(call: Call) -> tuple[int, str | None]:
        # Asking whether a snapshot exists, or adding one, are fine in team-b's own space.
        exists = call.template.endswith("/exists")
        upload = call.method == "PUT" and "/snapshots/" in call.template
        return (200, None) if exists or upload else (404, "NotFoundError")

    wrong = unexpected_answers(client, calls, owner_b, expected)

    assert wrong == []
    assert visible_state(client, owner_a, victim) == before
    probe = f"/api/v1/workspaces/{TEAM_B}/snapshots/{victim.snapshot_id}/exists"
    assert client.get(probe, headers={"authorization": owner_b}).json() == {"exists": False}


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ryt_not-a-token", "Bearer", "Basic dGVhbS1hOm93bmVy", "ryt_no-scheme"],
    ids=["none", "garbage", "empty", "basic", "no-scheme"],
)
def test_requests_without_a_valid_token_are_unauthenticated(
    secured: Secured, client: httpx.Client, victim: Victim, authorization: str | None
) -> None:
    calls = api_calls(client, TEAM_A, victim)
    before = visible_state(client, secured.auth(TEAM_A, "owner"), victim)

    wrong = unexpected_answers(client, calls, authorization, lambda _: (401, "AuthenticationError"))

    assert wrong == []
    assert visible_state(client, secured.auth(TEAM_A, "owner"), victim) == before


def test_revoked_token_stops_working_and_the_sdk_run_says_so(
    secured: Secured, client: httpx.Client, sdk_env: None
) -> None:
    token = create_token(secured.store, TEAM_A, "contributor")
    ws = Workspace(TEAM_A, server_url=secured.url, token=token)
    run = Experiment(ws, f"revoked-{uuid.uuid4().hex[:8]}").start_logging()
    run.log("loss", 1.0)
    run.flush()
    path = f"/api/v1/workspaces/{TEAM_A}/runs/{run.id}"
    assert client.get(path, headers={"authorization": bearer(token)}).status_code == 200

    revoked = runyard_cli("token", "revoke", token, "--store", secured.store)

    assert revoked.returncode == 0, revoked.stderr
    poll_until(
        lambda: client.get(path, headers={"authorization": bearer(token)}).status_code == 401,
        CACHE_DEADLINE,
        "a revoked token is refused",
    )
    refused = client.get(path, headers={"authorization": bearer(token)})
    assert refused.json()["error"]["type"] == "AuthenticationError"
    run.log("loss", 2.0)
    with pytest.raises(AuthenticationError):
        run.complete()
    doc = client.get(path, headers={"authorization": secured.auth(TEAM_A, "owner")}).json()
    assert doc["status"] == "Running"

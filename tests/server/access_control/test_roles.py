"""Roles: a reader reads and searches, a contributor also writes runs, an owner also
manages experiments.

The fixtures (`secured`, `client`, `victim`, `sdk_env`) are in this package's conftest.py.
"""

from __future__ import annotations

import time

import httpx

from tests.server.access_control.secured import (
    TEAM_A,
    Call,
    Secured,
    Victim,
    api_calls,
    unexpected_answers,
    visible_state,
)

# 4: roles


def test_reader_may_read_and_search_but_every_write_is_refused(
    secured: Secured, client: httpx.Client, victim: Victim
) -> None:
    calls = api_calls(client, TEAM_A, victim)
    owner_a = secured.auth(TEAM_A, "owner")
    before = visible_state(client, owner_a, victim)

    def expected(call: Call) -> tuple[int, str | None]:
        searches = ("/search", "/runs/table", "/runs/table/values")
        reads = call.method == "GET" or call.template.endswith(searches)
        return (200, None) if reads else (403, "PermissionDeniedError")

    wrong = unexpected_answers(client, calls, secured.auth(TEAM_A, "reader"), expected)

    assert wrong == []
    assert visible_state(client, owner_a, victim) == before


def test_contributor_may_write_runs_but_not_archive_or_rename_experiments(
    secured: Secured, client: httpx.Client, victim: Victim
) -> None:
    calls = api_calls(client, TEAM_A, victim)

    def expected(call: Call) -> tuple[int, str | None]:
        owners_only = call.template.endswith(("/archive", "/rename"))
        return (403, "PermissionDeniedError") if owners_only else (200, None)

    wrong = unexpected_answers(client, calls, secured.auth(TEAM_A, "contributor"), expected)

    assert wrong == []
    after = visible_state(client, secured.auth(TEAM_A, "owner"), victim)
    assert after["run"]["status"] == "Canceled"
    mine = [e for e in after["experiments"] if e["name"] == victim.experiment]
    assert [e["archived"] for e in mine] == [False]


def test_owner_may_archive_and_restore_experiments(
    secured: Secured, client: httpx.Client, victim: Victim
) -> None:
    owner = {"authorization": secured.auth(TEAM_A, "owner")}
    base = f"/api/v1/workspaces/{TEAM_A}"
    archive = f"{base}/experiments/{victim.experiment}/archive"

    assert client.post(archive, json={"archived": True}, headers=owner).status_code == 204

    active = client.get(f"{base}/experiments", headers=owner).json()
    assert victim.experiment not in [e["name"] for e in active]
    assert client.get(f"{base}/experiments/{victim.experiment}", headers=owner).json()["archived"]
    assert client.post(archive, json={"archived": False}, headers=owner).status_code == 204
    active = client.get(f"{base}/experiments", headers=owner).json()
    assert victim.experiment in [e["name"] for e in active]


def test_contributor_may_send_points_as_json(
    secured: Secured, client: httpx.Client, victim: Victim
) -> None:
    """The documented JSON form of a points request, as a client without the SDK sends it."""
    contributor = {"authorization": secured.auth(TEAM_A, "contributor")}
    api = f"/api/v1/workspaces/{TEAM_A}/runs/{victim.run_id}"
    batch = {
        "name": "accuracy",
        "kind": "scalar",
        "column": "",
        "description": "",
        "steps": [0, None],
        "values": [0.5, 0.75],
        "times": [time.time(), time.time()],
    }

    sent = client.post(
        f"{api}/points", json={"key": "json-1", "batches": [batch]}, headers=contributor
    )

    assert sent.status_code == 200, sent.text
    assert sent.json() == {"stored": True, "points": 2}
    series = client.get(
        f"{api}/metrics/series", params={"name": "accuracy"}, headers=contributor
    ).json()
    assert [s["values"] for s in series] == [[0.5, 0.75]]

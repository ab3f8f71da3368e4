"""What users type is data, never HTML: markup in tags, names and files comes back verbatim
as JSON.

The fixtures (`secured`, `client`, `victim`, `sdk_env`) are in this package's conftest.py.
"""

from __future__ import annotations

import uuid

import httpx

from tests.server.access_control.secured import MARKUP, TEAM_A, Secured

# 7: what users type is data, never HTML


def test_markup_in_tags_names_and_files_comes_back_verbatim_as_json(
    secured: Secured, client: httpx.Client
) -> None:
    owner = {"authorization": secured.auth(TEAM_A, "owner")}
    base = f"/api/v1/workspaces/{TEAM_A}"
    run_id = str(uuid.uuid4())
    new_run = {
        "run_id": run_id,
        "experiment_name": f"markup-{uuid.uuid4().hex[:8]}",
        "display_name": MARKUP,
        "description": MARKUP,
        "tags": {MARKUP: MARKUP},
        "properties": {MARKUP: MARKUP},
    }
    page = b"<html><body><script>alert(1)</script></body></html>"
    answers = [
        created := client.post(f"{base}/runs", json={"runs": [new_run]}, headers=owner),
        stored := client.put(f"{base}/runs/{run_id}/files/{MARKUP}", content=page, headers=owner),
        client.put(f"{base}/runs/{run_id}/files/report.html", content=page, headers=owner),
        client.post(f"{base}/runs/{run_id}/logs/stdout", json={"lines": [MARKUP]}, headers=owner),
        fetched := client.get(f"{base}/runs/{run_id}", headers=owner),
        listed := client.get(f"{base}/runs/{run_id}/files", headers=owner),
        logs := client.get(f"{base}/runs/{run_id}/logs", headers=owner),
        found := client.post(
            f"{base}/runs/search", json={"filter": {"tags": {MARKUP: MARKUP}}}, headers=owner
        ),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
    for doc in (created.json()[0], fetched.json(), found.json()["runs"][0]):
        assert doc["tags"] == {MARKUP: MARKUP}
        assert doc["properties"] == {MARKUP: MARKUP}
        assert doc["displayName"] == MARKUP
        assert doc["description"] == MARKUP
    assert stored.json() == {"name": MARKUP}
    assert sorted(listed.json()["files"]) == sorted([MARKUP, "report.html"])
    assert [line["line"] for line in logs.json()] == [MARKUP]
    for name in (MARKUP, "report.html"):
        download = client.get(f"{base}/runs/{run_id}/files/{name}", headers=owner)
        assert download.status_code == 200
        assert download.content == page
        assert "html" not in download.headers["content-type"]

    for error in (
        client.get(f"{base}/runs/{MARKUP}", headers=owner),
        client.get(f"{base}/runs/img%20onerror=alert(1)", headers=owner),
        client.get(f"{base}/experiments/{MARKUP}", headers=owner),
        client.get("/api/v1/no-such-route"),
    ):
        assert 400 <= error.status_code < 500
        assert error.headers["content-type"] == "application/json"

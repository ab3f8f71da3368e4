"""The API routes the studio uses, in-process (ASGI) on both backends: the runs table,
cancel, file and snapshot browsing, zoomed history, sign-in with cookies and CSRF, and
user strings that come back exactly as stored."""

from __future__ import annotations

import io
import math
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from runyard.core.entities import NewRun
from runyard.core.metrics import MetricKind, PointBatch
from runyard.core.status import Status
from runyard.server.access import CSRF_COOKIE, SESSION_COOKIE
from runyard.server.app import create_app
from runyard.server.config import ServerConfig
from runyard.store.database import Database
from runyard.store.sql import SqlTrackingStore
from runyard.store.tokens import TokenStore

WS = "/api/v1/workspaces/default"
EXP = "sweep"
INJECTIONS = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 1">',
    "[click](javascript:window.__pwned=1)",
    "\"'><svg onload=alert(1)>",
]


@dataclass
class Studio:
    """An in-process server over a fresh store, and that store for seeding."""

    client: TestClient
    store: SqlTrackingStore
    db: Database
    store_url: str
    artifacts: Path

    def run(self, run_id: str, **fields: Any) -> str:
        """Create a run in the experiment (Running unless told)."""
        fields.setdefault("status", Status.RUNNING)
        self.store.create_runs([NewRun(run_id=run_id, experiment_name=EXP, **fields)])
        return run_id

    def log(self, run_id: str, name: str, values: list[Any], kind: str = "scalar") -> None:
        """Store points of a metric, steps 0..n-1."""
        batch = PointBatch(
            name,
            MetricKind(kind),
            steps=list(range(len(values))),
            values=values,
            times=[1.0] * len(values),
        )
        self.store.log_points(run_id, [batch])


def _make_studio(store_url: str, artifacts: Path) -> Iterator[Studio]:
    app = create_app(ServerConfig(store_url, str(artifacts)))
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        store = app.state.access.store("default")
        yield Studio(client, store, app.state.access.db, store_url, artifacts)


@pytest.fixture
def studio(store_url: str, tmp_path: Path) -> Iterator[Studio]:
    """A fresh in-process server (loopback, no tokens: no sign-in needed)."""
    yield from _make_studio(store_url, tmp_path / "artifacts")


def table(studio: Studio, **query: Any) -> dict[str, Any]:
    """POST a runs-table query, expecting 200."""
    answer = studio.client.post(f"{WS}/runs/table", json={"experiment": EXP, **query})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def ids(page: dict[str, Any]) -> list[str]:
    """The run ids of a table page, in order."""
    return [row["run"]["runId"] for row in page["rows"]]


# The runs table


@pytest.mark.parametrize("deep_from", [5_000, 0], ids=["exists", "deep-in-list"])
def test_runs_table_sorts_by_metric_summaries_with_runs_lacking_it_last(
    studio: Studio, deep_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deep pages list the runs in view instead of looking each up: the same rows either way.
    monkeypatch.setattr("runyard.store.run_table._DEEP_OFFSET", deep_from)
    losses = {f"r{i:02d}": [5.0 - i * 0.1, 0.5 + (i % 5) * 0.1, 1.0 + i] for i in range(12)}
    for run_id, values in losses.items():
        studio.run(run_id)
        studio.log(run_id, "loss", values)
    studio.run("no-metric-a")
    studio.run("no-metric-b")

    page = table(studio, sort="metric:loss:min", descending=False, metrics=["loss"], limit=5)
    expected = sorted(losses, key=lambda r: (min(losses[r]), r))
    assert page["total"] == 14
    assert ids(page) == expected[:5]
    first = page["rows"][0]
    values = losses[first["run"]["runId"]]
    assert first["metrics"]["loss"] == {
        "last": values[-1],
        "min": min(values),
        "max": max(values),
        "last_step": 2,
        "count": 3,
    }

    rest = table(studio, sort="metric:loss:min", descending=False, offset=5, limit=100)
    assert ids(rest) == [*expected[5:], "no-metric-a", "no-metric-b"]  # ties: by creation
    assert all(row["metrics"] == {} for row in rest["rows"])  # none asked for

    by_last = table(studio, sort="metric:loss:last", descending=True, offset=10, limit=3)
    last_order = sorted(losses, key=lambda r: (losses[r][-1], r), reverse=True)
    assert ids(by_last) == [*last_order[10:], "no-metric-b"]


def test_runs_table_sorts_by_run_columns_tags_and_properties(studio: Studio) -> None:
    studio.run("b-run", display_name="beta", submitted_by="zoe", tags={"lr": "0.3"})
    studio.run("a-run", display_name="alpha", submitted_by="adam", tags={"lr": "0.1"})
    studio.run("c-run", submitted_by=None, properties={"seed": "7"})
    assert ids(table(studio)) == ["c-run", "a-run", "b-run"]  # newest first
    assert ids(table(studio, sort="created", descending=False)) == ["b-run", "a-run", "c-run"]
    assert ids(table(studio, sort="name", descending=False)) == ["a-run", "b-run", "c-run"]
    assert ids(table(studio, sort="submitted_by", descending=False)) == [
        "a-run",
        "b-run",
        "c-run",
    ]
    assert ids(table(studio, sort="tag:lr", descending=True)) == ["b-run", "a-run", "c-run"]
    assert ids(table(studio, sort="property:seed")) == ["c-run", "a-run", "b-run"]
    assert ids(table(studio, sort="duration"))  # live runs sort by their time so far


def test_runs_table_filters_by_status_tags_properties_submitter_and_text(studio: Studio) -> None:
    studio.run("r1", display_name="resnet 50%", submitted_by="alice", tags={"team": "a"})
    studio.run("r2", display_name="resnet_x", status=Status.FAILED, submitted_by="bob")
    studio.run("r3", description="tries a ResNet", properties={"lr": "0.1"}, submitted_by="alice")
    studio.run("vit-9", tags={"team": "b", "best": None})

    assert ids(table(studio, status=["Failed"])) == ["r2"]
    assert ids(table(studio, status=["Failed", "Running"])) == ["vit-9", "r3", "r2", "r1"]
    assert ids(table(studio, tags={"team": "a"})) == ["r1"]
    assert ids(table(studio, tags={"best": None})) == ["vit-9"]
    assert ids(table(studio, properties={"lr": "0.1"})) == ["r3"]
    assert ids(table(studio, submitted_by=["alice"])) == ["r3", "r1"]
    assert ids(table(studio, text="resnet")) == ["r3", "r2", "r1"]  # name or description
    assert ids(table(studio, text="VIT-")) == ["vit-9"]  # the run id, any case
    assert ids(table(studio, text="50%")) == ["r1"]  # % is a character, not a wildcard
    assert ids(table(studio, text="t_x")) == ["r2"]
    page = table(studio, text="nothing like it")
    assert page == {"total": 0, "offset": 0, "rows": []}


def test_runs_table_shows_roots_with_children_counted_by_status(studio: Studio) -> None:
    studio.run("parent")
    studio.run("leaf")
    for i, status in enumerate([Status.RUNNING, Status.RUNNING, Status.FAILED, Status.COMPLETED]):
        studio.run(f"child{i}", parent_run_id="parent", status=status)
    studio.run("grandchild", parent_run_id="child0")

    roots = table(studio)
    assert ids(roots) == ["leaf", "parent"]
    counts = {row["run"]["runId"]: row["children"] for row in roots["rows"]}
    assert counts["leaf"] == {"total": 0, "by_status": {}}
    assert counts["parent"] == {
        "total": 4,
        "by_status": {"Running": 2, "Failed": 1, "Completed": 1},
    }
    children = table(studio, parent="parent", sort="created", descending=False)
    assert ids(children) == ["child0", "child1", "child2", "child3"]
    assert children["rows"][0]["children"]["total"] == 1
    assert ids(table(studio, parent="child0")) == ["grandchild"]
    everything = table(studio, roots_only=False, with_total=False)
    assert everything["total"] is None and len(everything["rows"]) == 7


def test_runs_table_refuses_bad_queries_with_what_is_allowed(studio: Studio) -> None:
    studio.run("r1")
    bad = studio.client.post(f"{WS}/runs/table", json={"experiment": EXP, "sort": "colour"})
    assert bad.status_code == 422
    assert "tag:<key>" in bad.json()["error"]["message"]
    too_many = studio.client.post(f"{WS}/runs/table", json={"experiment": EXP, "limit": 5000})
    assert too_many.status_code == 422
    missing = studio.client.post(f"{WS}/runs/table", json={"experiment": "nope"})
    assert missing.status_code == 404
    assert "nope" in missing.json()["error"]["message"]
    parent = studio.client.post(f"{WS}/runs/table", json={"experiment": EXP, "parent": "zz"})
    assert parent.status_code == 404


def test_runs_table_values_list_what_filters_can_pick(studio: Studio) -> None:
    studio.run("r1", submitted_by="bob", tags={"team": "a", "x": None}, properties={"p": "1"})
    studio.run("r2", submitted_by="alice", tags={"team": "b"})
    studio.log("r1", "loss", [1.0])
    studio.log("r2", "acc", [0.5])
    studio.log("r2", "sample", ["images/a.png"], kind="image")

    def values(field: str) -> list[str]:
        answer = studio.client.post(
            f"{WS}/runs/table/values", json={"experiment": EXP, "field": field}
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json()["values"])

    assert values("submitted_by") == ["alice", "bob"]
    assert values("tag_keys") == ["team", "x"]
    assert values("tag:team") == ["a", "b"]
    assert values("property_keys") == ["p"]
    assert values("metric_names") == ["acc", "loss"]
    bad = studio.client.post(f"{WS}/runs/table/values", json={"experiment": EXP, "field": "?"})
    assert bad.status_code == 422


# Cancel


def test_cancel_ends_an_interactive_run_and_asks_a_submitted_one_to_stop(studio: Studio) -> None:
    studio.run("interactive")
    studio.run("submitted", run_type="script", status=Status.QUEUED)
    answer = studio.client.post(f"{WS}/runs/interactive/cancel")
    assert answer.status_code == 200 and answer.json() == {"status": "Canceled"}
    answer = studio.client.post(f"{WS}/runs/submitted/cancel")
    assert answer.json() == {"status": "CancelRequested"}
    assert studio.store.get_run("submitted").status is Status.CANCEL_REQUESTED
    again = studio.client.post(f"{WS}/runs/interactive/cancel")
    assert again.status_code == 409
    assert "already ended" in again.json()["error"]["message"]


# Files and snapshots


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_file_tree_lists_sizes_and_previews_text_images_and_binaries(studio: Studio) -> None:
    studio.run("r1")
    client = studio.client
    files = {
        "outputs/metrics.txt": b"epoch 1\n" * 20_000,
        "outputs/plot.png": PNG,
        "page.html": b"<script>window.__pwned=1</script>",
        "model.bin": b"\x00\x01\x02" * 10,
    }
    for name, data in files.items():
        assert client.put(f"{WS}/runs/r1/files/{name}", content=data).status_code == 200
    tree = client.get(f"{WS}/runs/r1/file-tree").json()
    assert tree == {"files": [{"name": n, "size": len(files[n])} for n in sorted(files)]}

    text = client.get(f"{WS}/runs/r1/file-preview/outputs/metrics.txt?max_bytes=16").json()
    assert text == {
        "name": "outputs/metrics.txt",
        "size": 160_000,
        "content_type": "text/plain; charset=utf-8",
        "kind": "text",
        "text": "epoch 1\nepoch 1\n",
        "truncated": True,
    }
    image = client.get(f"{WS}/runs/r1/file-preview/outputs/plot.png").json()
    assert image["kind"] == "image" and image["content_type"] == "image/png"
    binary = client.get(f"{WS}/runs/r1/file-preview/model.bin").json()
    assert binary["kind"] == "binary" and binary["text"] is None
    html = client.get(f"{WS}/runs/r1/file-preview/page.html").json()
    assert html["text"] == files["page.html"].decode()  # text to show as text, never markup

    shown = client.get(f"{WS}/runs/r1/files/outputs/plot.png")
    assert shown.headers["content-type"] == "image/png" and shown.content == PNG
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in shown.headers["content-security-policy"]
    page = client.get(f"{WS}/runs/r1/files/page.html")
    assert page.headers["content-type"] == "application/octet-stream"
    assert page.headers["content-disposition"] == 'attachment; filename="page.html"'
    assert client.get(f"{WS}/runs/r1/file-preview/absent.txt").status_code == 404
    assert client.get(f"{WS}/runs/r1/file-preview/a.txt?max_bytes=0").status_code == 422


def _snapshot_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("train.py", "print('training')\n")
        archive.writestr("conf/params.yaml", "lr: 0.1\n")
        archive.writestr("conf/", "")
    return buffer.getvalue()


def test_snapshot_lists_serves_previews_and_downloads_as_zip(studio: Studio) -> None:
    snapshot_id = uuid.uuid4().hex
    data = _snapshot_zip()
    assert studio.client.put(f"{WS}/snapshots/{snapshot_id}", content=data).status_code == 204
    studio.run("submitted", run_type="script", run_definition={"snapshotId": snapshot_id})
    studio.run("interactive")
    client = studio.client

    listing = client.get(f"{WS}/runs/submitted/snapshot").json()
    assert listing == {
        "snapshot_id": snapshot_id,
        "files": [{"name": "conf/params.yaml", "size": 8}, {"name": "train.py", "size": 18}],
    }
    member = client.get(f"{WS}/runs/submitted/snapshot/files/conf/params.yaml")
    assert member.content == b"lr: 0.1\n"
    assert member.headers["content-disposition"] == 'attachment; filename="params.yaml"'
    preview = client.get(f"{WS}/runs/submitted/snapshot/preview/train.py").json()
    assert preview["text"] == "print('training')\n" and preview["truncated"] is False
    archive = client.get(f"{WS}/runs/submitted/snapshot/zip")
    assert archive.status_code == 200 and archive.content == data
    assert archive.headers["content-type"] == "application/zip"
    assert 'filename="submitted-snapshot.zip"' in archive.headers["content-disposition"]

    none = client.get(f"{WS}/runs/interactive/snapshot")
    assert none.status_code == 404 and "no snapshot" in none.json()["error"]["message"]
    absent = client.get(f"{WS}/runs/submitted/snapshot/files/nope.py")
    assert absent.status_code == 404
    assert client.get(f"{WS}/runs/submitted/snapshot/files/conf").status_code == 404


# Zoomed history


def test_history_of_a_step_range_is_raw_when_short_and_bucketed_when_long(
    studio: Studio,
) -> None:
    studio.run("r1")
    values = [math.sin(i / 50) for i in range(5000)]
    values[2500] = 99.0  # a spike the buckets must keep
    studio.log("r1", "loss", values)
    url = f"{WS}/runs/r1/metrics/history"
    raw = studio.client.get(url, params={"name": "loss", "min_step": 10, "max_step": 19}).json()
    assert raw["downsampled"] is False and raw["count"] == 10
    assert raw["steps"] == list(range(10, 20)) and raw["values"] == values[10:20]

    # 20 buckets asked for: 400 points bucketed from the points (20 wide), 1000 points
    # (10 blocks, at least a quarter of 20) one bucket per rollup block, 5000 from rollups
    for span, buckets in (((2300, 2699), 20), ((2000, 2999), 10), ((0, 4999), 17)):
        params = {"name": "loss", "min_step": span[0], "max_step": span[1], "max_points": 20}
        zoomed = studio.client.get(url, params=params).json()
        assert zoomed["downsampled"] is True
        assert zoomed["count"] == span[1] - span[0] + 1
        assert len(zoomed["steps"]) == buckets, (span, zoomed["steps"])
        assert span[0] <= zoomed["steps"][0] and zoomed["steps"][-1] <= span[1]
        assert max(zoomed["max"]) == 99.0
        assert sum(zoomed["counts"]) == zoomed["count"]
    refused = studio.client.get(url, params={"name": "loss", "min_step": 5, "max_step": 1})
    assert refused.status_code == 400 and "min_step" in refused.json()["error"]["message"]


# User strings


def test_markup_in_every_user_field_is_stored_and_returned_verbatim(studio: Studio) -> None:
    client = studio.client
    for i, text in enumerate(INJECTIONS):
        run_id = f"inj{i}"
        studio.run(run_id, display_name=text, description=text, submitted_by=text)
        assert client.put(f"{WS}/runs/{run_id}/tags", json={"tags": {"t": text}}).status_code == 204
        props = client.post(f"{WS}/runs/{run_id}/properties", json={"properties": {"p": text}})
        assert props.status_code == 204
        client.post(f"{WS}/runs/{run_id}/logs/stdout", json={"lines": [text]})
        page = table(studio, text=text)
        assert [r["run"]["displayName"] for r in page["rows"]] == [text]
        doc = page["rows"][0]["run"]
        assert (doc["description"], doc["submittedBy"], doc["tags"], doc["properties"]) == (
            text,
            text,
            {"t": text},
            {"p": text},
        )
        lines = client.get(f"{WS}/runs/{run_id}/logs", params={"stream": "stdout"}).json()
        assert [line["line"] for line in lines] == [text]
    answer = client.post(f"{WS}/runs/table", json={"experiment": EXP})
    assert answer.headers["content-type"] == "application/json"


# Sign-in, cookies and CSRF


@pytest.fixture
def secured(store_url: str, tmp_path: Path) -> Iterator[tuple[Studio, dict[str, str]]]:
    """A server that requires tokens, with one token per role for the default workspace."""
    db = Database.open(store_url)
    tokens = {role: TokenStore(db).create("default", role) for role in ("reader", "contributor")}
    tokens["other"] = TokenStore(db).create("elsewhere", "owner")
    for studio in _make_studio(store_url, tmp_path / "artifacts"):
        studio.run("r1")
        yield studio, tokens


def _sign_in(client: TestClient, token: str) -> httpx.Response:
    return client.post("/api/v1/session", json={"token": token})


def test_session_without_tokens_reaches_every_workspace_as_owner(studio: Studio) -> None:
    answer = studio.client.get("/api/v1/session").json()
    assert answer["auth_required"] is False and answer["authenticated"] is True
    assert answer["via"] == "none"
    assert {"name": "default", "role": "owner"} in answer["workspaces"]
    assert answer["csrf_header"] == "X-CSRF-Token" and answer["csrf_cookie"] == CSRF_COOKIE


def test_sign_in_sets_an_httponly_strict_cookie_and_a_csrf_cookie(
    secured: tuple[Studio, dict[str, str]],
) -> None:
    studio, tokens = secured
    client = studio.client
    before = client.get("/api/v1/session").json()
    assert before["auth_required"] is True and before["authenticated"] is False
    assert client.get(f"{WS}/runs/r1").status_code == 401

    refused = _sign_in(client, "ryt_not-a-token")
    assert refused.status_code == 401 and SESSION_COOKIE not in client.cookies

    answer = _sign_in(client, tokens["contributor"])
    assert answer.status_code == 200
    assert answer.json()["workspaces"] == [{"name": "default", "role": "contributor"}]
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    csrf = next(c for c in cookies if c.startswith(f"{CSRF_COOKIE}="))
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/"):
        assert attribute.lower() in session.lower()
    assert "httponly" not in csrf.lower() and "samesite=strict" in csrf.lower()
    assert "secure" not in session.lower()  # plain http here; https adds Secure
    assert client.get("/api/v1/session").json()["via"] == "cookie"
    assert client.get(f"{WS}/runs/r1").status_code == 200


def test_cookie_writes_need_the_csrf_header_bearer_writes_do_not(
    secured: tuple[Studio, dict[str, str]],
) -> None:
    studio, tokens = secured
    client = studio.client
    _sign_in(client, tokens["contributor"])
    tags = {"tags": {"stage": "eval"}}
    forged = client.put(f"{WS}/runs/r1/tags", json=tags)
    assert forged.status_code == 403 and "X-CSRF-Token" in forged.json()["error"]["message"]
    wrong = client.put(f"{WS}/runs/r1/tags", json=tags, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    assert studio.store.get_run("r1").tags == {}

    csrf = client.cookies[CSRF_COOKIE]
    done = client.put(f"{WS}/runs/r1/tags", json=tags, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 204 and studio.store.get_run("r1").tags == {"stage": "eval"}

    cross_site = client.put(
        f"{WS}/runs/r1/tags",
        json=tags,
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403 and "cross-site" in cross_site.json()["error"]["message"]

    script = TestClient(client.app, base_url="http://127.0.0.1:8765")
    auth = {"Authorization": f"Bearer {tokens['contributor']}"}
    assert script.post(f"{WS}/runs/r1/tags/remove", json={"keys": ["stage"]}, headers=auth)
    assert studio.store.get_run("r1").tags == {}
    assert "access-control-allow-origin" not in done.headers

    assert client.delete("/api/v1/session").status_code == 403  # sign-out is a write too
    out = client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert SESSION_COOKIE not in client.cookies
    assert client.get(f"{WS}/runs/r1").status_code == 401


def test_a_reader_signed_in_by_cookie_reads_but_cannot_change_or_cancel(
    secured: tuple[Studio, dict[str, str]],
) -> None:
    studio, tokens = secured
    client = studio.client
    info = _sign_in(client, tokens["reader"]).json()
    assert info["workspaces"] == [{"name": "default", "role": "reader"}]
    csrf = {"X-CSRF-Token": client.cookies[CSRF_COOKIE]}
    assert client.post(f"{WS}/runs/table", json={"experiment": EXP}, headers=csrf).is_success
    for method, path, body in (
        ("POST", f"{WS}/runs/r1/cancel", None),
        ("PUT", f"{WS}/runs/r1/tags", {"tags": {"a": "b"}}),
        ("PATCH", f"{WS}/runs/r1", {"description": "changed"}),
    ):
        refused = client.request(method, path, json=body, headers=csrf)
        assert refused.status_code == 403, (path, refused.text)
        assert "reader" in refused.json()["error"]["message"]
    run = studio.store.get_run("r1")
    assert run.status is Status.RUNNING and run.tags == {} and run.description is None


def test_a_token_of_another_workspace_signs_in_to_that_one_only(
    secured: tuple[Studio, dict[str, str]],
) -> None:
    studio, tokens = secured
    info = _sign_in(studio.client, tokens["other"]).json()
    assert info["workspaces"] == [{"name": "elsewhere", "role": "owner"}]
    assert studio.client.get(f"{WS}/runs/r1").status_code == 403


# Serving the built studio


def test_studio_is_served_with_spa_fallback_caching_and_gzip(tmp_path: Path) -> None:
    import gzip

    from fastapi import FastAPI

    from runyard.server.studio import IMMUTABLE, mount_studio

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>studio</title>")
    script = b"console.log('studio');" * 50
    (dist / "assets" / "index-abc123.js").write_bytes(script)
    (dist / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(script))
    app = FastAPI()
    mount_studio(app, dist)
    client = TestClient(app)

    for path in ("/", "/experiments/x", "/?run=abc&tab=metrics"):
        page = client.get(path)
        assert page.status_code == 200 and "<title>studio</title>" in page.text
        assert page.headers["cache-control"] == "no-cache"
        assert "script-src 'self'" in page.headers["content-security-policy"]
    asset = client.get("/assets/index-abc123.js", headers={"accept-encoding": "gzip"})
    assert asset.content == script  # httpx undoes the gzip it was sent
    assert asset.headers["content-encoding"] == "gzip"
    assert asset.headers["cache-control"] == IMMUTABLE
    assert asset.headers["content-type"].startswith("text/javascript")
    plain = client.get("/assets/index-abc123.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == script
    missing_api = client.get("/api/v1/nothing-here")
    assert missing_api.status_code == 404 and missing_api.json()["error"]["type"]
    assert client.get("/../../etc/passwd").text.startswith("<!doctype html>")


def test_without_a_build_the_root_says_how_to_build_it(tmp_path: Path) -> None:
    from fastapi import FastAPI

    from runyard.server.studio import mount_studio

    app = FastAPI()
    mount_studio(app, tmp_path / "not-built")
    page = TestClient(app).get("/")
    assert page.status_code == 200 and "make ui" in page.text


# The runs table's live stream (a real server: the stream outlives requests)


def test_experiment_stream_reports_new_runs_and_status_changes(
    store_url: str, tmp_path: Path
) -> None:
    import json
    import threading

    from tests.conftest import ServerProcess

    server = ServerProcess(store_url, tmp_path / "artifacts").start()
    try:
        api = f"{server.url}{WS}"
        new = {"run_id": "early", "experiment_name": EXP, "status": "Running"}
        assert httpx.post(f"{api}/runs", json={"runs": [new]}).status_code == 200
        events: list[tuple[str, dict[str, Any]]] = []
        opened = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", f"{api}/experiments/{EXP}/events", timeout=30) as answer:
                assert answer.status_code == 200
                kind = ""
                for line in answer.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        events.append((kind, json.loads(line[6:])))
                        opened.set()
                        if kind == "status" and events[-1][1]["status"] == "Completed":
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert opened.wait(20), "the stream sent nothing"
        late = {"run_id": "late", "experiment_name": EXP, "status": "NotStarted"}
        assert httpx.post(f"{api}/runs", json={"runs": [late]}).status_code == 200
        for run_id, status in (("early", "Failed"), ("late", "Running"), ("late", "Completed")):
            answer = httpx.post(f"{api}/runs/{run_id}/status", json={"status": status})
            assert answer.status_code == 200
        listener.join(20)
        assert not listener.is_alive(), f"no Completed event; got {events}"
        seen = [(kind, data["run_id"], data["status"]) for kind, data in events if kind != "ping"]
        assert ("created", "late", "NotStarted") in seen or ("created", "late", "Running") in seen
        assert ("status", "early", "Failed") in seen
        assert seen[-1] == ("status", "late", "Completed")
        assert all(data["parent_run_id"] is None for kind, data in events if kind != "ping")
    finally:
        server.stop()

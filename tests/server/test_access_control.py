"""Access control of a real server: tokens, workspaces, roles, and answers that stay JSON.

Every native route is taken from the server's own OpenAPI schema, so a route added later
without a request here fails `api_calls` until someone says how to call it.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from runyard import Experiment, Run, Workspace
from runyard.core.errors import AuthenticationError, PermissionDeniedError, RunyardError
from runyard.core.metrics import MetricKind, PointBatch
from runyard.core.wire import MEDIA_TYPE, encode_batches
from runyard.sdk.workspace import close_all
from tests.conftest import BACKENDS, ServerProcess, free_port, fresh_store_url

API = "/api/v1/workspaces/{workspace}"
TEAM_A = "team-a"
TEAM_B = "team-b"
GRANTS = [(TEAM_A, "reader"), (TEAM_A, "contributor"), (TEAM_A, "owner"), (TEAM_B, "owner")]
MODEL_FILE = "outputs/model.txt"
MARKUP = "<script>alert(1)</script>"
#: How long a server may keep answering from its token caches (~5 s) before we give up.
CACHE_DEADLINE = 20.0
#: An address of TEST-NET-1 (RFC 5737): not on this machine, and never routed.
OFF_LOOPBACK = "192.0.2.1"


# Helpers: the CLI, polling, requests


def runyard_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run `python -m runyard ARGS` (subprocess.run kills it if the timeout passes)."""
    return subprocess.run(
        [sys.executable, "-m", "runyard", *args], capture_output=True, text=True, timeout=timeout
    )


def create_token(store: str, workspace: str, role: str, timeout: float = 60.0) -> str:
    """A new token made by `runyard token create`, read from its JSON output."""
    args = ["token", "create", "--workspace", workspace, "--role", role, "--store", store]
    done = runyard_cli(*args, timeout=timeout)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["workspace"] == workspace
    assert answer["role"] == role
    assert answer["token"].startswith("ryt_")
    return str(answer["token"])


def wait_for(check: Callable[[], bool], what: str, timeout: float = CACHE_DEADLINE) -> None:
    """Poll `check` until it holds; fail saying `what` did not happen in time."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.1)


def bearer(token: str) -> str:
    """The Authorization header value of a token."""
    return f"Bearer {token}"


def source_zip(script: str = "print('training')\n") -> bytes:
    """A snapshot zip of a source folder holding one script."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("train.py", script)
    return buffer.getvalue()


def points_frame(steps: list[int | None], values: list[float]) -> bytes:
    """A points frame (what the SDK sends) of the scalar metric "loss", with a fresh key."""
    batch = PointBatch(
        "loss", MetricKind.SCALAR, "", "", steps, values, [time.time()] * len(values)
    )
    return encode_batches([batch], uuid.uuid4().hex)


@dataclass(frozen=True)
class Call:
    """One request to one route of the native API."""

    method: str
    #: The route as the OpenAPI schema names it.
    template: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    content: bytes | None = None
    content_type: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class Answer:
    """What the server said: status, content type, and the JSON body if it sent one."""

    status: int
    content_type: str
    body: Any

    def error_type(self) -> str | None:
        """The runyard error class the server named, if the answer is an error."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("type"))
        return None


def send(client: httpx.Client, call: Call, authorization: str | None) -> Answer:
    """Make the call; an event stream's body is not read (a live run's stream never ends)."""
    headers = {} if authorization is None else {"authorization": authorization}
    if call.content_type is not None:
        headers["content-type"] = call.content_type
    request = client.build_request(
        call.method,
        call.path,
        params=call.params,
        json=call.json_body,
        content=call.content,
        headers=headers,
    )
    response = client.send(request, stream=True)
    try:
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("text/event-stream"):
            return Answer(response.status_code, content_type, None)
        response.read()
        body = response.json() if content_type.startswith("application/json") else None
        return Answer(response.status_code, content_type, body)
    finally:
        response.close()


def unexpected_answers(
    client: httpx.Client,
    calls: list[Call],
    authorization: str | None,
    expected: Callable[[Call], tuple[int, str | None]],
) -> list[str]:
    """The calls whose answer is not the `expected` (status, error type); empty when all are.

    An expected status of 200 means "any 2xx"."""
    wrong = []
    for call in calls:
        answer = send(client, call, authorization)
        status, kind = expected(call)
        if status == 200:
            if not 200 <= answer.status < 300:
                wrong.append(f"{call}: {answer.status} {answer.body}, expected 2xx")
        elif answer.status != status or answer.error_type() != kind:
            wrong.append(f"{call}: {answer.status} {answer.body}, expected {status} {kind}")
        elif not answer.content_type.startswith("application/json"):
            wrong.append(f"{call}: error answered as {answer.content_type!r}")
    return wrong


# The secured server: tokens for team-a (reader, contributor, owner) and team-b (owner)


@dataclass(frozen=True)
class Secured:
    """A running server whose store holds the tokens of GRANTS."""

    url: str
    store: str
    tokens: dict[tuple[str, str], str]

    def auth(self, workspace: str, role: str) -> str:
        """The Authorization header of that workspace's token of that role."""
        return bearer(self.tokens[(workspace, role)])


@pytest.fixture(scope="module", params=BACKENDS)
def secured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Secured]:
    """One server per backend for this module, requiring tokens once it is set up."""
    folder = tmp_path_factory.mktemp(f"secured-{request.param}")
    stores = fresh_store_url(str(request.param), folder)
    store = next(stores)
    # Runs stay Running for the whole module: none turns NotResponding between two reads.
    server = ServerProcess(store, folder / "artifacts", "--heartbeat-timeout", "3600")
    try:
        server.start()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            # The teams use the open server first (see test_token_create_works_for_a_new_workspace).
            for workspace in (TEAM_A, TEAM_B):
                assert client.get(f"/api/v1/workspaces/{workspace}/experiments").status_code == 200
            tokens = {(ws, role): create_token(store, ws, role) for ws, role in GRANTS}
            wait_for(
                lambda: client.get(f"/api/v1/workspaces/{TEAM_A}/experiments").status_code == 401,
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


@dataclass(frozen=True)
class Victim:
    """A Running run of team-a with tags, properties, points, a file and log lines, and a
    source snapshot of team-a."""

    experiment: str
    run_id: str
    snapshot_id: str
    #: An id no snapshot has yet: the one requests try to upload.
    new_snapshot_id: str


@pytest.fixture
def victim(secured: Secured, client: httpx.Client) -> Victim:
    """A fresh run in team-a, in an experiment of its own."""
    experiment = f"victim-{uuid.uuid4().hex[:8]}"
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
    ):
        assert 200 <= response.status_code < 300, response.text
    return Victim(experiment, run_id, snapshot_id, uuid.uuid4().hex)


def api_routes(client: httpx.Client) -> set[tuple[str, str]]:
    """(METHOD, path template) of every route of the native API, from the OpenAPI schema."""
    schema = client.get("/openapi.json").json()
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith(API)
        for method in operations
    }


def api_calls(client: httpx.Client, workspace: str, victim: Victim) -> list[Call]:
    """A valid request for every native route, aimed at the victim run, in an order in which
    all succeed for its owner (archiving and ending the run come last)."""
    exp = victim.experiment

    def call(
        method: str,
        template: str,
        name: str = exp,
        snapshot: str = victim.snapshot_id,
        **extra: Any,
    ) -> Call:
        path = template.format(
            run_id=victim.run_id, name=name, stream="stdout", snapshot_id=snapshot
        )
        return Call(method, API + template, f"/api/v1/workspaces/{workspace}{path}", **extra)

    new_run = {"run_id": str(uuid.uuid4()), "experiment_name": exp, "status": "Running"}
    calls = [
        call("GET", "/experiments", params={"include_archived": "true"}),
        call("GET", "/experiments/{name}"),
        call("PUT", "/experiments/{name}", name=f"{exp}-extra"),
        call("POST", "/runs", json_body={"runs": [new_run]}),
        call("POST", "/runs/search", json_body={"filter": {"experiment_name": exp}}),
        call("GET", "/runs/{run_id}"),
        call("PATCH", "/runs/{run_id}", json_body={"display_name": "x", "description": "x"}),
        call("POST", "/runs/{run_id}/heartbeat"),
        call("PUT", "/runs/{run_id}/tags", json_body={"tags": {"stage": "x", "intruder": None}}),
        call("POST", "/runs/{run_id}/tags/remove", json_body={"keys": ["stage"]}),
        call("POST", "/runs/{run_id}/properties", json_body={"properties": {"intruder": "yes"}}),
        call(
            "POST",
            "/runs/{run_id}/points",
            content=points_frame([2], [9.5]),
            content_type=MEDIA_TYPE,
        ),
        call("GET", "/runs/{run_id}/metrics"),
        call("GET", "/runs/{run_id}/metrics/series", params={"name": "loss"}),
        call("GET", "/runs/{run_id}/metrics/history", params={"name": "loss"}),
        call("GET", "/runs/{run_id}/files"),
        call("PUT", "/runs/{run_id}/files/{name}", name=MODEL_FILE, content=b"intruded"),
        call("GET", "/runs/{run_id}/files/{name}", name=MODEL_FILE),
        call("POST", "/runs/{run_id}/logs/{stream}", json_body={"lines": ["intruded"]}),
        call("GET", "/runs/{run_id}/logs", params={"stream": "stdout"}),
        call("GET", "/runs/{run_id}/logs/streams"),
        call("GET", "/runs/{run_id}/events"),
        call("GET", "/experiments/{name}/events"),
        call("POST", "/runs/table", json_body={"experiment": exp, "metrics": ["loss"]}),
        call("POST", "/runs/table/values", json_body={"experiment": exp, "field": "tag_keys"}),
        call("GET", "/runs/{run_id}/file-tree"),
        call("GET", "/runs/{run_id}/file-preview/{name}", name=MODEL_FILE),
        call("GET", "/runs/{run_id}/snapshot"),
        call("GET", "/runs/{run_id}/snapshot/files/{name}", name="train.py"),
        call("GET", "/runs/{run_id}/snapshot/preview/{name}", name="train.py"),
        call("GET", "/runs/{run_id}/snapshot/zip"),
        call(
            "PUT", "/snapshots/{snapshot_id}", snapshot=victim.new_snapshot_id, content=source_zip()
        ),
        call("GET", "/snapshots/{snapshot_id}/exists"),
        call("GET", "/snapshots/{snapshot_id}"),
        call("POST", "/experiments/{name}/archive", json_body={"archived": True}),
        call("POST", "/runs/{run_id}/cancel"),
        call("POST", "/runs/{run_id}/status", json_body={"status": "Canceled", "error": None}),
    ]
    known = {(c.method, c.template) for c in calls}
    assert len(known) == len(calls), "a route is listed twice"
    routes = api_routes(client)
    assert routes - known == set(), "routes without a request in api_calls (add them)"
    assert known - routes == set(), "requests for routes the server no longer has"
    return calls


def visible_state(client: httpx.Client, authorization: str, victim: Victim) -> dict[str, Any]:
    """Everything a team can see of the victim run and its workspace, read over HTTP."""
    headers = {"authorization": authorization}
    base = f"/api/v1/workspaces/{TEAM_A}"
    run = f"{base}/runs/{victim.run_id}"

    def get(path: str, **params: str) -> Any:
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, f"{path}: {response.text}"
        return response.json()

    files = get(f"{run}/files")["files"]
    snapshots = f"{base}/snapshots"
    source = client.get(f"{snapshots}/{victim.snapshot_id}", headers=headers)
    assert source.status_code == 200, source.text
    search = client.post(
        f"{base}/runs/search",
        json={"filter": {"experiment_name": victim.experiment}},
        headers=headers,
    )
    assert search.status_code == 200, search.text
    return {
        "run": get(run),
        "metrics": get(f"{run}/metrics"),
        "series": get(f"{run}/metrics/series"),
        "files": files,
        "contents": {
            name: client.get(f"{run}/files/{name}", headers=headers).content for name in files
        },
        "logs": get(f"{run}/logs"),
        "streams": get(f"{run}/logs/streams"),
        "experiments": get(f"{base}/experiments", include_archived="true"),
        "runs": sorted(doc["runId"] for doc in search.json()["runs"]),
        "source": source.content,
        "new snapshot": get(f"{snapshots}/{victim.new_snapshot_id}/exists"),
    }


@pytest.fixture
def sdk_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The SDK spools into this test's folder and gives up flushing after 20 s."""
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("RUNYARD_FLUSH_TIMEOUT", "20")
    yield
    close_all()


# 1-2: an open loopback server closes when the first token exists


def test_loopback_server_is_open_until_the_first_token_exists(
    store_url: str, tmp_path: Path, sdk_env: None
) -> None:
    server = ServerProcess(store_url, tmp_path / "artifacts").start()
    try:
        experiments = f"{server.url}/api/v1/workspaces/a/experiments"
        assert httpx.get(experiments, timeout=30).status_code == 200
        ws = Workspace("a", server_url=server.url)
        run = Experiment(ws, "open").start_logging()
        run.log("loss", 0.5)
        run.complete()
        assert Run(Experiment(ws, "open"), run.id).get_metrics() == {"loss": 0.5}
        # team-a is used before its token exists: see test_token_create_works_for_a_new_workspace.
        team_a = f"{server.url}/api/v1/workspaces/{TEAM_A}/experiments"
        assert httpx.get(team_a, timeout=30).status_code == 200

        token = create_token(store_url, TEAM_A, "owner")

        wait_for(
            lambda: httpx.get(experiments, timeout=30).status_code == 401,
            "a token-less request is refused once a token exists",
        )
        answer = httpx.get(experiments, timeout=30)
        assert answer.json()["error"]["type"] == "AuthenticationError"
        with pytest.raises(AuthenticationError):
            Experiment.list(Workspace("a", server_url=server.url))
        own = httpx.get(team_a, headers={"authorization": bearer(token)}, timeout=30)
        assert own.status_code == 200
    finally:
        close_all()
        server.stop()


def test_token_create_works_for_a_new_workspace(store_url: str) -> None:
    """An admin creates the first token of a workspace nobody has used yet."""
    try:
        token = create_token(store_url, "brand-new", "owner", timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("`runyard token create` for a workspace not in the store yet hung (>20 s)")
    assert token


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
    wait_for(
        lambda: client.get(path, headers={"authorization": bearer(token)}).status_code == 401,
        "a revoked token is refused",
    )
    refused = client.get(path, headers={"authorization": bearer(token)})
    assert refused.json()["error"]["type"] == "AuthenticationError"
    run.log("loss", 2.0)
    with pytest.raises(AuthenticationError):
        run.complete()
    doc = client.get(path, headers={"authorization": secured.auth(TEAM_A, "owner")}).json()
    assert doc["status"] == "Running"


# 4: roles


def test_reader_may_read_and_search_but_every_write_is_refused(
    secured: Secured, client: httpx.Client, victim: Victim
) -> None:
    calls = api_calls(client, TEAM_A, victim)
    owner_a = secured.auth(TEAM_A, "owner")
    before = visible_state(client, owner_a, victim)

    def expected(call: Call) -> tuple[int, str | None]:
        searches = ("/runs/search", "/runs/table", "/runs/table/values")
        reads = call.method == "GET" or call.template.endswith(searches)
        return (200, None) if reads else (403, "PermissionDeniedError")

    wrong = unexpected_answers(client, calls, secured.auth(TEAM_A, "reader"), expected)

    assert wrong == []
    assert visible_state(client, owner_a, victim) == before


def test_contributor_may_write_runs_but_not_archive_experiments(
    secured: Secured, client: httpx.Client, victim: Victim
) -> None:
    calls = api_calls(client, TEAM_A, victim)

    def expected(call: Call) -> tuple[int, str | None]:
        archive = call.template.endswith("/archive")
        return (403, "PermissionDeniedError") if archive else (200, None)

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


# 6: never open off loopback


def _address_is_foreign(host: str) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, 0))
        except OSError:
            return True
    return False


def _serve_off_loopback(store: str, artifacts: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "runyard", "server", "--host", OFF_LOOPBACK, "--port", str(port),
            "--store", store, "--artifacts", str(artifacts),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _outcome(proc: subprocess.Popen[str], timeout: float = 30.0) -> tuple[int, str]:
    """Its exit code and stderr; stopped by its pid (terminate, then kill) if still running."""
    try:
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate(timeout=5)


def test_server_refuses_to_start_off_loopback_without_tokens(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    port = free_port()

    code, err = _outcome(_serve_off_loopback(store, tmp_path / "artifacts", port))

    lines = err.strip().splitlines()
    assert code != 0
    assert len(lines) == 1, err
    assert "token" in lines[0]
    assert OFF_LOOPBACK in lines[0]
    assert "runyard server on" not in err
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_server_with_a_token_gets_past_the_loopback_check(tmp_path: Path) -> None:
    if not _address_is_foreign(OFF_LOOPBACK):
        pytest.skip(f"{OFF_LOOPBACK} is an address of this machine")
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    # Used before its token is made: see test_token_create_works_for_a_new_workspace.
    Experiment.list(Workspace(TEAM_A, store_url=store, artifacts_url=str(tmp_path / "artifacts")))
    close_all()
    create_token(store, TEAM_A, "owner")

    code, err = _outcome(_serve_off_loopback(store, tmp_path / "artifacts", free_port()))

    assert code != 0
    assert "refusing" not in err
    assert "runyard server on" in err
    assert "address" in err.lower(), err


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

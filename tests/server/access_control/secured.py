"""What the access-control tests share: the secured server's tokens, a victim run, every
native route as a call, and how answers are judged."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from runyard.core.metrics import MetricKind, PointBatch
from runyard.core.wire import MEDIA_TYPE, encode_batches

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


@dataclass(frozen=True)
class Victim:
    """A Running run of team-a with tags, properties, points, a file and log lines, a model
    registered from that file, and a source snapshot of team-a."""

    experiment: str
    run_id: str
    snapshot_id: str
    #: An id no snapshot has yet: the one requests try to upload.
    new_snapshot_id: str
    #: A model registered from the run's file (version 1).
    model: str = ""


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
            run_id=victim.run_id,
            name=name,
            stream="stdout",
            snapshot_id=snapshot,
            model_name=victim.model,
            version=1,
            upload_key=upload_key,
        )
        return Call(method, API + template, f"/api/v1/workspaces/{workspace}{path}", **extra)

    new_run = {"run_id": str(uuid.uuid4()), "experiment_name": exp, "status": "Running"}
    upload_key = uuid.uuid4().hex
    model = "/models/{model_name}/versions/{version}"
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
        call("POST", "/runs/{run_id}/params", json_body={"params": {"intruder": "yes"}}),
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
        call("PUT", "/model-uploads/{upload_key}/files/{name}", name="m.txt", content=b"local"),
        call(
            "POST",
            "/models/{model_name}/versions",
            json_body={"run_id": victim.run_id, "path": MODEL_FILE},
        ),
        call("POST", "/models/search", json_body={"name": victim.model}),
        call("GET", "/models/{model_name}/versions"),
        call("GET", "/models/{model_name}/latest"),
        call("GET", model),
        call("PUT", model + "/tags", json_body={"tags": {"intruder": "yes"}}),
        call("POST", model + "/tags/remove", json_body={"keys": ["intruder"]}),
        call("POST", model + "/properties", json_body={"properties": {"intruder": "yes"}}),
        call("GET", model + "/files/{name}", name="model.txt"),
        call("POST", "/experiments/{name}/archive", json_body={"archived": True}),
        call("POST", "/runs/{run_id}/cancel"),
        call("POST", "/runs/{run_id}/status", json_body={"status": "Canceled", "error": None}),
        # Renamed to its own name: the role checks run, the state stays as the tests expect.
        call("POST", "/experiments/{name}/rename", json_body={"name": victim.experiment}),
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
        "models": client.post(f"{base}/models/search", json={}, headers=headers).json(),
        "model file": client.get(
            f"{base}/models/{victim.model}/versions/1/files/model.txt", headers=headers
        ).content,
    }

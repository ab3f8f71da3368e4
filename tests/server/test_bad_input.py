"""Bad requests to a real server: each is refused with a precise 4xx and a message that says
what was wrong, and nothing stored before it changes.

One server per backend for the module; every test gets its own workspace with one seeded run
(tags, a property, points, a file, a log line) and checks afterwards that all of it is intact.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import struct
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from runyard.core.metrics import MetricKind, PointBatch
from runyard.core.wire import MEDIA_TYPE, encode_batches
from tests.conftest import BACKENDS, ServerProcess, fresh_store_url

#: The file upload cap the module's server runs with (RUNYARD_MAX_UPLOAD_BYTES).
UPLOAD_CAP = 64 * 1024
#: The server's points body cap (server/bodies.py MAX_POINTS_BODY).
POINTS_BODY_CAP = 256 * 1024 * 1024
FRAME = {"content-type": MEDIA_TYPE}


@dataclass(frozen=True)
class Served:
    """The module's server and the folders it owns."""

    server: ServerProcess
    root: Path
    artifacts: Path
    spool: Path


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One server per backend for the whole module, with a small upload cap and its own TMPDIR."""
    backend = str(request.param)
    root = tmp_path_factory.mktemp(f"bad-input-{backend}")
    stores = fresh_store_url(backend, root)
    store = next(stores)
    spool = root / "server-tmp"
    spool.mkdir()
    server = ServerProcess(
        store,
        root / "artifacts",
        env={"RUNYARD_MAX_UPLOAD_BYTES": str(UPLOAD_CAP), "TMPDIR": str(spool)},
    )
    try:
        server.start()
        yield Served(server, root, root / "artifacts", spool)
    finally:
        server.stop()
        stores.close()


@dataclass
class Seeded:
    """A workspace with one run holding some of everything, and what it held when seeded."""

    served: Served
    workspace: str
    run_id: str
    experiment: str = "bad-input"
    snapshot: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"{self.served.server.url}/api/v1/workspaces/{self.workspace}"

    @property
    def run(self) -> str:
        return f"/runs/{self.run_id}"

    def client(self) -> httpx.Client:
        """A new client: a 5xx can leave a pooled connection reset, so tests do not share one."""
        return httpx.Client(base_url=self.api, timeout=30)

    def read_back(self) -> dict[str, Any]:
        """Everything stored for the run, as the API returns it."""
        with self.client() as api:
            found = {
                "run": api.get(self.run).json(),
                "series": api.get(f"{self.run}/metrics/series").json(),
                "files": api.get(f"{self.run}/files").json(),
                "kept": api.get(f"{self.run}/files/outputs/keep.txt").content,
                "logs": [line["line"] for line in api.get(f"{self.run}/logs").json()],
                "experiments": sorted(e["name"] for e in api.get("/experiments").json()),
            }
        return found

    def assert_intact(self) -> None:
        """The run reads back exactly as it was seeded."""
        assert self.read_back() == self.snapshot


def _frame(
    name: str,
    values: list[Any],
    *,
    steps: list[int | None] | None = None,
    times: list[float] | None = None,
    key: str | None = None,
) -> bytes:
    n = len(values)
    batch = PointBatch(
        name,
        MetricKind.SCALAR,
        "",
        "",
        steps if steps is not None else [None] * n,
        values,
        times if times is not None else [1_700_000_000.0 + i for i in range(n)],
    )
    return encode_batches([batch], key=key)


@pytest.fixture
def seeded(served: Served) -> Seeded:
    """A fresh workspace whose run has tags, a property, a status, points, a file and a log."""
    seed = Seeded(served, f"w{uuid.uuid4().hex[:12]}", f"run-{uuid.uuid4().hex[:8]}")
    with seed.client() as api:
        created = api.post(
            "/runs",
            json={
                "runs": [
                    {
                        "run_id": seed.run_id,
                        "experiment_name": seed.experiment,
                        "display_name": "baseline",
                        "tags": {"team": "vision"},
                        "properties": {"seed": "42"},
                    }
                ]
            },
        )
        assert created.status_code == 200, created.text
        steps = [
            api.post(f"{seed.run}/status", json={"status": "Running"}),
            api.post(
                f"{seed.run}/points",
                content=_frame("loss", [0.5, 0.25], key=f"seed-{uuid.uuid4().hex}"),
                headers=FRAME,
            ),
            api.put(f"{seed.run}/files/outputs/keep.txt", content=b"kept"),
            api.post(f"{seed.run}/logs/stdout", json={"lines": ["started"]}),
        ]
        for answer in steps:
            assert answer.status_code < 300, answer.text
    seed.snapshot = seed.read_back()
    assert seed.snapshot["run"]["tags"] == {"team": "vision"}
    assert seed.snapshot["series"][0]["values"] == [0.5, 0.25]
    return seed


def _assert_refused(response: httpx.Response, status: int, kind: str, *fragments: str) -> None:
    """The answer is `status` with an error of type `kind` whose message holds each fragment."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    error = response.json()["error"]
    assert error["type"] == kind, error
    for fragment in fragments:
        assert fragment in error["message"], error


def _raw_request(
    served: Served, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """Send `path` exactly as written (httpx would resolve '..' and re-encode it)."""
    conn = http.client.HTTPConnection("127.0.0.1", served.server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, data


# Malformed JSON and wrong types

_TRUNCATED_JSON = b'{"tags": {"a": '


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("POST", "/runs", 422, "JSON decode error"),
        ("POST", "/runs/search", 422, "JSON decode error"),
        ("PATCH", "{run}", 422, "JSON decode error"),
        ("POST", "{run}/status", 422, "JSON decode error"),
        ("PUT", "{run}/tags", 422, "JSON decode error"),
        ("POST", "{run}/tags/remove", 422, "JSON decode error"),
        ("POST", "{run}/properties", 422, "JSON decode error"),
        ("POST", "{run}/logs/stdout", 422, "JSON decode error"),
        ("POST", "/experiments/bad-input/archive", 422, "JSON decode error"),
        ("POST", "{run}/points", 400, "neither a points frame nor valid JSON"),
    ],
)
def test_malformed_json_body_is_refused(
    seeded: Seeded, method: str, path: str, status: int, message: str
) -> None:
    with seeded.client() as api:
        answer = api.request(
            method,
            path.format(run=seeded.run),
            content=_TRUNCATED_JSON,
            headers={"content-type": "application/json"},
        )
    _assert_refused(answer, status, "ValidationError", message)
    seeded.assert_intact()


def _points(**batch: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "acc", "kind": "scalar", "values": [0.9], "times": [1.0]}
    return {"batches": [{**base, **batch}]}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("PUT", "{run}/tags", {"tags": ["team", "nlp"]}, 422, "valid dictionary"),
        ("PUT", "{run}/tags", {"tags": {"team": ["nlp"]}}, 422, "body.tags.team"),
        ("PUT", "{run}/tags", {"tags": {"team": "nlp"}, "extra": 1}, 422, "body.extra"),
        ("POST", "{run}/tags/remove", {"keys": "team"}, 422, "valid list"),
        ("POST", "{run}/properties", {"properties": {"seed": 7}}, 422, "valid string"),
        ("POST", "{run}/properties", {"properties": "seed=7"}, 422, "valid dictionary"),
        ("POST", "{run}/status", {"status": 5}, 422, "body.status"),
        ("POST", "{run}/status", {"status": "Done"}, 422, "body.status"),
        ("PATCH", "{run}", {"display_name": 5}, 422, "body.display_name"),
        ("PATCH", "{run}", {"run_definition": "script.py"}, 422, "body.run_definition"),
        ("POST", "/runs/search", {"limit": "many"}, 422, "valid integer"),
        ("POST", "/runs/search", {"filter": {"metrics": [{"name": "loss", "op": "~"}]}}, 422, "op"),
        ("POST", "/runs", {"runs": {"run_id": "x", "experiment_name": "e"}}, 422, "valid list"),
        ("POST", "/runs", {"runs": [{"run_id": 7, "experiment_name": "e"}]}, 422, "run_id"),
        ("POST", "/experiments/bad-input/archive", {"archived": "maybe"}, 422, "valid boolean"),
        ("POST", "{run}/logs/stdout", {"lines": "hello"}, 422, "valid list"),
        ("POST", "{run}/points", {"batches": {"name": "acc"}}, 400, '"batches" list'),
        ("POST", "{run}/points", {"key": 5, "batches": []}, 400, "idempotency key"),
        ("POST", "{run}/points", {"key": "k" * 65, "batches": []}, 400, "idempotency key"),
        ("POST", "{run}/points", _points(values="0.9"), 400, "'values' list"),
        ("POST", "{run}/points", _points(steps=["1"]), 400, "a step must be"),
        ("POST", "{run}/points", _points(steps=[True]), 400, "a step must be"),
        ("POST", "{run}/points", _points(times=["now"]), 400, "time must be"),
        ("POST", "{run}/points", _points(times=[1.0, 2.0]), 400, "'times' must be a list of 1"),
        ("POST", "{run}/points", _points(kind="histogram"), 400, "unknown kind"),
        ("POST", "{run}/points", _points(name=42), 400, "metric name must be a string"),
    ],
)
def test_wrong_types_are_refused(
    seeded: Seeded, method: str, path: str, body: Any, status: int, message: str
) -> None:
    with seeded.client() as api:
        answer = api.request(method, path.format(run=seeded.run), json=body)
    _assert_refused(answer, status, "ValidationError", message)
    seeded.assert_intact()


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("{run}/logs", {"after": "last"}, "query.after"),
        ("{run}/logs", {"limit": 0}, "query.limit"),
        ("{run}/metrics/history", {"name": "loss", "max_points": 0}, "query.max_points"),
        ("{run}/metrics/history", {}, "query.name"),
        ("/experiments", {"include_archived": "perhaps"}, "query.include_archived"),
    ],
)
def test_wrong_query_parameters_are_refused(
    seeded: Seeded, path: str, params: dict[str, Any], message: str
) -> None:
    with seeded.client() as api:
        answer = api.get(path.format(run=seeded.run), params=params)
    _assert_refused(answer, 422, "ValidationError", message)
    seeded.assert_intact()


# NaN and infinity


def test_nan_and_infinity_values_in_json_points_round_trip_as_strings(seeded: Seeded) -> None:
    # Python's json module writes the NaN / Infinity tokens; the server must read them.
    body = json.dumps(
        {
            "batches": [
                {
                    "name": "odd",
                    "kind": "scalar",
                    "values": [math.nan, math.inf, -math.inf, 1.5],
                    "steps": [0, 1, 2, 3],
                    "times": [1.0, 2.0, 3.0, 4.0],
                }
            ]
        }
    )
    assert "NaN" in body and "Infinity" in body
    with seeded.client() as api:
        answer = api.post(
            f"{seeded.run}/points", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"stored": True, "points": 4}
        series = api.get(f"{seeded.run}/metrics/series", params={"name": "odd"}).json()
    assert len(series) == 1
    assert series[0]["values"] == ["NaN", "Infinity", "-Infinity", 1.5]
    assert series[0]["steps"] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ({"steps": [math.nan]}, "a step must be null or an integer"),
        ({"steps": [math.inf]}, "a step must be null or an integer"),
        ({"steps": [1.5]}, "a step must be null or an integer"),
        ({"steps": [-1]}, "a step must be null or an integer >= 0"),
        ({"times": [math.nan]}, "time must be"),
        ({"times": [math.inf]}, "time must be"),
    ],
    ids=[
        "nan-step",
        "infinite-step",
        "fractional-step",
        "negative-step",
        "nan-time",
        "infinite-time",
    ],
)
def test_nan_step_or_time_in_json_points_is_refused(
    seeded: Seeded, batch: dict[str, Any], message: str
) -> None:
    body = json.dumps(
        {
            "batches": [
                {
                    "name": "bad",
                    "kind": "scalar",
                    "values": [1.0],
                    "steps": None,
                    "times": [1.0],
                    **batch,
                }
            ]
        }
    )
    with seeded.client() as api:
        answer = api.post(
            f"{seeded.run}/points", content=body, headers={"content-type": "application/json"}
        )
    _assert_refused(answer, 400, "ValidationError", message)
    seeded.assert_intact()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_frame("bad", [1.0], times=[math.nan]), "time"),
        (_frame("bad", [1.0], times=[-math.inf]), "time"),
        (_frame("bad", [1.0], steps=[-5]), "steps must be >= 0"),
    ],
    ids=["nan-time", "infinite-time", "negative-step"],
)
def test_non_finite_time_or_negative_step_in_a_points_frame_is_refused(
    seeded: Seeded, frame: bytes, message: str
) -> None:
    with seeded.client() as api:
        answer = api.post(f"{seeded.run}/points", content=frame, headers=FRAME)
    _assert_refused(answer, 400, "ValidationError", message)
    seeded.assert_intact()


# Names and values past the limits


def _tags(count: int, prefix: str = "t") -> dict[str, str]:
    return {f"{prefix}{i}": "v" for i in range(count)}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "kind", "message"),
    [
        (
            "POST",
            "{run}/points",
            {"content": _frame("m" * 256, [1.0]), "headers": FRAME},
            400,
            "LimitExceededError",
            "metric name is 256 characters long; the limit is 255",
        ),
        (
            "POST",
            "{run}/points",
            {"json": _points(name="m" * 256)},
            400,
            "LimitExceededError",
            "metric name is 256 characters long; the limit is 255",
        ),
        (
            "PUT",
            "/experiments/" + "e" * 300,
            {},
            400,
            "LimitExceededError",
            "experiment name is 300 characters long; the limit is 255",
        ),
        (
            "POST",
            "/runs",
            {"json": {"runs": [{"run_id": "long-exp", "experiment_name": "e" * 300}]}},
            400,
            "LimitExceededError",
            "experiment name is 300 characters long; the limit is 255",
        ),
        (
            "PUT",
            "{run}/tags",
            {"json": {"tags": {"k" * 101: "v"}}},
            400,
            "LimitExceededError",
            "tag key is 101 characters long; the limit is 100",
        ),
        (
            "PUT",
            "{run}/tags",
            {"json": {"tags": {"team": "v" * 1001}}},
            400,
            "LimitExceededError",
            "value is 1001 characters long; the limit is 1000",
        ),
        (
            "PUT",
            "{run}/tags",
            {"json": {"tags": _tags(51)}},
            400,
            "LimitExceededError",
            "at most 50",
        ),
        (
            "POST",
            "{run}/properties",
            {"json": {"properties": {"p" * 101: "v"}}},
            400,
            "LimitExceededError",
            "property key is 101 characters long; the limit is 100",
        ),
        (
            "PATCH",
            "{run}",
            {"json": {"display_name": "d" * 257}},
            422,
            "ValidationError",
            "256",
        ),
        (
            "POST",
            "/runs",
            {
                "json": {
                    "runs": [
                        {"run_id": "long-name", "experiment_name": "e", "display_name": "d" * 257}
                    ]
                }
            },
            400,
            "LimitExceededError",
            "display name is 257 characters long; the limit is 256",
        ),
    ],
    ids=[
        "metric-name-256-frame",
        "metric-name-256-json",
        "experiment-name-300",
        "run-experiment-name-300",
        "tag-key-101",
        "tag-value-1001",
        "51-tags-at-once",
        "property-key-101",
        "display-name-257-patch",
        "display-name-257-create",
    ],
)
def test_names_and_values_past_their_limit_are_refused(
    seeded: Seeded,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    kind: str,
    message: str,
) -> None:
    with seeded.client() as api:
        answer = api.request(method, path.format(run=seeded.run), **kwargs)
    _assert_refused(answer, status, kind, message)
    seeded.assert_intact()


def test_fifty_first_tag_is_refused_and_the_fifty_stay(seeded: Seeded) -> None:
    with seeded.client() as api:
        filled = api.put(f"{seeded.run}/tags", json={"tags": _tags(49)})
        assert filled.status_code == 204, filled.text
        overwrite = api.put(f"{seeded.run}/tags", json={"tags": {"team": "nlp"}})
        assert overwrite.status_code == 204, overwrite.text
        answer = api.put(f"{seeded.run}/tags", json={"tags": {"one-too-many": "v"}})
        _assert_refused(answer, 400, "LimitExceededError", "would have 51 tags; the limit is 50")
        tags = api.get(seeded.run).json()["tags"]
    assert len(tags) == 50
    assert "one-too-many" not in tags
    assert tags["team"] == "nlp"


def test_values_exactly_at_their_limit_are_accepted(seeded: Seeded) -> None:
    with seeded.client() as api:
        answers = [
            api.post(f"{seeded.run}/points", content=_frame("m" * 255, [1.0]), headers=FRAME),
            api.put(f"{seeded.run}/tags", json={"tags": {"k" * 100: "v" * 1000}}),
            api.patch(seeded.run, json={"display_name": "d" * 256}),
            api.put("/experiments/" + "e" * 255),
        ]
        for answer in answers:
            assert answer.status_code < 300, answer.text
        run = api.get(seeded.run).json()
        names = [s["name"] for s in api.get(f"{seeded.run}/metrics/series").json()]
    assert run["tags"]["k" * 100] == "v" * 1000
    assert run["displayName"] == "d" * 256
    assert "m" * 255 in names


# Bodies past the size caps


def test_points_body_declared_past_the_cap_is_refused_before_it_is_read(seeded: Seeded) -> None:
    declared = POINTS_BODY_CAP + 1
    status, body = _raw_request(
        seeded.served,
        "POST",
        f"/api/v1/workspaces/{seeded.workspace}{seeded.run}/points",
        headers={"Content-Type": MEDIA_TYPE, "Content-Length": str(declared)},
    )
    assert status == 413, body
    assert body["error"]["type"] == "PayloadTooLargeError"
    assert f"{declared} bytes is past {POINTS_BODY_CAP} bytes" in body["error"]["message"]
    seeded.assert_intact()


def test_more_than_two_million_points_in_one_request_are_refused(seeded: Seeded) -> None:
    n = 2_000_001
    zeros = ",".join(["0"] * n)
    body = f'{{"batches":[{{"name":"many","kind":"scalar","values":[{zeros}],"times":[{zeros}]}}]}}'
    with seeded.client() as api:
        answer = api.post(
            f"{seeded.run}/points", content=body, headers={"content-type": "application/json"}
        )
    _assert_refused(answer, 400, "LimitExceededError", "at most 2000000 points")
    seeded.assert_intact()


def test_file_upload_past_the_cap_is_refused_and_leaves_nothing(seeded: Seeded) -> None:
    with seeded.client() as api:
        answer = api.put(f"{seeded.run}/files/outputs/big.bin", content=b"x" * (UPLOAD_CAP + 1))
    _assert_refused(answer, 413, "PayloadTooLargeError", f"past {UPLOAD_CAP} bytes")
    seeded.assert_intact()
    assert list(seeded.served.spool.iterdir()) == []


def test_file_upload_declared_past_the_cap_is_refused_before_it_is_sent(seeded: Seeded) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", seeded.served.server.port, timeout=5)
    status: int | None = None
    body: Any = None
    try:
        conn.putrequest("PUT", f"/api/v1/workspaces/{seeded.workspace}{seeded.run}/files/huge.bin")
        conn.putheader("Content-Length", str(UPLOAD_CAP * 1000))
        conn.endheaders()
        response = conn.getresponse()
        status, body = response.status, json.loads(response.read())
    except TimeoutError:
        pass  # the server is waiting for the body
    finally:
        conn.close()
    # Hanging up must not leave the half-spooled upload behind.
    deadline = time.monotonic() + 10
    while list(seeded.served.spool.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status is not None, "no answer in 5 s: the server waits for a body it will refuse"
    assert status == 413, body
    assert body["error"]["type"] == "PayloadTooLargeError"
    assert list(seeded.served.spool.iterdir()) == []
    seeded.assert_intact()


# File names that try to leave the run

_CLIMBS = [
    "../{m}",
    "../../../../{m}",
    "%2e%2e/{m}",
    "%2E%2E%2F%2E%2E%2F{m}",
    "..\\..\\{m}",
    "..%5C..%5C{m}",
    "outputs/../../{m}",
    "outputs/%2e%2e/%2e%2e/%2e%2e/{m}",
]
_ABSOLUTE = ["/tmp/{m}", "%2Ftmp%2F{m}", "\\tmp\\{m}"]


def _files_named(root: Path, marker: str) -> list[str]:
    return [
        os.path.join(folder, name)
        for folder, dirs, files in os.walk(root)
        for name in files + dirs
        if marker in name
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [(raw, "'..' component") for raw in _CLIMBS] + [(raw, "absolute") for raw in _ABSOLUTE],
)
def test_file_name_that_leaves_the_run_is_refused_and_nothing_is_written(
    seeded: Seeded, raw: str, message: str
) -> None:
    marker = f"escape-{uuid.uuid4().hex}"
    path = f"/api/v1/workspaces/{seeded.workspace}{seeded.run}/files/{raw.format(m=marker)}"
    status, body = _raw_request(seeded.served, "PUT", path, body=b"evil")
    assert status == 400, body
    assert body["error"]["type"] == "ValidationError"
    assert message in body["error"]["message"]
    assert _files_named(seeded.served.root, marker) == []
    assert not Path("/tmp", marker).exists()
    assert not Path.cwd().joinpath(marker).exists()
    seeded.assert_intact()


@pytest.mark.parametrize(
    "raw",
    [
        "../../../runyard.db",
        "%2e%2e/%2e%2e/%2e%2e/runyard.db",
        "..\\..\\..\\runyard.db",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
    ],
)
def test_file_name_that_leaves_the_run_cannot_be_read(seeded: Seeded, raw: str) -> None:
    path = f"/api/v1/workspaces/{seeded.workspace}{seeded.run}/files/{raw}"
    status, body = _raw_request(seeded.served, "GET", path)
    assert status == 400, body
    assert body["error"]["type"] == "ValidationError"
    assert "artifact name" in body["error"]["message"]


def test_dot_segments_that_stay_inside_the_run_are_normalised(seeded: Seeded) -> None:
    path = f"/api/v1/workspaces/{seeded.workspace}{seeded.run}/files/./sub//./inner.txt"
    status, body = _raw_request(seeded.served, "PUT", path, body=b"inside")
    assert status == 200, body
    assert body == {"name": "sub/inner.txt"}
    stored = seeded.served.artifacts / seeded.experiment / seeded.run_id / "sub" / "inner.txt"
    assert stored.read_bytes() == b"inside"
    with seeded.client() as api:
        assert api.get(f"{seeded.run}/files").json()["files"] == [
            "outputs/keep.txt",
            "sub/inner.txt",
        ]


# Unknown runs

_FRAME_ONE = _frame("loss", [1.0])
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
    _assert_refused(answer, 404, "NotFoundError", f"no run with id {ghost!r}")
    seeded.assert_intact()


def test_unknown_run_event_stream_is_not_found(seeded: Seeded) -> None:
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    with (
        seeded.client() as api,
        api.stream("GET", f"/runs/{ghost}/events", timeout=10) as answer,
    ):
        answer.read()
    _assert_refused(answer, 404, "NotFoundError", f"no run with id {ghost!r}")


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
    _assert_refused(answer, 404, "NotFoundError", f"no run with id {ghost!r}")


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
    _assert_refused(answer, 404, "NotFoundError", seeded.run_id)
    seeded.assert_intact()


def test_child_of_an_unknown_parent_is_not_created(seeded: Seeded) -> None:
    with seeded.client() as api:
        answer = api.post(
            "/runs",
            json={
                "runs": [{"run_id": "orphan", "experiment_name": "e2", "parent_run_id": "ghost"}]
            },
        )
        _assert_refused(answer, 404, "NotFoundError", "'ghost'")
        assert api.get("/runs/orphan").status_code == 404
    seeded.assert_intact()


def test_run_id_taken_is_a_conflict(seeded: Seeded) -> None:
    with seeded.client() as api:
        answer = api.post(
            "/runs", json={"runs": [{"run_id": seeded.run_id, "experiment_name": "other"}]}
        )
    _assert_refused(answer, 409, "ConflictError", f"{seeded.run_id!r} already exists")
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
    _assert_refused(answer, 400, kind, message)
    seeded.assert_intact()


def test_bad_workspace_name_error_says_it_is_the_workspace(seeded: Seeded) -> None:
    answer = httpx.get(f"{seeded.served.server.url}/api/v1/workspaces/bad%20name/experiments")
    _assert_refused(answer, 400, "ValidationError", "workspace", "'bad name'")


# Conflicts with what is stored


@pytest.mark.parametrize(
    ("final", "then"),
    [("Canceled", "Completed"), ("Completed", "Running"), ("Failed", "Completed")],
)
def test_ended_run_cannot_change_status(seeded: Seeded, final: str, then: str) -> None:
    with seeded.client() as api:
        ended = api.post(f"{seeded.run}/status", json={"status": final})
        assert ended.status_code == 200, ended.text
        before = api.get(seeded.run).json()
        answer = api.post(f"{seeded.run}/status", json={"status": then})
        _assert_refused(
            answer, 409, "InvalidStatusTransitionError", f"cannot go from {final} to {then}"
        )
        after = api.get(seeded.run).json()
    assert after == before
    assert after["status"] == final


def test_property_cannot_change_value(seeded: Seeded) -> None:
    with seeded.client() as api:
        same = api.post(f"{seeded.run}/properties", json={"properties": {"seed": "42"}})
        assert same.status_code == 204, same.text
        answer = api.post(
            f"{seeded.run}/properties", json={"properties": {"fresh": "x", "seed": "7"}}
        )
    _assert_refused(answer, 409, "ImmutablePropertyError", "'seed'", "already '42'")
    # All or nothing: the new property in the refused request was not added either.
    seeded.assert_intact()


# Idempotent ingest


def _json_points(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "batches": [
            {
                "name": "acc",
                "kind": "scalar",
                "steps": [0, 1],
                "values": [0.7, 0.8],
                "times": [1.0, 2.0],
            }
        ],
    }


@pytest.mark.parametrize("form", ["frame", "json"])
def test_same_points_key_twice_is_stored_once(seeded: Seeded, form: str) -> None:
    key = f"key-{uuid.uuid4().hex}"
    request: dict[str, Any] = (
        {"content": _frame("acc", [0.7, 0.8], steps=[0, 1], key=key), "headers": FRAME}
        if form == "frame"
        else {"json": _json_points(key)}
    )
    with seeded.client() as api:
        first = api.post(f"{seeded.run}/points", **request)
        assert first.status_code == 200, first.text
        assert first.json() == {"stored": True, "points": 2}
        second = api.post(f"{seeded.run}/points", **request)
        assert second.status_code == 200, second.text
        assert second.json() == {"stored": False, "points": 2}
        metrics = {m["name"]: m["count"] for m in api.get(f"{seeded.run}/metrics").json()}
    assert metrics == {"loss": 2, "acc": 2}


def test_same_points_key_on_another_run_is_stored_for_that_run(seeded: Seeded) -> None:
    key = f"key-{uuid.uuid4().hex}"
    other = f"run-{uuid.uuid4().hex[:8]}"
    with seeded.client() as api:
        created = api.post("/runs", json={"runs": [{"run_id": other, "experiment_name": "e2"}]})
        assert created.status_code == 200, created.text
        first = api.post(
            f"{seeded.run}/points", content=_frame("acc", [0.7], key=key), headers=FRAME
        )
        assert first.json() == {"stored": True, "points": 1}
        # A key names a retry of one run's batch; another run's batch is not a retry of it.
        second = api.post(
            f"/runs/{other}/points", content=_frame("acc", [0.6], key=key), headers=FRAME
        )
        assert second.status_code == 200, second.text
        assert second.json() == {"stored": True, "points": 1}
        series = api.get(f"/runs/{other}/metrics/series").json()
    assert [s["values"] for s in series] == [[0.6]]


# Binary frames that are not frames

_VALID = _frame("loss", [0.1, 0.2], key="frame-key")
_HEAD = struct.Struct("<4sI")


def _with_header(header: bytes, rest: bytes = b"") -> bytes:
    return _HEAD.pack(b"RYP1", len(header)) + header + rest


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "too short"),
        (b"garbage!garbage!", "not a runyard points frame"),
        (b'{"batches": []}', "not a runyard points frame"),
        (_VALID[:10], "truncated"),
        (_VALID[:-3], "truncated"),
        (_VALID + b"\x00\x00", "bytes past its last column"),
        (_HEAD.pack(b"RYP1", 2**32 - 1) + b"{}", "truncated"),
        (_with_header(b"{not json"), "not valid JSON"),
        (_with_header(b'{"key": null}'), "not valid JSON with 'batches'"),
        (_with_header(b'{"batches": {}}'), "'batches' must be a list"),
        (
            _with_header(
                b'{"batches": [{"name": "m", "kind": "scalar", "n": -1, '
                b'"steps": "auto", "values": "f64"}]}'
            ),
            "non-negative integer",
        ),
        (
            _with_header(
                b'{"batches": [{"name": "m", "kind": "scalar", "n": 1, '
                b'"steps": "i32", "values": "f64"}]}'
            ),
            "'steps' must be 'auto' or 'i64'",
        ),
    ],
    ids=[
        "empty",
        "garbage",
        "json-with-frame-type",
        "cut-in-header",
        "cut-in-column",
        "trailing-bytes",
        "header-length-past-body",
        "header-not-json",
        "header-without-batches",
        "batches-not-a-list",
        "negative-count",
        "unknown-step-encoding",
    ],
)
def test_garbage_or_truncated_points_frame_is_refused(
    seeded: Seeded, body: bytes, message: str
) -> None:
    with seeded.client() as api:
        answer = api.post(f"{seeded.run}/points", content=body, headers=FRAME)
    _assert_refused(answer, 400, "ValidationError", message)
    seeded.assert_intact()


def _claiming(n: int, steps: str = "auto") -> bytes:
    header = {"batches": [{"name": "m", "kind": "scalar", "n": n, "steps": steps, "values": "f64"}]}
    return _with_header(json.dumps(header).encode(), b"\x00" * 16)


@pytest.mark.parametrize(
    ("body", "kind", "message"),
    [
        (_claiming(10**13), "LimitExceededError", "at most 2000000 points"),
        (_claiming(300_000_000), "LimitExceededError", "at most 2000000 points"),
        (_claiming(1_500_000), "ValidationError", "the body holds 16"),
        (_claiming(1_000_000, "i64"), "ValidationError", "announces 24000000 bytes"),
    ],
    ids=["n-1e13", "n-3e8-auto-steps", "n-1.5e6-in-16-bytes", "n-1e6-i64"],
)
def test_points_frame_claiming_more_points_than_it_holds_is_refused(
    seeded: Seeded, body: bytes, kind: str, message: str
) -> None:
    """A ~130-byte frame must not make the server allocate for the count it claims."""
    assert len(body) < 200
    with seeded.client() as api:
        answer = api.post(f"{seeded.run}/points", content=body, headers=FRAME)
    _assert_refused(answer, 400, kind, message)
    seeded.assert_intact()


@pytest.mark.parametrize(
    "name",
    [".runyard-partial-" + "a" * 32, "outputs/.runyard-partial-x", ".runyard-partial-/model.pt"],
)
def test_file_name_that_is_an_internal_partial_file_name_is_refused(
    seeded: Seeded, name: str
) -> None:
    with seeded.client() as api:
        answer = api.put(f"{seeded.run}/files/{name}", content=b"data")
    _assert_refused(answer, 400, "ValidationError", "reserved prefix", ".runyard-partial-")
    seeded.assert_intact()

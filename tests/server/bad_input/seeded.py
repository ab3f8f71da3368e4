"""What the bad-input tests share: the server they run against, a workspace seeded with
one run holding some of everything, and how they send and judge requests."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from runyard.core.metrics import MetricKind, PointBatch
from runyard.core.wire import MEDIA_TYPE, encode_batches
from tests.conftest import ServerProcess

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


def points_frame(
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


def json_points(**batch: Any) -> dict[str, Any]:
    """A points body in JSON: one scalar batch, with `batch`'s fields overriding."""
    base: dict[str, Any] = {"name": "acc", "kind": "scalar", "values": [0.9], "times": [1.0]}
    return {"batches": [{**base, **batch}]}


def assert_refused(response: httpx.Response, status: int, kind: str, *fragments: str) -> None:
    """The answer is `status` with an error of type `kind` whose message holds each fragment."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    error = response.json()["error"]
    assert error["type"] == kind, error
    for fragment in fragments:
        assert fragment in error["message"], error


def raw_request(
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

"""File names that try to leave their run: refused on upload and on read, nothing written
outside the run; dot segments that stay inside are normalised.

The fixtures (`served`, `seeded`) are in this package's conftest.py.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.server.bad_input.seeded import Seeded, raw_request

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
    status, body = raw_request(seeded.served, "PUT", path, body=b"evil")
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
    status, body = raw_request(seeded.served, "GET", path)
    assert status == 400, body
    assert body["error"]["type"] == "ValidationError"
    assert "artifact name" in body["error"]["message"]


def test_dot_segments_that_stay_inside_the_run_are_normalised(seeded: Seeded) -> None:
    path = f"/api/v1/workspaces/{seeded.workspace}{seeded.run}/files/./sub//./inner.txt"
    status, body = raw_request(seeded.served, "PUT", path, body=b"inside")
    assert status == 200, body
    assert body == {"name": "sub/inner.txt"}
    stored = seeded.served.artifacts / seeded.experiment / seeded.run_id / "sub" / "inner.txt"
    assert stored.read_bytes() == b"inside"
    with seeded.client() as api:
        assert api.get(f"{seeded.run}/files").json()["files"] == [
            "outputs/keep.txt",
            "sub/inner.txt",
        ]

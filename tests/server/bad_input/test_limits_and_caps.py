"""Names and values past their limits, and bodies past the server's size caps: refused
with a message naming the limit, before anything is stored (or read, for bodies).

The fixtures (`served`, `seeded`) are in this package's conftest.py.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from runyard.core.wire import MEDIA_TYPE
from tests.conftest import poll_until
from tests.server.bad_input.seeded import (
    FRAME,
    POINTS_BODY_CAP,
    UPLOAD_CAP,
    Seeded,
    assert_refused,
    json_points,
    points_frame,
    raw_request,
)

# Names and values past the limits


def _tags(count: int, prefix: str = "t") -> dict[str, str]:
    return {f"{prefix}{i}": "v" for i in range(count)}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "kind", "message"),
    [
        (
            "POST",
            "{run}/points",
            {"content": points_frame("m" * 256, [1.0]), "headers": FRAME},
            400,
            "LimitExceededError",
            "metric name is 256 characters long; the limit is 255",
        ),
        (
            "POST",
            "{run}/points",
            {"json": json_points(name="m" * 256)},
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
    assert_refused(answer, status, kind, message)
    seeded.assert_intact()


def test_fifty_first_tag_is_refused_and_the_fifty_stay(seeded: Seeded) -> None:
    with seeded.client() as api:
        filled = api.put(f"{seeded.run}/tags", json={"tags": _tags(49)})
        assert filled.status_code == 204, filled.text
        overwrite = api.put(f"{seeded.run}/tags", json={"tags": {"team": "nlp"}})
        assert overwrite.status_code == 204, overwrite.text
        answer = api.put(f"{seeded.run}/tags", json={"tags": {"one-too-many": "v"}})
        assert_refused(answer, 400, "LimitExceededError", "would have 51 tags; the limit is 50")
        tags = api.get(seeded.run).json()["tags"]
    assert len(tags) == 50
    assert "one-too-many" not in tags
    assert tags["team"] == "nlp"


def test_values_exactly_at_their_limit_are_accepted(seeded: Seeded) -> None:
    with seeded.client() as api:
        answers = [
            api.post(f"{seeded.run}/points", content=points_frame("m" * 255, [1.0]), headers=FRAME),
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
    status, body = raw_request(
        seeded.served,
        "POST",
        f"/api/v1/workspaces/{seeded.workspace}{seeded.run}/points",
        headers={"Content-Type": MEDIA_TYPE, "Content-Length": str(declared)},
    )
    assert status == 413, body
    assert body["error"]["type"] == "PayloadTooLargeError"
    assert f"{declared} bytes; the limit is {POINTS_BODY_CAP}" in body["error"]["message"]
    seeded.assert_intact()


def test_more_than_two_million_points_in_one_request_are_refused(seeded: Seeded) -> None:
    n = 2_000_001
    zeros = ",".join(["0"] * n)
    body = f'{{"batches":[{{"name":"many","kind":"scalar","values":[{zeros}],"times":[{zeros}]}}]}}'
    with seeded.client() as api:
        answer = api.post(
            f"{seeded.run}/points", content=body, headers={"content-type": "application/json"}
        )
    assert_refused(answer, 400, "LimitExceededError", "at most 2000000 points")
    seeded.assert_intact()


def test_file_upload_past_the_cap_is_refused_and_leaves_nothing(seeded: Seeded) -> None:
    with seeded.client() as api:
        answer = api.put(f"{seeded.run}/files/outputs/big.bin", content=b"x" * (UPLOAD_CAP + 1))
    assert_refused(answer, 413, "PayloadTooLargeError", f"past {UPLOAD_CAP} bytes")
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
    assert status is not None, "no answer in 5 s: the server waits for a body it will refuse"
    assert status == 413, body
    assert body["error"]["type"] == "PayloadTooLargeError"
    # Hanging up must not leave the half-spooled upload behind.
    poll_until(
        lambda: not list(seeded.served.spool.iterdir()), 10, "the partial upload to be removed"
    )
    seeded.assert_intact()

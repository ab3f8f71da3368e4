"""Malformed requests: bodies that are not JSON or not a points frame, wrong types, wrong
query parameters, NaN and infinity where they cannot be. Each is a precise 4xx and the
seeded run is left intact.

The fixtures (`served`, `seeded`) are in this package's conftest.py.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import pytest

from tests.server.bad_input.seeded import FRAME, Seeded, assert_refused, json_points, points_frame

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
    assert_refused(answer, status, "ValidationError", message)
    seeded.assert_intact()


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
        ("POST", "{run}/points", json_points(values="0.9"), 400, "'values' list"),
        ("POST", "{run}/points", json_points(steps=["1"]), 400, "a step must be"),
        ("POST", "{run}/points", json_points(steps=[True]), 400, "a step must be"),
        ("POST", "{run}/points", json_points(times=["now"]), 400, "time must be"),
        ("POST", "{run}/points", json_points(times=[1.0, 2.0]), 400, "'times' must be a list of 1"),
        ("POST", "{run}/points", json_points(kind="histogram"), 400, "unknown kind"),
        ("POST", "{run}/points", json_points(name=42), 400, "metric name must be a string"),
    ],
)
def test_wrong_types_are_refused(
    seeded: Seeded, method: str, path: str, body: Any, status: int, message: str
) -> None:
    with seeded.client() as api:
        answer = api.request(method, path.format(run=seeded.run), json=body)
    assert_refused(answer, status, "ValidationError", message)
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
    assert_refused(answer, 422, "ValidationError", message)
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
    assert_refused(answer, 400, "ValidationError", message)
    seeded.assert_intact()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (points_frame("bad", [1.0], times=[math.nan]), "time"),
        (points_frame("bad", [1.0], times=[-math.inf]), "time"),
        (points_frame("bad", [1.0], steps=[-5]), "steps must be >= 0"),
    ],
    ids=["nan-time", "infinite-time", "negative-step"],
)
def test_non_finite_time_or_negative_step_in_a_points_frame_is_refused(
    seeded: Seeded, frame: bytes, message: str
) -> None:
    with seeded.client() as api:
        answer = api.post(f"{seeded.run}/points", content=frame, headers=FRAME)
    assert_refused(answer, 400, "ValidationError", message)
    seeded.assert_intact()


# Binary frames that are not frames

_VALID = points_frame("loss", [0.1, 0.2], key="frame-key")
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
    assert_refused(answer, 400, "ValidationError", message)
    seeded.assert_intact()

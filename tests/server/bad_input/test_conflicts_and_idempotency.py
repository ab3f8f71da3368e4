"""Requests that conflict with what is stored (an ended run's status, a property's value,
a taken run id) are 409s; a points key sent twice is stored once.

The fixtures (`served`, `seeded`) are in this package's conftest.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.server.bad_input.seeded import FRAME, Seeded, assert_refused, points_frame

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
        assert_refused(
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
    assert_refused(answer, 409, "ImmutablePropertyError", "'seed'", "already '42'")
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
        {"content": points_frame("acc", [0.7, 0.8], steps=[0, 1], key=key), "headers": FRAME}
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
            f"{seeded.run}/points", content=points_frame("acc", [0.7], key=key), headers=FRAME
        )
        assert first.json() == {"stored": True, "points": 1}
        # A key names a retry of one run's batch; another run's batch is not a retry of it.
        second = api.post(
            f"/runs/{other}/points", content=points_frame("acc", [0.6], key=key), headers=FRAME
        )
        assert second.status_code == 200, second.text
        assert second.json() == {"stored": True, "points": 1}
        series = api.get(f"/runs/{other}/metrics/series").json()
    assert [s["values"] for s in series] == [[0.6]]

"""Decoding a points frame checks every count against the bytes present and the limits
before it allocates anything."""

from __future__ import annotations

import json
import struct
import tracemalloc

import pytest

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits
from runyard.core.metrics import MetricKind, PointBatch
from runyard.core.wire import decode_batches, encode_batches

#: Far below what any claimed count in these tests would cost if it were allocated.
ALLOWED_PEAK = 1024 * 1024


def frame_claiming(*batches: dict[str, object], columns: bytes = b"") -> bytes:
    header = json.dumps({"batches": list(batches)}).encode()
    return struct.pack("<4sI", b"RYP1", len(header)) + header + columns


def batch(n: object, steps: str = "auto", values: object = "f64") -> dict[str, object]:
    return {"name": "m", "kind": "scalar", "n": n, "steps": steps, "values": values}


def peak_while(call: object) -> tuple[int, BaseException | None]:
    """Peak traced memory while `call()` runs, and what it raised."""
    tracemalloc.start()
    raised: BaseException | None = None
    try:
        call()  # type: ignore[operator]
    except BaseException as exc:
        raised = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, raised


@pytest.mark.parametrize(
    ("frame", "error", "message"),
    [
        (frame_claiming(batch(20_000_000)), LimitExceededError, "at most 2000000 points"),
        (frame_claiming(batch(10**13)), LimitExceededError, "at most 2000000 points"),
        (frame_claiming(batch(1_900_000), columns=b"\0" * 64), ValidationError, "truncated"),
        (
            frame_claiming(batch(1_000_000), batch(900_000, "i64"), columns=b"\0" * 8),
            ValidationError,
            "truncated",
        ),
        (
            frame_claiming(batch(1_500_000, values=[0.5])),
            ValidationError,
            "truncated",
        ),
    ],
    ids=["2e7-auto-steps", "1e13", "1.9e6-in-64-bytes", "two-batches", "values-in-header"],
)
def test_counts_past_the_bytes_or_the_limit_are_refused_before_allocating(
    frame: bytes, error: type[Exception], message: str
) -> None:
    peak, raised = peak_while(lambda: decode_batches(frame, Limits()))

    assert isinstance(raised, error), raised
    assert message in str(raised)
    assert peak < ALLOWED_PEAK, f"decoding a {len(frame)}-byte frame peaked at {peak} bytes"


@pytest.mark.parametrize("n", [True, 1.0, "3", None, -1])
def test_count_that_is_not_a_non_negative_integer_is_refused(n: object) -> None:
    with pytest.raises(ValidationError, match="'n' must be a non-negative integer"):
        decode_batches(frame_claiming(batch(n)), Limits())


def test_frame_whose_counts_match_its_bytes_decodes() -> None:
    batches = [
        PointBatch("a", MetricKind.SCALAR, "", "", [None] * 3, [0.1, 0.2, 0.3], [1.0, 2.0, 3.0]),
        PointBatch("b", MetricKind.SCALAR, "", "", [5, 6], [1.5, 2.5], [1.0, 2.0]),
    ]

    key, decoded = decode_batches(encode_batches(batches, "k1"), Limits())

    assert key == "k1"
    assert [(b.name, b.steps, b.values) for b in decoded] == [
        ("a", [None, None, None], [0.1, 0.2, 0.3]),
        ("b", [5, 6], [1.5, 2.5]),
    ]

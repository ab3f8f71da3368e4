"""Decoding a points frame checks every count against the bytes present and the limits
before it allocates anything."""

from __future__ import annotations

import json
import math
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


def test_one_point_batches_of_many_metrics_round_trip_exactly() -> None:
    batches = [
        PointBatch(f"m{i}", MetricKind.SCALAR, "", "", [None], [i * 0.5], [1e9 + i])
        for i in range(500)
    ]
    batches.append(PointBatch("nan", MetricKind.SCALAR, "", "d", [None], [math.nan], [5.0]))
    batches.append(PointBatch("stepped", MetricKind.SCALAR, "", "", [7], [1.0], [5.0]))
    key, decoded = decode_batches(encode_batches(batches, "k"), Limits())
    assert key == "k" and len(decoded) == 502
    assert [(b.name, b.steps, b.values, b.times) for b in decoded[:500]] == [
        (f"m{i}", [None], [i * 0.5], [1e9 + i]) for i in range(500)
    ]
    assert math.isnan(decoded[500].values[0]) and decoded[500].description == "d"
    assert decoded[501].steps == [7]


def test_a_one_point_batch_cut_short_or_with_an_infinite_time_is_refused() -> None:
    frame = encode_batches([PointBatch("m", MetricKind.SCALAR, "", "", [None], [1.0], [2.0])])
    with pytest.raises(ValidationError, match="truncated"):
        decode_batches(frame[:-1], Limits())
    bad = encode_batches([PointBatch("m", MetricKind.SCALAR, "", "", [None], [1.0], [math.inf])])
    with pytest.raises(ValidationError, match="finite"):
        decode_batches(bad, Limits())


def test_one_point_entries_leave_out_an_empty_column_and_description_and_old_frames_decode() -> (
    None
):
    batches = [
        PointBatch("plain", MetricKind.SCALAR, "", "", [None], [1.5], [2.0]),
        PointBatch("cells", MetricKind.TABLE, "col", "words", [None], [2.5], [3.0]),
    ]
    frame = encode_batches(batches)
    (header_len,) = struct.unpack_from("<I", frame, 4)
    entries = json.loads(frame[8 : 8 + header_len])["batches"]
    assert entries[0] == {
        "name": "plain",
        "kind": "scalar",
        "n": 1,
        "steps": "auto",
        "values": "f64",
    }
    assert entries[1]["column"] == "col" and entries[1]["description"] == "words"
    # A frame of an older client, every key written out, decodes to the same batches.
    older = [
        {**e, "column": e.get("column", ""), "description": e.get("description", "")}
        for e in entries
    ]
    columns = frame[8 + header_len :]
    for decoded in (
        decode_batches(frame, Limits())[1],
        decode_batches(frame_claiming(*older, columns=columns), Limits())[1],
    ):
        assert decoded == batches


@pytest.mark.parametrize("kind", [None, "histogram", ["scalar"], {"k": 1}, 3])
def test_a_batch_of_an_unknown_or_malformed_kind_is_refused_naming_the_kinds(kind: object) -> None:
    entry = {**batch(1), "kind": kind}
    with pytest.raises(ValidationError, match="unknown kind; allowed: scalar, list"):
        decode_batches(frame_claiming(entry, columns=struct.pack("<dd", 1.0, 2.0)), Limits())

"""The compact wire form of metric points, shared by the HTTP client, the server and the spool.

One frame holds many batches: a JSON header describing them, then their numeric columns
as raw little-endian arrays (steps int64, values and times float64). Encoding and
decoding are C-speed `array` conversions, not per-point work. Batches whose values are
not all floats carry their values in the header as JSON instead.
"""

from __future__ import annotations

import json
import math
import struct
import sys
from array import array
from typing import Any

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits
from runyard.core.metrics import (
    STRUCTURED_KINDS,
    MetricKind,
    PointBatch,
    normalize_value,
    validate_metric_name,
)

MEDIA_TYPE = "application/vnd.runyard.points"
_MAGIC = b"RYP1"
_HEADER = struct.Struct("<4sI")
_LITTLE = sys.byteorder == "little"
#: The value and time columns of a one-point batch with an automatic step.
_ONE_POINT = struct.Struct("<dd")
_ONE_POINT_ENTRY = {"n": 1, "steps": "auto", "values": "f64"}
_KINDS = {kind.value: kind for kind in MetricKind}


def _raw(kind: str, values: list[Any]) -> bytes:
    data = array(kind, values)
    if not _LITTLE:
        data.byteswap()
    return data.tobytes()


def encode_batches(batches: list[PointBatch], key: str | None = None) -> bytes:
    """One frame with every batch; `key` is the idempotency key of the whole frame."""
    described = []
    columns: list[bytes] = []
    for b in batches:
        if len(b.values) == 1 and b.steps[0] is None and type(b.values[0]) is float:
            # One point of a metric among many (a wide call): no array per column, and an
            # empty column or description left out (the decoder's default): a 100,000-name
            # frame is a third smaller.
            one: dict[str, Any] = {"name": b.name, "kind": b.kind.value}
            if b.column:
                one["column"] = b.column
            if b.description:
                one["description"] = b.description
            one.update(_ONE_POINT_ENTRY)
            described.append(one)
            columns.append(_ONE_POINT.pack(b.values[0], b.times[0]))
            continue
        entry: dict[str, Any] = {
            "name": b.name,
            "kind": b.kind.value,
            "column": b.column,
            "description": b.description,
            "n": len(b.values),
        }
        if b.steps.count(None) == len(b.steps):
            entry["steps"] = "auto"
        else:
            entry["steps"] = "i64"
            columns.append(_raw("q", [-1 if s is None else s for s in b.steps]))
        if set(map(type, b.values)) <= {float}:
            entry["values"] = "f64"
            columns.append(_raw("d", b.values))
        else:
            entry["values"] = b.values
        columns.append(_raw("d", b.times))
        described.append(entry)
    header = json.dumps({"key": key, "batches": described}, separators=(",", ":")).encode()
    return b"".join([_HEADER.pack(_MAGIC, len(header)), header, *columns])


def _column(data: memoryview, offset: int, kind: str, n: int) -> tuple[list[Any], int]:
    size = 8 * n
    if offset + size > len(data):
        raise ValidationError("points frame is truncated: a column is shorter than its count")
    column = array(kind)
    column.frombytes(data[offset : offset + size])
    if not _LITTLE:
        column.byteswap()
    return column.tolist(), offset + size


def decode_batches(
    data: bytes, limits: Limits, max_points: int = 2_000_000
) -> tuple[str | None, list[PointBatch]]:
    """The idempotency key and batches of a frame, every field checked as at a logging call."""
    view = memoryview(data)
    if len(data) < _HEADER.size:
        raise ValidationError("points frame is too short")
    magic, header_len = _HEADER.unpack_from(view)
    if magic != _MAGIC:
        raise ValidationError(f"not a runyard points frame (expected {MEDIA_TYPE})")
    if _HEADER.size + header_len > len(data):
        raise ValidationError("points frame is truncated: header longer than the body")
    try:
        header = json.loads(bytes(view[_HEADER.size : _HEADER.size + header_len]))
        described = header["batches"]
        key = header.get("key")
    except (ValueError, KeyError, TypeError):
        raise ValidationError("points frame header is not valid JSON with 'batches'") from None
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 64):
        raise ValidationError("idempotency key must be a string of 1 to 64 characters")
    if not isinstance(described, list):
        raise ValidationError("'batches' must be a list")
    offset = _HEADER.size + header_len
    _check_counts(described, len(data) - offset, max_points)
    batches = []
    for entry in described:
        batch, offset = _decode_one(entry, view, offset, limits)
        batches.append(batch)
    if offset != len(data):
        raise ValidationError("points frame has bytes past its last column")
    return key, batches


def _check_counts(described: list[Any], column_bytes: int, max_points: int) -> None:
    """Check every batch's count against the limit and the bytes actually present, before
    anything is allocated: a 100-byte frame claiming 10**13 points is refused at once."""
    total = 0
    needed = 0
    for entry in described:
        if not isinstance(entry, dict):
            raise ValidationError("each batch must be an object")
        n = entry.get("n")
        if type(n) is not int or n < 0:
            raise ValidationError(
                f"metric {entry.get('name')!r}: 'n' must be a non-negative integer"
            )
        if entry.get("steps") not in ("auto", "i64"):
            raise ValidationError(f"metric {entry.get('name')!r}: 'steps' must be 'auto' or 'i64'")
        total += n
        if total > max_points:
            raise LimitExceededError(f"a request may carry at most {max_points} points")
        columns = 1 + (entry.get("steps") == "i64") + (entry.get("values") == "f64")
        needed += 8 * n * columns
    if needed > column_bytes:
        raise ValidationError(
            f"points frame is truncated: its header announces {needed} bytes of columns, "
            f"the body holds {column_bytes}"
        )


def _batch_header(entry: Any, limits: Limits) -> tuple[str, MetricKind, str, str]:
    """(name, kind, column, description) of a batch, each checked."""
    if not isinstance(entry, dict):
        raise ValidationError("each batch must be an object")
    name = validate_metric_name(entry.get("name"), limits)
    raw_kind = entry.get("kind")
    kind = _KINDS.get(raw_kind) if type(raw_kind) is str else None
    if kind is None:
        allowed = ", ".join(k.value for k in MetricKind)
        raise ValidationError(f"metric {name!r}: unknown kind; allowed: {allowed}")
    column = entry.get("column", "")
    if column:
        column = validate_metric_name(column, limits, "column name")
    description = entry.get("description", "")
    if description == "":
        return name, kind, column, description
    if not isinstance(description, str) or len(description) > limits.max_description_length:
        raise ValidationError(
            f"metric {name!r}: description must be a string of at most "
            f"{limits.max_description_length} characters"
        )
    if "\x00" in description:
        raise ValidationError(f"metric {name!r}: description cannot contain NUL (\\x00)")
    return name, kind, column, description


def _decode_one(
    entry: Any, view: memoryview, offset: int, limits: Limits
) -> tuple[PointBatch, int]:
    name, kind, column, description = _batch_header(entry, limits)
    n = entry["n"]  # checked by _check_counts
    steps: list[int | None]
    if n == 1 and entry.get("steps") == "auto" and entry.get("values") == "f64":
        if offset + _ONE_POINT.size > len(view):
            raise ValidationError("points frame is truncated: a column is shorter than its count")
        value, time = _ONE_POINT.unpack_from(view, offset)
        if not math.isfinite(time):
            raise ValidationError(f"metric {name!r}: times must be finite numbers")
        batch = PointBatch(name, kind, column, description, [None], [value], [time])
        return batch, offset + _ONE_POINT.size
    if entry.get("steps") == "auto":
        steps = [None] * n
    elif entry.get("steps") == "i64":
        raw_steps, offset = _column(view, offset, "q", n)
        if any(s < -1 for s in raw_steps):
            raise ValidationError(f"metric {name!r}: steps must be >= 0")
        steps = [None if s == -1 else s for s in raw_steps]
    else:
        raise ValidationError(f"metric {name!r}: 'steps' must be 'auto' or 'i64'")
    if entry.get("values") == "f64":
        values, offset = _column(view, offset, "d", n)
    elif isinstance(entry.get("values"), list) and len(entry["values"]) == n:
        values = [_checked_value(name, kind, v, limits) for v in entry["values"]]
    else:
        raise ValidationError(f"metric {name!r}: 'values' must be 'f64' or a list of {n} values")
    times, offset = _column(view, offset, "d", n)
    if not all(map(math.isfinite, times)):
        raise ValidationError(f"metric {name!r}: times must be finite numbers")
    return PointBatch(name, kind, column, description, steps, values, times), offset


def _checked_value(name: str, kind: MetricKind, value: Any, limits: Limits) -> Any:
    if kind in STRUCTURED_KINDS:
        from runyard.core.structured import validate_structured

        return validate_structured(name, kind, value, limits)
    if kind is MetricKind.IMAGE:
        if not isinstance(value, str):
            raise ValidationError(f"metric {name!r}: an image point is the name of its file")
        return value
    return normalize_value(name, value, limits)


def decode_json_batches(
    body: Any, limits: Limits, max_points: int = 2_000_000
) -> tuple[str | None, list[PointBatch]]:
    """The JSON form of a frame: `{"key": ..., "batches": [{name, kind, column, description,
    steps, values, times}]}` with steps null for "next"; checked like the binary form."""
    if not isinstance(body, dict) or not isinstance(body.get("batches"), list):
        raise ValidationError('the body must be an object with a "batches" list')
    key = body.get("key")
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 64):
        raise ValidationError("idempotency key must be a string of 1 to 64 characters")
    batches = []
    total = 0
    for entry in body["batches"]:
        if not isinstance(entry, dict):
            raise ValidationError("each batch must be an object")
        values = entry.get("values")
        steps = entry.get("steps")
        times = entry.get("times")
        if not isinstance(values, list):
            raise ValidationError("each batch needs a 'values' list")
        n = len(values)
        steps = [None] * n if steps is None else steps
        if not isinstance(steps, list) or len(steps) != n:
            raise ValidationError(f"'steps' must be null or a list of {n} integers or nulls")
        for step in steps:
            if step is not None and (type(step) is not int or not 0 <= step <= 2**62):
                raise ValidationError(f"a step must be null or an integer >= 0, got {step!r}")
        if not isinstance(times, list) or len(times) != n:
            raise ValidationError(f"'times' must be a list of {n} numbers (seconds since epoch)")
        for t in times:
            if type(t) not in (int, float) or not math.isfinite(t):
                raise ValidationError(f"a time must be a finite number, got {t!r}")
        total += n
        if total > max_points:
            raise LimitExceededError(f"a request may carry at most {max_points} points")
        name, kind, column, description = _batch_header(entry, limits)
        checked = [_checked_value(name, kind, v, limits) for v in values]
        batch = PointBatch(
            name, kind, column, description, list(steps), checked, [float(t) for t in times]
        )
        batches.append(batch)
    return key, batches

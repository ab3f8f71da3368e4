"""Metric kinds, the values a metric may hold, and how a value is stored and read back."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits

MetricValue = float | int | bool | str | dict[str, Any]

# Integers are stored as 64-bit floats: past 2**53 they would silently change.
_MAX_EXACT_INT = 2**53


class MetricKind(StrEnum):
    """How a metric was logged, which decides how it is returned and charted."""

    SCALAR = "scalar"
    LIST = "list"
    TABLE = "table"
    IMAGE = "image"
    CONFUSION_MATRIX = "confusion_matrix"
    ACCURACY_TABLE = "accuracy_table"
    RESIDUALS = "residuals"
    PREDICTIONS = "predictions"


STRUCTURED_KINDS = frozenset(
    {
        MetricKind.CONFUSION_MATRIX,
        MetricKind.ACCURACY_TABLE,
        MetricKind.RESIDUALS,
        MetricKind.PREDICTIONS,
    }
)


class ValueType(IntEnum):
    """The Python type of one stored point, kept so values round-trip exactly."""

    FLOAT = 0
    INT = 1
    BOOL = 2
    STR = 3
    JSON = 4
    #: -0.0, kept apart because SQLite stores a whole-number REAL as an integer (losing
    #: the sign of zero).
    NEG_ZERO = 5


# Plain ints of the value types: they go into bulk inserts, where an enum member would not.
_FLOAT = int(ValueType.FLOAT)
_INT = int(ValueType.INT)
_BOOL = int(ValueType.BOOL)
_STR = int(ValueType.STR)
_JSON = int(ValueType.JSON)
_NEG_ZERO = int(ValueType.NEG_ZERO)

#: Value types that are numbers (charts, min/max, rollups).
NUMERIC_VTYPES = (_FLOAT, _INT, _BOOL, _NEG_ZERO)


def _has_control_chars(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def validate_metric_name(name: object, limits: Limits, what: str = "metric name") -> str:
    """Check a metric or column name: a non-empty string of at most the limit, no control chars."""
    if not isinstance(name, str):
        raise ValidationError(f"{what} must be a string, got {type(name).__name__}: {name!r}")
    if not name.strip():
        raise ValidationError(f"{what} must not be empty or blank")
    if len(name) > limits.max_metric_name_length:
        raise LimitExceededError(
            f"{what} is {len(name)} characters long; the limit is "
            f"{limits.max_metric_name_length}: {name[:40]!r}…"
        )
    if _has_control_chars(name):
        raise ValidationError(f"{what} must not contain control characters: {name!r}")
    return name


def normalize_value(name: str, value: object, limits: Limits) -> float | int | bool | str:
    """The value to store for one logged point, or a clear error if it cannot be one.

    Accepts float, int, bool, str and NumPy scalars; NaN and ±inf are kept as they are.
    """
    kind = type(value)
    if kind is float or kind is bool:
        return value  # type: ignore[return-value]
    if kind is int:
        if -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:  # type: ignore[operator]
            return value  # type: ignore[return-value]
        raise LimitExceededError(
            f"metric {name!r}: integer {value} is beyond ±2**53 and cannot be stored exactly; "
            "log it as a float or a string"
        )
    if kind is str:
        if "\x00" in value:  # type: ignore[operator]
            raise ValidationError(f"metric {name!r}: string values cannot contain NUL (\\x00)")
        if len(value) > limits.max_string_value_length:  # type: ignore[arg-type]
            raise LimitExceededError(
                f"metric {name!r}: string value is {len(value)} characters long; "  # type: ignore[arg-type]
                f"the limit is {limits.max_string_value_length}"
            )
        return value  # type: ignore[return-value]
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "ndim", None) == 0:
        # A NumPy (or similar) scalar: store the Python value it stands for.
        return normalize_value(name, item(), limits)
    if isinstance(value, (float, int, str)):  # subclasses such as IntEnum
        base = float if isinstance(value, float) else int if isinstance(value, int) else str
        return normalize_value(name, base(value), limits)
    hint = ""
    if isinstance(value, (list, tuple)):
        hint = "; use log_list for a list of numbers"
    elif isinstance(value, Mapping):
        hint = "; use log_row or log_table for columns"
    raise ValidationError(
        f"metric {name!r}: a value must be a number, a bool or a string, "
        f"got {type(value).__name__}{hint}"
    )


def validate_step(name: str, step: object) -> int | None:
    """A step is None (next in order) or a non-negative integer."""
    if step is None:
        return None
    if type(step) is int or (isinstance(step, int) and not isinstance(step, bool)):
        if step < 0:
            raise ValidationError(f"metric {name!r}: step must be >= 0, got {step}")
        if step > 2**62:
            raise LimitExceededError(f"metric {name!r}: step {step} is beyond 2**62")
        return int(step)
    item = getattr(step, "item", None)
    if item is not None and getattr(step, "ndim", None) == 0:
        return validate_step(name, item())
    raise ValidationError(f"metric {name!r}: step must be an integer, got {type(step).__name__}")


def normalize_list(name: str, values: object, limits: Limits) -> list[float | int | bool | str]:
    """Check the values of `log_list`: a sequence (or 1-d array) of metric values."""
    tolist = getattr(values, "tolist", None)
    if tolist is not None:
        values = tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValidationError(
            f"metric {name!r}: log_list takes a list of numbers, got {type(values).__name__}"
        )
    if len(values) > limits.max_list_length:
        raise LimitExceededError(
            f"metric {name!r}: list has {len(values)} values; the limit is {limits.max_list_length}"
        )
    return [normalize_value(name, v, limits) for v in values]


def encode_value(value: object) -> tuple[float | None, str | None, int]:
    """How one point is stored: (number column, text column, ValueType)."""
    kind = type(value)
    if kind is float:
        if value == 0.0 and math.copysign(1.0, value) < 0:
            return 0.0, None, _NEG_ZERO
        return (None if value != value else value), None, _FLOAT  # type: ignore[return-value]
    if kind is int:
        return float(value), None, _INT  # type: ignore[arg-type]
    if kind is bool:
        return float(value), None, _BOOL  # type: ignore[arg-type]
    if kind is str:
        return None, value, _STR  # type: ignore[return-value]
    return None, json.dumps(value, allow_nan=True, separators=(",", ":")), _JSON


def decode_value(number: float | None, text: str | None, vtype: int) -> MetricValue:
    """The value a stored point stands for (the inverse of `encode_value`)."""
    if vtype == _FLOAT:
        return math.nan if number is None else number
    if vtype == _INT:
        return int(number) if number is not None else 0
    if vtype == _BOOL:
        return bool(number)
    if vtype == _STR:
        return text or ""
    if vtype == _NEG_ZERO:
        return -0.0
    decoded: MetricValue = json.loads(text) if text is not None else {}
    return decoded


@dataclass(slots=True)
class PointBatch:
    """Points of one metric (or one column of a table metric) on their way to the store.

    `steps[i] is None` means "the next step": the store numbers it by its position.
    """

    name: str
    kind: MetricKind
    column: str = ""
    description: str = ""
    steps: list[int | None] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class MetricInfo:
    """What the store knows of one metric series without reading its points."""

    name: str
    column: str
    kind: MetricKind
    description: str
    count: int
    last_value: MetricValue | None = None
    last_step: int | None = None
    min_value: float | None = None
    max_value: float | None = None


@dataclass(slots=True)
class MetricSeries:
    """The points of one metric series, in step order."""

    name: str
    column: str
    kind: MetricKind
    description: str
    steps: list[int]
    values: list[MetricValue]
    times: list[float]
    #: Sequence numbers, when the reader asked for them (live streams use them as cursors).
    seqs: list[int] | None = None


def shape_metric(kind: MetricKind, columns: dict[str, list[MetricValue]]) -> Any:
    """What `get_metrics` returns for one metric, by kind, as the Azure SDK shapes it.

    A scalar logged once is the bare value, logged N times a list; a table with one row
    is `{col: value}`, with more `{col: [..]}`; a list is always a list.
    """
    if kind is MetricKind.TABLE:
        if columns and all(len(v) == 1 for v in columns.values()):
            return {c: v[0] for c, v in columns.items()}
        return dict(columns)
    values = columns.get("", [])
    if kind is MetricKind.LIST:
        return list(values)
    return values[0] if len(values) == 1 else list(values)

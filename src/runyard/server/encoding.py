"""JSON answers that keep NaN and ±inf: as the strings "NaN", "Infinity", "-Infinity".

Standard JSON has no such numbers and browsers refuse Python's NaN token, so non-finite
floats travel as strings; the Python client reads metric points in the binary frame.
"""

from __future__ import annotations

import dataclasses
import json
import math
from enum import Enum
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for models (camelCase where they define it), dataclasses and lists."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python", by_alias=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value


def dumps(content: Any) -> bytes:
    """JSON text of `content`, non-finite floats as strings, datetimes ISO-8601."""
    try:
        text = json.dumps(content, allow_nan=False, separators=(",", ":"), default=_default)
    except ValueError:
        text = json.dumps(_finite(content), separators=(",", ":"), default=_default)
    return text.encode()


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


class SafeJSONResponse(JSONResponse):
    """A JSON response that never fails on NaN or infinity."""

    def render(self, content: Any) -> bytes:
        return dumps(to_jsonable(content))

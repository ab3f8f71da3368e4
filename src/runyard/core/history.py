"""A metric's history for a chart: what stores compute and transports carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class History:
    """A metric's points for a chart: raw, or one entry per bucket of consecutive points."""

    count: int
    downsampled: bool
    steps: list[int] = field(default_factory=list)
    #: Raw: the values. Downsampled: each bucket's mean.
    values: list[Any] = field(default_factory=list)
    min: list[float | None] = field(default_factory=list)
    max: list[float | None] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

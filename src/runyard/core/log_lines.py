"""A line of a run's log, as the store keeps it and every transport hands it out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class LogLine:
    """One line of one stream of a run."""

    stream: str
    seq: int
    time: float
    line: str

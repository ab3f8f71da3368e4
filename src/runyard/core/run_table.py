"""The runs table's query and answer: one page of runs, sorted and filtered by any column,
with summaries of chosen metrics and counts of children by status (no request per row)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runyard.core.entities import RunDocument, RunError
from runyard.core.status import Status

#: Sort keys that name a column of the run itself.
RUN_SORT_KEYS = frozenset(
    {
        "created",
        "number",
        "name",
        "run_id",
        "status",
        "duration",
        "start",
        "end",
        "target",
        "submitted_by",
    }
)
METRIC_AGGREGATES = ("last", "min", "max")
_SORT = re.compile(r"(tag|property):(?P<key>.+)|metric:(?P<metric>.+):(?P<agg>last|min|max)", re.S)
MAX_TABLE_METRICS = 20


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_sort(sort: str) -> tuple[str, str, str]:
    """(`run` | `tag` | `property` | `metric`, key or metric name, aggregate) of a sort key."""
    if sort in RUN_SORT_KEYS:
        return "run", sort, ""
    found = _SORT.fullmatch(sort)
    if found is None:
        raise ValueError(
            f"cannot sort by {sort!r}: use one of {', '.join(sorted(RUN_SORT_KEYS))}, "
            "tag:<key>, property:<key> or metric:<name>:last|min|max"
        )
    if found.group("metric") is not None:
        return "metric", found.group("metric"), found.group("agg")
    return found.group(1), found.group("key"), ""


class RunTableQuery(_Query):
    """Which runs of an experiment the table shows, in which order, and which page."""

    experiment: str = Field(min_length=1, max_length=255)
    #: Only the direct children of this run (filters other than paging/sort are ignored).
    parent: str | None = Field(default=None, max_length=255)
    #: Without a parent: only runs that have none (the tree's roots).
    roots_only: bool = True
    status: list[Status] = Field(default_factory=list, max_length=20)
    #: key -> value must match exactly; key -> None: has the tag, any value.
    tags: dict[str, str | None] = Field(default_factory=dict, max_length=50)
    properties: dict[str, str | None] = Field(default_factory=dict, max_length=50)
    submitted_by: list[str] = Field(default_factory=list, max_length=100)
    #: Case-insensitive substring of the display name, run id or description.
    text: str | None = Field(default=None, max_length=500)
    #: Scalar metrics whose last/min/max each row carries.
    metrics: list[str] = Field(default_factory=list, max_length=MAX_TABLE_METRICS)
    sort: str = "created"
    descending: bool = True
    offset: int = Field(default=0, ge=0, le=10_000_000)
    limit: int = Field(default=100, ge=1, le=1000)
    #: Count every matching run (for the scrollbar); later pages of a scroll can skip it.
    with_total: bool = True

    @field_validator("sort")
    @classmethod
    def _known_sort(cls, value: str) -> str:
        parse_sort(value)
        return value


class MetricSummary(BaseModel):
    """The last, lowest and highest value of a run's scalar metric."""

    last: Any = None
    min: float | None = None
    max: float | None = None
    last_step: int | None = None
    count: int = 0


class ChildCounts(BaseModel):
    """How many children a run has, by status."""

    total: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)


class RunTableRow(BaseModel):
    """One row of the runs table."""

    run: RunDocument
    metrics: dict[str, MetricSummary] = Field(default_factory=dict)
    children: ChildCounts = Field(default_factory=ChildCounts)


class RunTablePage(BaseModel):
    """One page of rows and how many rows match in all."""

    #: Runs matching the filter (None when the query asked not to count).
    total: int | None
    offset: int
    rows: list[RunTableRow]


class TableValuesQuery(_Query):
    """Distinct values of a field across an experiment's runs (for pickers)."""

    experiment: str = Field(min_length=1, max_length=255)
    field: str = Field(min_length=1, max_length=300)

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value in ("submitted_by", "target", "tag_keys", "property_keys", "metric_names"):
            return value
        if value.startswith(("tag:", "property:")) and value.split(":", 1)[1]:
            return value
        raise ValueError(
            f"unknown field {value!r}: use submitted_by, target, tag_keys, property_keys, "
            "metric_names, tag:<key> or property:<key>"
        )


class TableValues(BaseModel):
    """Distinct values, sorted, at most 1000."""

    values: list[str]


class RunState(BaseModel):
    """A run's status and times: what the runs table's live stream sends on a change."""

    run_id: str
    parent_run_id: str | None
    status: Status
    start_time_utc: datetime | None = None
    end_time_utc: datetime | None = None
    error: RunError | None = None

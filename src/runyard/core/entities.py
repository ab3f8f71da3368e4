"""The entities runyard stores, and the one JSON document form of a run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from runyard.core.status import Status


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (what every stored timestamp is)."""
    return datetime.now(UTC)


class _Document(BaseModel):
    """Models that serialise with Azure's camelCase field names (runId, startTimeUtc, …)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, use_enum_values=False
    )

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON form users see: camelCase names, ISO-8601 times."""
        return self.model_dump(mode="json", by_alias=True)


class ExperimentInfo(_Document):
    """An experiment: a named group of runs."""

    experiment_id: int
    name: str
    created_utc: datetime
    archived: bool = False
    run_count: int = 0
    active_run_count: int = 0
    last_activity_utc: datetime | None = None
    #: Experiment tags (MLflow's; runyard's SDK reads them too).
    tags: dict[str, str] = Field(default_factory=dict)


class RunError(_Document):
    """Why a run failed, as `fail(error_details, error_code)` or the runner recorded it."""

    code: str = "UserError"
    message: str = ""


class RunDocument(_Document):
    """Everything known about a run except its metrics and files.

    This is what `get_details()` returns, what `runyard run show` prints and what
    JMESPath queries run over; the field names are Azure's run document's.
    """

    run_id: str
    run_number: int
    experiment_name: str
    experiment_id: int
    display_name: str | None = None
    description: str | None = None
    status: Status = Status.NOT_STARTED
    target: str = "local"
    run_type: str = "interactive"
    parent_run_id: str | None = None
    root_run_id: str | None = None
    created_utc: datetime
    start_time_utc: datetime | None = None
    end_time_utc: datetime | None = None
    submitted_by: str | None = None
    tags: dict[str, str | None] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    run_definition: dict[str, Any] = Field(default_factory=dict)
    log_files: dict[str, str] = Field(default_factory=dict)
    error: RunError | None = None
    #: Azure's dataset lineage; runyard has no datasets, so these are always empty lists
    #: (present because v1 code reads `details["inputDatasets"]`).
    input_datasets: list[dict[str, Any]] = Field(default_factory=list)
    output_datasets: list[dict[str, Any]] = Field(default_factory=list)
    #: When the run was deleted (MLflow's lifecycle stage "deleted"); deleted runs are kept,
    #: left out of searches unless asked for, and can be restored.
    deleted_utc: datetime | None = None


class NewRun(BaseModel):
    """What a caller gives to create a run; the store assigns the number and times."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    experiment_name: str
    parent_run_id: str | None = None
    status: Status = Status.NOT_STARTED
    display_name: str | None = None
    description: str | None = None
    target: str = "local"
    run_type: str = "interactive"
    submitted_by: str | None = None
    tags: dict[str, str | None] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    run_definition: dict[str, Any] = Field(default_factory=dict)


class MetricCondition(BaseModel):
    """A condition on the last value of a scalar metric, e.g. `accuracy > 0.9`."""

    model_config = ConfigDict(frozen=True)

    name: str
    op: Literal["<", "<=", ">", ">=", "=", "!="]
    value: float


class RunInput(BaseModel):
    """A dataset a run read (MLflow's DatasetInput): the dataset's fields as given (name,
    digest, source_type, source, schema, profile) and the input's tags."""

    model_config = ConfigDict(frozen=True)

    name: str
    digest: str
    dataset: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def context(self) -> str | None:
        """The input's `mlflow.data.context` tag ("training", "eval"...): searches use it."""
        return self.tags.get("mlflow.data.context")


@dataclass(frozen=True, slots=True)
class LatestPoint:
    """A scalar metric's latest point as MLflow defines it (highest step, then latest time).
    A plain dataclass: a search page builds a thousand of them from trusted rows."""

    name: str
    step: int
    value: float | int | bool
    time: float


RunSection = Literal["metric", "param", "tag", "attribute", "dataset"]
RunConditionOp = Literal[
    "<", "<=", ">", ">=", "=", "!=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]
#: The run fields a condition or an order may name in the "attribute" section (times in
#: seconds since the epoch; `start_time` falls back to the creation time as documents do).
RUN_ATTRIBUTES = (
    "run_id",
    "display_name",
    "status",
    "submitted_by",
    "description",
    "parent_run_id",
    "experiment_id",
    "start_time",
    "end_time",
    "deleted",
)
#: The dataset fields a condition may name in the "dataset" section.
DATASET_FIELDS = ("name", "digest", "context")


class RunCondition(BaseModel):
    """One comparison of a search: a metric's latest value (highest step, then latest time),
    a param, a tag, a run attribute or an input dataset's field against a value.

    `value` is a number for metrics and numeric attributes, a tuple for IN / NOT IN, text
    otherwise, and unused for IS NULL / IS NOT NULL. LIKE patterns use SQL's % and _.
    """

    model_config = ConfigDict(frozen=True)

    section: RunSection
    key: str
    op: RunConditionOp
    value: float | str | tuple[str, ...] | None = None


class RunOrder(BaseModel):
    """One sort term of a search: a metric's latest value, a param, a tag or an attribute.
    Runs without the value come last in either direction."""

    model_config = ConfigDict(frozen=True)

    section: Literal["metric", "param", "tag", "attribute"]
    key: str
    ascending: bool = True


class RunFilter(BaseModel):
    """Which runs a search returns. Every field narrows; None means "any"."""

    model_config = ConfigDict(frozen=True)

    experiment_name: str | None = None
    #: key -> value must match; key -> None means "has this tag, any value".
    tags: dict[str, str | None] = Field(default_factory=dict)
    properties: dict[str, str | None] = Field(default_factory=dict)
    status: Status | None = None
    parent_run_id: str | None = None
    #: With a parent: the whole subtree instead of the direct children.
    recursive: bool = False
    #: Without a parent: also runs that have one.
    include_children: bool = False
    #: Conditions on the last logged value of scalar metrics; all must hold.
    metrics: tuple[MetricCondition, ...] = ()
    #: Order by the last value of this scalar metric (runs without it come last).
    order_by_metric: str | None = None
    ascending: bool = False
    #: Several experiments at once (by id), beside or instead of `experiment_name`.
    experiment_ids: tuple[int, ...] = ()
    #: Deleted runs are left out unless asked for: "deleted" only, or "all".
    lifecycle: Literal["active", "deleted", "all"] = "active"
    #: MLflow-grade conditions, all of which must hold.
    conditions: tuple[RunCondition, ...] = ()
    #: Sort terms; with any, pages are offsets and the order ends with start time (newest
    #: first) then run id, as MLflow's does.
    order: tuple[RunOrder, ...] = ()


def run_changes(
    display_name: str | None, description: str | None, run_definition: dict[str, Any] | None
) -> dict[str, Any]:
    """The descriptive fields an update sets: those given (None means "leave as it is")."""
    given = {
        "display_name": display_name,
        "description": description,
        "run_definition": run_definition,
    }
    return {k: v for k, v in given.items() if v is not None}


def validate_new_run(new: NewRun, limits: Any) -> NewRun:
    """Check a run to create against the names rules and limits; returns it with tags,
    properties and texts checked (the server calls this on everything a client sends)."""
    from runyard.core.limits import check_length
    from runyard.core.names import validate_experiment_name, validate_run_id
    from runyard.core.tags import validate_properties, validate_tags

    validate_run_id(new.run_id)
    validate_experiment_name(new.experiment_name, limits.max_experiment_name_length)
    if new.parent_run_id is not None:
        validate_run_id(new.parent_run_id)
    if new.display_name is not None:
        check_length("display name", new.display_name, limits.max_display_name_length)
    if new.description is not None:
        check_length(
            "description", new.description, limits.max_description_length, allow_empty=True
        )
    check_length("target", new.target, 255)
    check_length("run type", new.run_type, 64)
    if new.submitted_by is not None:
        check_length("submitted by", new.submitted_by, 255, allow_empty=True)
    return new.model_copy(
        update={
            "tags": validate_tags(new.tags, limits),
            "properties": validate_properties(new.properties, limits),
        }
    )

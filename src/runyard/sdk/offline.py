"""The offline run: what `Run.get_context()` returns outside a submitted script.

It checks and prints what is logged (as the Azure SDK's offline run does) and keeps it in
memory, so a training script runs unchanged on a laptop with nothing set up.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from runyard.core.errors import ImmutablePropertyError, RunyardError
from runyard.core.limits import Limits
from runyard.core.metrics import (
    MetricKind,
    shape_metric,
)
from runyard.core.status import Status, check_transition
from runyard.core.tags import validate_properties, validate_tags
from runyard.sdk.metric_checks import MetricChecks


class OfflineRun:
    """A run that is not stored anywhere: logging calls are checked, printed and remembered."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.id = f"OfflineRun_{uuid.uuid4()}"
        self.number = 0
        self.parent: OfflineRun | None = None
        self._limits = limits or Limits.from_env()
        self._checks = MetricChecks(self._limits)
        self._status = Status.RUNNING
        self._metrics: dict[str, tuple[MetricKind, dict[str, list[Any]]]] = {}
        self._tags: dict[str, str | None] = {}
        self._properties: dict[str, str] = {}

    @property
    def experiment(self) -> Any:
        """An offline run has no experiment: this says how to get one."""
        raise RunyardError(
            "an offline run has no experiment or workspace; submit the script with "
            "exp.submit(ScriptRunConfig(...)) or use exp.start_logging()"
        )

    def _append(self, kind: MetricKind, name: str, column: str, values: list[Any]) -> None:
        self._checks.claim(name, kind)
        self._metrics.setdefault(name, (kind, {}))[1].setdefault(column, []).extend(values)

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Check and print a scalar."""
        name, value, _ = self._checks.scalar(name, value, description, step)
        self._append(MetricKind.SCALAR, name, "", [value])
        print(f"Attempted to log scalar metric {name}:\n{value}")

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Check and print a list."""
        name, values, _ = self._checks.list_values(name, value, description)
        self._append(MetricKind.LIST, name, "", values)
        print(f"Attempted to log list metric {name}:\n{values}")

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Check and print a table row."""
        name, columns, _ = self._checks.row(name, kwargs, description)
        self._append_columns(name, columns, "row")

    def log_table(self, name: str, value: Mapping[str, Any], description: str = "") -> None:
        """Check and print a table."""
        name, columns, _ = self._checks.table(name, value, description)
        self._append_columns(name, columns, "table")

    def _append_columns(self, name: str, columns: dict[str, list[Any]], call: str) -> None:
        for column, values in columns.items():
            self._append(MetricKind.TABLE, name, column, values)
        print(f"Attempted to log {call} metric {name}:\n{columns}")

    def log_image(
        self, name: str, path: str | None = None, plot: Any = None, description: str = ""
    ) -> None:
        """Print that an image would have been logged."""
        name, source, _ = self._checks.image(name, path, plot, description)
        reference = str(source) if source is not None else "<plot>"
        self._append(MetricKind.IMAGE, name, "", [reference])
        print(f"Attempted to log image metric {name}:\n{reference}")

    def _structured(self, kind: MetricKind, name: str, value: Any, description: str) -> None:
        name, checked, _ = self._checks.structured(kind, name, value, description)
        self._append(kind, name, "", [checked])
        print(f"Attempted to log {kind.value} metric {name}:\n{checked}")

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        """Check and print a confusion matrix."""
        self._structured(MetricKind.CONFUSION_MATRIX, name, value, description)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        """Check and print an accuracy table."""
        self._structured(MetricKind.ACCURACY_TABLE, name, value, description)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        """Check and print residuals."""
        self._structured(MetricKind.RESIDUALS, name, value, description)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        """Check and print predictions."""
        self._structured(MetricKind.PREDICTIONS, name, value, description)

    def get_metrics(
        self, name: str | None = None, recursive: bool = False, **_kwargs: Any
    ) -> dict[str, Any]:
        """What was logged in this process, shaped as a stored run's metrics are."""
        return {
            n: shape_metric(kind, columns)
            for n, (kind, columns) in self._metrics.items()
            if name is None or n == name
        }

    def tag(self, key: str, value: object = None) -> None:
        """Remember a tag."""
        self._tags.update(validate_tags({key: value}, self._limits))

    def set_tags(self, tags: dict[str, object]) -> None:
        """Remember several tags."""
        self._tags.update(validate_tags(tags, self._limits))

    def get_tags(self) -> dict[str, str | None]:
        """The tags set so far."""
        return dict(self._tags)

    def add_properties(self, properties: dict[str, object]) -> None:
        """Remember properties; they are write-once here too."""
        checked = validate_properties(properties, self._limits)
        for key, value in checked.items():
            if key in self._properties and self._properties[key] != value:
                raise ImmutablePropertyError(
                    f"property {key!r} is already {self._properties[key]!r}"
                )
        self._properties.update(checked)

    def get_properties(self) -> dict[str, str]:
        """The properties added so far."""
        return dict(self._properties)

    def get_status(self) -> str:
        """Running until completed, failed or canceled."""
        return self._status.value

    def _move(self, status: Status) -> None:
        if check_transition(self._status, status):
            self._status = status

    def complete(self, _set_status: bool = True) -> None:
        """Mark Completed."""
        self._move(Status.COMPLETED)

    def fail(
        self, error_details: object = None, error_code: str | None = None, _set_status: bool = True
    ) -> None:
        """Mark Failed."""
        self._move(Status.FAILED)

    def cancel(self) -> None:
        """Mark Canceled."""
        self._move(Status.CANCELED)

    def flush(self, timeout_seconds: float | None = None) -> int:
        """Nothing is queued offline."""
        return 0

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: str | None = None) -> str:
        """Print that a file would have been uploaded."""
        print(f"Attempted to upload file {name}")
        return name

    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: str | None = None
    ) -> OfflineRun:
        """Another offline run, whose parent is this one."""
        child = OfflineRun(self._limits)
        child.parent = self
        return child

    def __enter__(self) -> OfflineRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._status.is_terminal:
            self._move(Status.FAILED if exc is not None else Status.COMPLETED)

    def __repr__(self) -> str:
        return f"OfflineRun(Id: {self.id}, Status: {self._status.value})"

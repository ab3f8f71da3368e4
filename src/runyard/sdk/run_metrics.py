"""The logging half of Run: every `log*` call and `get_metrics`.

A logging call checks its arguments at once (so a bad value fails where it was logged)
and queues the point; it never waits on the store.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.metrics import (
    MetricKind,
    MetricValue,
    PointBatch,
    normalize_list,
    normalize_value,
    row_columns,
    shape_metric,
    validate_metric_name,
    validate_step,
)
from runyard.core.structured import validate_structured

if TYPE_CHECKING:
    from runyard.client.base import Transport
    from runyard.client.pipeline import LoggingPipeline
    from runyard.core.limits import Limits

_now = time.time
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".svg", ".webp", ".tif", ".tiff")


def _image_file_stem(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._")
    return safe[:80] or "image"


class MetricLogging:
    """Mixin of Run holding the metric API; Run provides the attributes declared here."""

    _id: str
    _limits: Limits
    _pipeline: LoggingPipeline
    _transport: Transport
    _kinds: dict[str, MetricKind]
    _scalar_names: set[str]

    def _artifact_prefix(self) -> str:
        raise NotImplementedError

    def _flush_for_read(self) -> None:
        raise NotImplementedError

    # Checks shared by every kind
    def _check_name(self, name: object, kind: MetricKind) -> str:
        """A valid name not already used for another kind (claimed only once logged)."""
        known = self._kinds.get(name)  # type: ignore[call-overload]
        if known is None:
            return validate_metric_name(name, self._limits)
        if known is not kind:
            raise ValidationError(
                f"metric {name!r} was logged as {known.value}; it cannot also be logged as "
                f"{kind.value} (use another name)"
            )
        return name  # type: ignore[return-value]

    def _check_description(self, description: object) -> str:
        if description is None:
            return ""
        if not isinstance(description, str):
            raise ValidationError(f"description must be a string, got {type(description).__name__}")
        if len(description) > self._limits.max_description_length:
            raise LimitExceededError(
                f"description is {len(description)} characters long; the limit is "
                f"{self._limits.max_description_length}"
            )
        return description

    def _queue(
        self, kind: MetricKind, name: str, description: str, values: list[Any], column: str = ""
    ) -> None:
        self._kinds[name] = kind  # every check passed: the name is this kind's from now on
        n = len(values)
        batch = PointBatch(name, kind, column, description, [None] * n, values, [_now()] * n)
        self._pipeline.enqueue_batch(self._id, batch)

    # The calls of spec §2
    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log a scalar (number, bool or string); logged again under a name it is a series."""
        pipeline = self._pipeline
        if pipeline.failed:
            pipeline.raise_errors(self._id)
        if type(value) is not float or step is not None or name not in self._scalar_names:
            value, step = self._checked_scalar(name, value, description, step)
        queue = pipeline.queue
        queue.append((self._id, name, value, step, _now(), description))
        if len(queue) > pipeline.max_pending:
            pipeline.relieve()

    def _checked_scalar(
        self, name: str, value: Any, description: str, step: object
    ) -> tuple[Any, int | None]:
        name = self._check_name(name, MetricKind.SCALAR)
        self._check_description(description)
        checked = normalize_value(name, value, self._limits), validate_step(name, step)
        self._kinds[name] = MetricKind.SCALAR
        self._scalar_names.add(name)
        return checked

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Log a list of numbers (appended to what was logged under the name before)."""
        self._pipeline.raise_errors(self._id)
        name = self._check_name(name, MetricKind.LIST)
        values = normalize_list(name, value, self._limits)
        self._queue(MetricKind.LIST, name, self._check_description(description), values)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Append one row to a table metric: `log_row("Cosine Wave", angle=0.5, cos=0.88)`."""
        self._pipeline.raise_errors(self._id)
        self._log_columns(name, description, row_columns(kwargs), "log_row")

    def log_table(self, name: str, value: Mapping[str, Any], description: str = "") -> None:
        """Log a whole table given as `{column: [values]}`, columns of equal length."""
        self._pipeline.raise_errors(self._id)
        if not isinstance(value, Mapping):
            raise ValidationError(
                f"metric {name!r}: log_table takes a dict of column -> list, "
                f"got {type(value).__name__}"
            )
        self._log_columns(name, description, dict(value), "log_table")

    def _log_columns(
        self, name: str, description: str | None, columns: dict[str, Any], call: str
    ) -> None:
        name = self._check_name(name, MetricKind.TABLE)
        description = self._check_description(description)
        if not columns:
            raise ValidationError(f"metric {name!r}: {call} needs at least one column")
        if len(columns) > self._limits.max_columns_per_row:
            raise LimitExceededError(
                f"metric {name!r}: {len(columns)} columns given; the limit is "
                f"{self._limits.max_columns_per_row}"
            )
        checked: dict[str, list[Any]] = {}
        for column, values in columns.items():
            column = validate_metric_name(column, self._limits, "column name")
            checked[column] = normalize_list(f"{name}.{column}", values, self._limits, call)
        lengths = {len(v) for v in checked.values()}
        if len(lengths) > 1:
            raise ValidationError(
                f"metric {name!r}: columns must be of equal length, got "
                + ", ".join(f"{c}={len(v)}" for c, v in checked.items())
            )
        for column, values in checked.items():
            self._queue(MetricKind.TABLE, name, description, values, column)

    def log_image(
        self, name: str, path: str | None = None, plot: Any = None, description: str = ""
    ) -> None:
        """Log an image file or a matplotlib figure (either `path` or `plot`, not both)."""
        self._pipeline.raise_errors(self._id)
        name = self._check_name(name, MetricKind.IMAGE)
        description = self._check_description(description)
        if (path is None) == (plot is None):
            raise ValidationError(f"log_image {name!r}: give either path= or plot=, not both")
        stem = f"images/{_image_file_stem(name)}_{uuid.uuid4().hex[:8]}"
        if path is not None:
            source = Path(path)
            if not source.is_file():
                raise ValidationError(f"log_image {name!r}: no image file at {str(path)!r}")
            suffix = source.suffix.lower()
            if suffix not in IMAGE_SUFFIXES:
                raise ValidationError(
                    f"log_image {name!r}: {source.name!r} is not an image; allowed: "
                    + ", ".join(IMAGE_SUFFIXES)
                )
            stored = self._transport.files.put_file(self._artifact_prefix(), stem + suffix, source)
        else:
            savefig = getattr(plot, "savefig", None)
            if savefig is None:
                raise ValidationError(
                    f"log_image {name!r}: plot must be a matplotlib figure (or pyplot), "
                    f"got {type(plot).__name__}"
                )
            buffer = io.BytesIO()
            savefig(buffer, format="png")
            stored = self._transport.files.put_bytes(
                self._artifact_prefix(), stem + ".png", buffer.getvalue()
            )
        self._queue(MetricKind.IMAGE, name, description, [stored])

    def _log_structured(self, kind: MetricKind, name: str, value: Any, description: str) -> None:
        self._pipeline.raise_errors(self._id)
        name = self._check_name(name, kind)
        description = self._check_description(description)
        checked = validate_structured(name, kind, value, self._limits)
        self._queue(kind, name, description, [checked])

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        """Log a confusion matrix: `{"schema_type": "confusion_matrix", "data": {...}}`."""
        self._log_structured(MetricKind.CONFUSION_MATRIX, name, value, description)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        """Log an accuracy table (probability and percentile tables per class)."""
        self._log_structured(MetricKind.ACCURACY_TABLE, name, value, description)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        """Log residuals of a regression as a histogram (bin_edges, bin_counts)."""
        self._log_structured(MetricKind.RESIDUALS, name, value, description)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        """Log predicted versus true values of a regression, binned."""
        self._log_structured(MetricKind.PREDICTIONS, name, value, description)

    def get_metrics(
        self,
        name: str | None = None,
        recursive: bool = False,
        run_type: str | None = None,
        populate: bool = False,
    ) -> dict[str, Any]:
        """The run's metrics by name, shaped by kind (see spec §2); `recursive` adds children.

        Everything this process logged before the call is included.
        """
        self._flush_for_read()
        series = self._transport.store.get_metric_series(
            self._id, None if name is None else [name], values_only=True
        )
        grouped: dict[str, tuple[MetricKind, dict[str, list[MetricValue]]]] = {}
        for s in series:
            grouped.setdefault(s.name, (s.kind, {}))[1][s.column] = s.values
        metrics = {n: shape_metric(kind, columns) for n, (kind, columns) in grouped.items()}
        if not recursive:
            return metrics
        result = {self._id: metrics}
        for child in self.get_children(recursive=True):  # type: ignore[attr-defined]
            result[child.id] = child.get_metrics(name)
        return result

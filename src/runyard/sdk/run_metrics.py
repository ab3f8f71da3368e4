"""The logging half of Run: every `log*` call and `get_metrics`.

A logging call checks its arguments at once (so a bad value fails where it was logged)
and queues the point; it never waits on the store.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from runyard.core.metrics import (
    MetricKind,
    MetricValue,
    PointBatch,
    shape_metric,
)
from runyard.sdk.metric_checks import MetricChecks

if TYPE_CHECKING:
    from runyard.client.base import Transport
    from runyard.client.pipeline import LoggingPipeline
    from runyard.core.limits import Limits

_now = time.time


def _image_file_stem(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._")
    return safe[:80] or "image"


class MetricLogging:
    """Mixin of Run holding the metric API; Run provides the attributes declared here."""

    _id: str
    _limits: Limits
    _pipeline: LoggingPipeline
    _transport: Transport
    _checks: MetricChecks
    _scalar_names: set[str]

    def _artifact_prefix(self) -> str:
        raise NotImplementedError

    def _flush_for_read(self) -> None:
        raise NotImplementedError

    def _queue(
        self, kind: MetricKind, name: str, description: str, values: list[Any], column: str = ""
    ) -> None:
        self._checks.claim(name, kind)
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
        # LoggingPipeline.enqueue_scalar, inlined: a call costs more than the rest of log.
        queue = pipeline.queue
        queue.append((self._id, name, value, step, _now(), description))
        if len(queue) > pipeline.room:
            pipeline.relieve()

    def _checked_scalar(
        self, name: str, value: Any, description: str, step: object
    ) -> tuple[Any, int | None]:
        _, checked, checked_step = self._checks.scalar(name, value, description, step)
        return checked, checked_step

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Log a list of numbers (appended to what was logged under the name before)."""
        self._pipeline.raise_errors(self._id)
        name, values, description = self._checks.list_values(name, value, description)
        self._queue(MetricKind.LIST, name, description, values)

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Append one row to a table metric: `log_row("Cosine Wave", angle=0.5, cos=0.88)`."""
        self._pipeline.raise_errors(self._id)
        self._queue_columns(*self._checks.row(name, kwargs, description))

    def log_table(self, name: str, value: Mapping[str, Any], description: str = "") -> None:
        """Log a whole table given as `{column: [values]}`, columns of equal length."""
        self._pipeline.raise_errors(self._id)
        self._queue_columns(*self._checks.table(name, value, description))

    def _queue_columns(self, name: str, columns: dict[str, list[Any]], description: str) -> None:
        for column, values in columns.items():
            self._queue(MetricKind.TABLE, name, description, values, column)

    def log_image(
        self, name: str, path: str | None = None, plot: Any = None, description: str = ""
    ) -> None:
        """Log an image file or a matplotlib figure (either `path` or `plot`, not both)."""
        self._pipeline.raise_errors(self._id)
        name, source, description = self._checks.image(name, path, plot, description)
        stem = f"images/{_image_file_stem(name)}_{uuid.uuid4().hex[:8]}"
        files = self._transport.files
        if source is not None:
            stored = files.put_file(self._artifact_prefix(), stem + source.suffix.lower(), source)
        else:
            buffer = io.BytesIO()
            plot.savefig(buffer, format="png")
            stored = files.put_bytes(self._artifact_prefix(), stem + ".png", buffer.getvalue())
        self._queue(MetricKind.IMAGE, name, description, [stored])

    def _log_structured(self, kind: MetricKind, name: str, value: Any, description: str) -> None:
        self._pipeline.raise_errors(self._id)
        name, checked, description = self._checks.structured(kind, name, value, description)
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

"""The checks of every metric call (`log`, `log_list`, `log_row`, `log_table`, `log_image`,
the structured kinds), shared by `Run` and `OfflineRun` so the two cannot drift apart: a
script that passes offline passes when submitted, and fails the same way when it fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits
from runyard.core.metrics import (
    MetricKind,
    normalize_list,
    normalize_value,
    validate_metric_name,
    validate_step,
)
from runyard.core.structured import validate_structured

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".svg", ".webp", ".tif", ".tiff")


class MetricChecks:
    """Checks the arguments of metric calls and remembers which kind each name was logged as."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        #: Name -> the kind it was first logged as (a name keeps its kind).
        self.kinds: dict[str, MetricKind] = {}
        #: Names already logged as scalars: `Run.log`'s fast path skips the name check.
        self.scalar_names: set[str] = set()

    def claim(self, name: str, kind: MetricKind) -> None:
        """Every check passed: the name is this kind's from now on."""
        self.kinds[name] = kind

    def name(self, name: object, kind: MetricKind) -> str:
        """A valid name not already used for another kind (claimed only once logged)."""
        known = self.kinds.get(name)  # type: ignore[call-overload]
        if known is None:
            return validate_metric_name(name, self.limits)
        if known is not kind:
            raise ValidationError(
                f"metric {name!r} was logged as {known.value}; it cannot also be logged as "
                f"{kind.value} (use another name)"
            )
        return name  # type: ignore[return-value]

    def description(self, description: object) -> str:
        """A description: a string within the limit; None is none."""
        if description is None:
            return ""
        if not isinstance(description, str):
            raise ValidationError(f"description must be a string, got {type(description).__name__}")
        if len(description) > self.limits.max_description_length:
            raise LimitExceededError(
                f"description is {len(description)} characters long; the limit is "
                f"{self.limits.max_description_length}"
            )
        return description

    def scalar(
        self, name: str, value: Any, description: object, step: object
    ) -> tuple[str, Any, int | None]:
        """(name, value, step) of a `log` call, checked; claims the name as a scalar."""
        name = self.name(name, MetricKind.SCALAR)
        self.description(description)
        checked = normalize_value(name, value, self.limits)
        checked_step = validate_step(name, step)
        self.claim(name, MetricKind.SCALAR)
        self.scalar_names.add(name)
        return name, checked, checked_step

    def list_values(self, name: str, value: Any, description: object) -> tuple[str, list[Any], str]:
        """(name, values, description) of a `log_list` call."""
        name = self.name(name, MetricKind.LIST)
        values = normalize_list(name, value, self.limits)
        return name, values, self.description(description)

    def table(
        self, name: str, value: object, description: object
    ) -> tuple[str, dict[str, list[Any]], str]:
        """(name, columns, description) of a `log_table` call: `{column: [values]}`."""
        if not isinstance(value, Mapping):
            raise ValidationError(
                f"metric {name!r}: log_table takes a dict of column -> list, "
                f"got {type(value).__name__}"
            )
        return self.columns(name, dict(value), description, "log_table")

    def row(
        self, name: str, cells: Mapping[str, Any], description: object
    ) -> tuple[str, dict[str, list[Any]], str]:
        """(name, columns of one value each, description) of a `log_row` call."""
        return self.columns(name, {k: [v] for k, v in cells.items()}, description, "log_row")

    def columns(
        self, name: str, columns: dict[str, Any], description: object, call: str
    ) -> tuple[str, dict[str, list[Any]], str]:
        """Columns of a table metric: at least one, at most the limit, of equal length."""
        name = self.name(name, MetricKind.TABLE)
        checked_description = self.description(description)
        if not columns:
            raise ValidationError(f"metric {name!r}: {call} needs at least one column")
        if len(columns) > self.limits.max_columns_per_row:
            raise LimitExceededError(
                f"metric {name!r}: {len(columns)} columns given; the limit is "
                f"{self.limits.max_columns_per_row}"
            )
        checked: dict[str, list[Any]] = {}
        for column, values in columns.items():
            column = validate_metric_name(column, self.limits, "column name")
            checked[column] = normalize_list(f"{name}.{column}", values, self.limits)
        lengths = {len(v) for v in checked.values()}
        if len(lengths) > 1:
            raise ValidationError(
                f"metric {name!r}: columns must be of equal length, got "
                + ", ".join(f"{c}={len(v)}" for c, v in checked.items())
            )
        return name, checked, checked_description

    def image(
        self, name: str, path: str | None, plot: Any, description: object
    ) -> tuple[str, Path | None, str]:
        """(name, image file or None for a plot, description) of a `log_image` call."""
        name = self.name(name, MetricKind.IMAGE)
        checked_description = self.description(description)
        if (path is None) == (plot is None):
            raise ValidationError(f"log_image {name!r}: give either path= or plot=, not both")
        if path is None:
            if getattr(plot, "savefig", None) is None:
                raise ValidationError(
                    f"log_image {name!r}: plot must be a matplotlib figure (or pyplot), "
                    f"got {type(plot).__name__}"
                )
            return name, None, checked_description
        source = Path(path)
        if not source.is_file():
            raise ValidationError(f"log_image {name!r}: no image file at {str(path)!r}")
        if source.suffix.lower() not in IMAGE_SUFFIXES:
            raise ValidationError(
                f"log_image {name!r}: {source.name!r} is not an image; allowed: "
                + ", ".join(IMAGE_SUFFIXES)
            )
        return name, source, checked_description

    def structured(
        self, kind: MetricKind, name: str, value: Any, description: object
    ) -> tuple[str, Any, str]:
        """(name, value, description) of a confusion matrix, accuracy table, residuals or
        predictions."""
        name = self.name(name, kind)
        checked_description = self.description(description)
        return name, validate_structured(name, kind, value, self.limits), checked_description

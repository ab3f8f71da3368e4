"""The structured JSON metrics (confusion matrix, accuracy table, residuals, predictions).

Their shapes are the Azure ML ones: `{"schema_type", "schema_version", "data": {...}}`.
A value is checked here so that a malformed one fails at the call that logged it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import ValidationError as PydanticValidationError

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits
from runyard.core.metrics import MetricKind

Number = float | int


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")


class ConfusionMatrixData(_Data):
    class_labels: list[str | int | float | bool]
    matrix: list[list[Number]]

    @model_validator(mode="after")
    def _square(self) -> ConfusionMatrixData:
        n = len(self.class_labels)
        if len(self.matrix) != n or any(len(row) != n for row in self.matrix):
            raise ValueError(f"matrix must be {n} x {n} (one row and column per class label)")
        return self


class AccuracyTableData(_Data):
    class_labels: list[str | int | float | bool]
    probability_tables: list[list[list[Number]]]
    percentile_tables: list[list[list[Number]]]
    probability_thresholds: list[Number]
    percentile_thresholds: list[Number]

    @model_validator(mode="after")
    def _one_table_per_class(self) -> AccuracyTableData:
        n = len(self.class_labels)
        if len(self.probability_tables) != n or len(self.percentile_tables) != n:
            raise ValueError("there must be one probability and one percentile table per class")
        return self


class ResidualsData(_Data):
    bin_edges: list[Number]
    bin_counts: list[Number]

    @model_validator(mode="after")
    def _edges(self) -> ResidualsData:
        if len(self.bin_edges) != len(self.bin_counts) + 1:
            raise ValueError("bin_edges must have one more value than bin_counts")
        return self


class PredictionsData(_Data):
    bin_averages: list[Number]
    bin_errors: list[Number]
    bin_counts: list[Number]
    bin_edges: list[Number]

    @model_validator(mode="after")
    def _edges(self) -> PredictionsData:
        n = len(self.bin_counts)
        if len(self.bin_averages) != n or len(self.bin_errors) != n:
            raise ValueError("bin_averages, bin_errors and bin_counts must be of equal length")
        if len(self.bin_edges) != n + 1:
            raise ValueError("bin_edges must have one more value than bin_counts")
        return self


_SCHEMAS: dict[MetricKind, tuple[type[_Data], str]] = {
    MetricKind.CONFUSION_MATRIX: (ConfusionMatrixData, "1.0.0"),
    MetricKind.ACCURACY_TABLE: (AccuracyTableData, "1.0.1"),
    MetricKind.RESIDUALS: (ResidualsData, "1.0.0"),
    MetricKind.PREDICTIONS: (PredictionsData, "1.0.0"),
}


def validate_structured(
    name: str, kind: MetricKind, value: object, limits: Limits
) -> dict[str, Any]:
    """Check a structured metric value (a dict or its JSON text) and return it as a dict."""
    model, version = _SCHEMAS[kind]
    if isinstance(value, (str, bytes)):
        if len(value) > limits.max_json_metric_bytes:
            raise LimitExceededError(
                f"metric {name!r}: {kind.value} is {len(value)} bytes; "
                f"the limit is {limits.max_json_metric_bytes}"
            )
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"metric {name!r}: {kind.value} is not valid JSON: {exc}"
            ) from None
    if not isinstance(value, dict):
        raise ValidationError(
            f"metric {name!r}: {kind.value} must be a dict or its JSON text, "
            f"got {type(value).__name__}"
        )
    schema_type = value.get("schema_type", kind.value)
    if schema_type != kind.value:
        raise ValidationError(
            f"metric {name!r}: schema_type is {schema_type!r} but log_{kind.value} needs "
            f"{kind.value!r}"
        )
    data = value.get("data")
    if not isinstance(data, dict):
        raise ValidationError(
            f"metric {name!r}: {kind.value} needs a 'data' object with the fields "
            f"{sorted(model.model_fields)}"
        )
    try:
        model.model_validate(data)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'data'}: {e['msg']}" for e in exc.errors()
        )
        raise ValidationError(f"metric {name!r}: invalid {kind.value} data: {problems}") from None
    result = {
        "schema_type": kind.value,
        "schema_version": value.get("schema_version", version),
        "data": data,
    }
    text = json.dumps(result)
    size = len(text)
    if size > limits.max_json_metric_bytes:
        raise LimitExceededError(
            f"metric {name!r}: {kind.value} is {size} bytes; "
            f"the limit is {limits.max_json_metric_bytes}"
        )
    # A copy: the caller may change its dict after logging it, before the flush.
    copied: dict[str, Any] = json.loads(text)
    return copied

import pytest

from runyard.core.errors import ValidationError
from runyard.core.limits import Limits
from runyard.core.metrics import MetricKind
from runyard.core.structured import validate_structured

LIMITS = Limits()
CM = {
    "schema_type": "confusion_matrix",
    "data": {"class_labels": ["a", "b"], "matrix": [[1, 0], [2, 3]]},
}


def test_confusion_matrix_gets_its_schema_version() -> None:
    checked = validate_structured("cm", MetricKind.CONFUSION_MATRIX, CM, LIMITS)
    assert checked["schema_version"] == "1.0.0"
    assert checked["data"]["matrix"] == [[1, 0], [2, 3]]


def test_json_text_is_accepted() -> None:
    import json

    checked = validate_structured("cm", MetricKind.CONFUSION_MATRIX, json.dumps(CM), LIMITS)
    assert checked["data"]["class_labels"] == ["a", "b"]


def test_matrix_must_match_the_labels() -> None:
    bad = {"data": {"class_labels": ["a", "b", "c"], "matrix": [[1, 0], [2, 3]]}}
    with pytest.raises(ValidationError, match="3 x 3"):
        validate_structured("cm", MetricKind.CONFUSION_MATRIX, bad, LIMITS)


def test_wrong_schema_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="schema_type"):
        validate_structured("r", MetricKind.RESIDUALS, CM, LIMITS)


def test_residuals_need_one_more_edge_than_counts() -> None:
    with pytest.raises(ValidationError, match="bin_edges"):
        validate_structured(
            "r", MetricKind.RESIDUALS, {"data": {"bin_edges": [0, 1], "bin_counts": [1, 2]}}, LIMITS
        )


def test_missing_data_lists_the_fields() -> None:
    with pytest.raises(ValidationError, match="bin_averages"):
        validate_structured("p", MetricKind.PREDICTIONS, {"schema_type": "predictions"}, LIMITS)

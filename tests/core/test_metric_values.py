import math

import numpy as np
import pytest

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits
from runyard.core.metrics import (
    decode_value,
    encode_value,
    normalize_list,
    normalize_value,
    validate_metric_name,
    validate_step,
)

LIMITS = Limits()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324])
def test_special_floats_are_valid_values(value: float) -> None:
    assert normalize_value("x", value, LIMITS) is value


def test_numpy_scalars_become_python_values() -> None:
    assert type(normalize_value("x", np.float32(1.5), LIMITS)) is float
    assert type(normalize_value("x", np.int64(3), LIMITS)) is int
    assert type(normalize_value("x", np.bool_(True), LIMITS)) is bool


@pytest.mark.parametrize("value", [None, [1, 2], {"a": 1}, object(), b"bytes", 1 + 2j])
def test_non_scalar_values_are_refused_naming_the_metric(value: object) -> None:
    with pytest.raises(ValidationError, match="'loss'"):
        normalize_value("loss", value, LIMITS)


def test_list_value_error_points_to_log_list() -> None:
    with pytest.raises(ValidationError, match="log_list"):
        normalize_value("loss", [1.0], LIMITS)


def test_integer_beyond_exact_float_range_is_refused() -> None:
    with pytest.raises(LimitExceededError, match="2\\*\\*53"):
        normalize_value("n", 2**53 + 1, LIMITS)


def test_long_string_value_names_the_limit() -> None:
    with pytest.raises(LimitExceededError, match=str(LIMITS.max_string_value_length)):
        normalize_value("s", "x" * (LIMITS.max_string_value_length + 1), LIMITS)


@pytest.mark.parametrize("name", ["", "   ", "a\x00b", "tab\tname"])
def test_bad_metric_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        validate_metric_name(name, LIMITS)


def test_metric_name_at_the_limit_is_accepted_and_one_past_is_not() -> None:
    assert validate_metric_name("m" * 255, LIMITS)
    with pytest.raises(LimitExceededError, match="255"):
        validate_metric_name("m" * 256, LIMITS)


def test_metric_name_must_be_a_string() -> None:
    with pytest.raises(ValidationError, match="int"):
        validate_metric_name(3, LIMITS)


@pytest.mark.parametrize("step", [-1, 1.5, "3", True])
def test_bad_steps_are_refused(step: object) -> None:
    with pytest.raises(ValidationError):
        validate_step("x", step)


def test_list_of_numpy_array_is_accepted() -> None:
    assert normalize_list("x", np.arange(3), LIMITS) == [0, 1, 2]


def test_list_must_be_a_sequence() -> None:
    with pytest.raises(ValidationError, match="log_list"):
        normalize_list("x", "123", LIMITS)


@pytest.mark.parametrize("value", [1.5, 7, True, False, "text", {"a": [1, 2]}])
def test_encoded_values_decode_to_the_same_value_and_type(value: object) -> None:
    decoded = decode_value(*encode_value(value))
    assert decoded == value and type(decoded) is type(value)


def test_nan_decodes_as_nan() -> None:
    assert math.isnan(decode_value(*encode_value(math.nan)))  # type: ignore[arg-type]

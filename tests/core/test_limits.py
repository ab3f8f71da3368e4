"""Limits from RUNYARD_LIMIT_* variables: a malformed setting is named, not taken for a breach."""

from __future__ import annotations

import pytest

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits


def test_a_setting_overrides_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNYARD_LIMIT_MAX_TAGS", "7")
    monkeypatch.setenv("RUNYARD_LIMIT_MAX_COLUMNS_PER_ROW", "0")
    limits = Limits.from_env()
    assert (limits.max_tags, limits.max_columns_per_row) == (7, 0)
    assert limits.max_properties == Limits().max_properties


@pytest.mark.parametrize("raw", ["", "  ", "ten", "1.5", "-3", "1e3"])
def test_a_malformed_setting_is_a_validation_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("RUNYARD_LIMIT_MAX_STRING_VALUE_LENGTH", raw)
    with pytest.raises(ValidationError) as refused:
        Limits.from_env()
    assert type(refused.value) is ValidationError  # not LimitExceededError: nothing was breached
    assert not isinstance(refused.value, LimitExceededError)
    message = str(refused.value)
    assert "RUNYARD_LIMIT_MAX_STRING_VALUE_LENGTH" in message
    assert repr(raw) in message and "10000" in message  # what was given, and the default

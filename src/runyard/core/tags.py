"""Checks for tags (mutable) and properties (write-once): types and the Azure ML limits."""

from __future__ import annotations

from collections.abc import Mapping

from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits


def _text(what: str, value: object) -> str:
    """Tag and property values are strings; numbers and bools are accepted as their text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return str(value)
    raise ValidationError(f"{what} must be a string, got {type(value).__name__}: {value!r}")


def _key(what: str, key: object, limits: Limits) -> str:
    if not isinstance(key, str):
        raise ValidationError(f"{what} key must be a string, got {type(key).__name__}: {key!r}")
    if not key.strip():
        raise ValidationError(f"{what} key must not be empty or blank")
    if len(key) > limits.max_key_length:
        raise LimitExceededError(
            f"{what} key is {len(key)} characters long; the limit is {limits.max_key_length}: "
            f"{key[:40]!r}…"
        )
    if any(ord(c) < 32 for c in key):
        raise ValidationError(f"{what} key must not contain control characters: {key!r}")
    return key


def _value(what: str, key: str, value: object, limits: Limits) -> str:
    text = _text(f"{what} {key!r} value", value)
    if "\x00" in text:
        raise ValidationError(f"{what} {key!r} value cannot contain NUL (\\x00)")
    if len(text) > limits.max_tag_value_length:
        raise LimitExceededError(
            f"{what} {key!r} value is {len(text)} characters long; the limit is "
            f"{limits.max_tag_value_length}"
        )
    return text


def validate_tags(tags: object, limits: Limits) -> dict[str, str | None]:
    """Check tags given as a mapping; a value of None is a tag without a value."""
    if not isinstance(tags, Mapping):
        raise ValidationError(f"tags must be a dict, got {type(tags).__name__}")
    if len(tags) > limits.max_tags:
        raise LimitExceededError(
            f"{len(tags)} tags given; a run may have at most {limits.max_tags}"
        )
    return {
        _key("tag", k, limits): (None if v is None else _value("tag", k, v, limits))
        for k, v in tags.items()
    }


def validate_properties(properties: object, limits: Limits) -> dict[str, str]:
    """Check properties given as a mapping; every property has a value."""
    if not isinstance(properties, Mapping):
        raise ValidationError(f"properties must be a dict, got {type(properties).__name__}")
    if len(properties) > limits.max_properties:
        raise LimitExceededError(
            f"{len(properties)} properties given; a run may have at most {limits.max_properties}"
        )
    out: dict[str, str] = {}
    for k, v in properties.items():
        key = _key("property", k, limits)
        if v is None:
            raise ValidationError(f"property {key!r} needs a value; properties cannot be None")
        out[key] = _value("property", key, v, limits)
    return out

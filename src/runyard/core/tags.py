"""Checks for tags (mutable), properties and params (write-once): types and their limits."""

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


def validate_params(params: object, limits: Limits) -> dict[str, str]:
    """Check params given as a mapping; values of any scalar type are stored as their text.

    Params are write-once like properties but follow MLflow's limits (250-character keys,
    6000-character values), because MLflow clients are what mostly writes them.
    """
    if not isinstance(params, Mapping):
        raise ValidationError(f"params must be a dict, got {type(params).__name__}")
    if len(params) > limits.max_params:
        raise LimitExceededError(
            f"{len(params)} params given; a run may have at most {limits.max_params}"
        )
    out: dict[str, str] = {}
    for k, v in params.items():
        if not isinstance(k, str):
            raise ValidationError(f"param key must be a string, got {type(k).__name__}: {k!r}")
        if not k.strip():
            raise ValidationError("param key must not be empty or blank")
        if len(k) > limits.max_param_key_length:
            raise LimitExceededError(
                f"param key is {len(k)} characters long; the limit is "
                f"{limits.max_param_key_length}: {k[:40]!r}…"
            )
        if any(ord(c) < 32 for c in k):
            raise ValidationError(f"param key must not contain control characters: {k!r}")
        if v is None:
            raise ValidationError(f"param {k!r} needs a value; params cannot be None")
        text = v if isinstance(v, str) else str(v)
        if "\x00" in text:
            raise ValidationError(f"param {k!r} value cannot contain NUL (\\x00)")
        if len(text) > limits.max_param_value_length:
            raise LimitExceededError(
                f"param {k!r} value is {len(text)} characters long; the limit is "
                f"{limits.max_param_value_length}"
            )
        out[k] = text
    return out

"""Service limits, after the Azure ML v1 ones; each breach raises LimitExceededError naming it."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from runyard.core.errors import LimitExceededError, ValidationError


@dataclass(frozen=True)
class Limits:
    """The limits a workspace enforces. Override any with `RUNYARD_LIMIT_<FIELD>` (upper case)."""

    max_tags: int = 50
    max_properties: int = 50
    max_key_length: int = 100
    # Params follow MLflow's limits, since MLflow's clients are their main writers.
    max_params: int = 1_000
    max_param_key_length: int = 250
    max_param_value_length: int = 6_000
    max_tag_value_length: int = 1_000
    max_display_name_length: int = 256
    max_description_length: int = 5_000
    max_experiment_name_length: int = 255
    max_metric_name_length: int = 255
    max_columns_per_row: int = 15
    # Azure allows 1M rows per metric; we allow ten times that by default.
    max_points_per_metric: int = 10_000_000
    max_string_value_length: int = 10_000
    max_list_length: int = 1_000_000
    max_json_metric_bytes: int = 10_000_000
    max_children_per_call: int = 100
    max_snapshot_bytes: int = 300_000_000
    max_snapshot_files: int = 2_000
    max_file_name_length: int = 1_024

    @classmethod
    def from_env(cls) -> Limits:
        """The defaults, with any `RUNYARD_LIMIT_*` environment variable applied."""
        overrides: dict[str, int] = {}
        for f in fields(cls):
            variable = f"RUNYARD_LIMIT_{f.name.upper()}"
            raw = os.environ.get(variable)
            if raw is None:
                continue
            try:
                value = int(raw)
            except ValueError:
                value = -1
            if value < 0:  # a malformed setting is bad input, not a breached limit
                raise ValidationError(
                    f"{variable} must be a whole number of 0 or more (unset it for the default "
                    f"{getattr(cls, f.name)}), got {raw!r}"
                )
            overrides[f.name] = value
        return cls(**overrides)


def check_length(what: str, value: str, limit: int, *, allow_empty: bool = False) -> None:
    """Raise if `value` is not a string, is empty (unless allowed), is longer than `limit`
    characters, or holds a NUL (which PostgreSQL cannot store)."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise ValidationError(f"{what} cannot contain NUL (\\x00)")
    if not allow_empty and not value:
        raise LimitExceededError(f"{what} must not be empty")
    if len(value) > limit:
        raise LimitExceededError(
            f"{what} is {len(value)} characters long; the limit is {limit}: {value[:40]!r}…"
        )

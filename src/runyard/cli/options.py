"""Options and argument parsing shared by every command module of the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from runyard.core.errors import ValidationError
from runyard.sdk.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


def output_options(func: F) -> F:
    """`-o/--output json|table` and `--query JMESPATH`, on every command that prints."""
    func = click.option("--query", default=None, help="JMESPath query applied to the JSON result.")(
        func
    )
    func = click.option(
        "-o", "--output", type=click.Choice(["json", "table"]), default="json", show_default=True
    )(func)
    return func


def workspace_option(func: F) -> F:
    """`-w/--workspace-config PATH`: a config.json or a folder to search from."""
    return click.option(
        "-w",
        "--workspace-config",
        "config",
        default=None,
        type=click.Path(path_type=Path),
        help="config.json (or a folder to search up from); default: nearest, else ./.runyard",
    )(func)


def open_workspace(config: Path | None) -> Workspace:
    """The workspace `-w` names, else the nearest config's, else the local one."""
    return Workspace.from_config(config)


def parse_tag(text: str, option: str = "--add-tag") -> tuple[str, str | None]:
    """`key=value` (or a bare `key`, a tag without a value) as given to a tag option."""
    key, sep, value = text.partition("=")
    if not key:
        raise ValidationError(f"{option} takes key=value or key, got {text!r}")
    return key, value if sep else None

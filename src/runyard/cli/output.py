"""How commands print: JSON by default (Azure CLI field names), JMESPath `--query`, tables."""

from __future__ import annotations

import json
from typing import Any

import click
import jmespath
from jmespath.exceptions import JMESPathError
from rich.console import Console
from rich.table import Table

from runyard.core.errors import ValidationError


def apply_query(data: Any, query: str | None) -> Any:
    """Filter/reshape the JSON result with a JMESPath expression, as `az --query` does."""
    if not query:
        return data
    try:
        return jmespath.search(query, data)
    except JMESPathError as exc:
        raise ValidationError(f"invalid --query {query!r}: {exc}") from None


def emit(data: Any, output: str, query: str | None, columns: list[str] | None = None) -> None:
    """Print a result as JSON (default) or a rich table (`-o table`)."""
    if query:
        columns = None  # the query chose the shape: show what it kept
    data = apply_query(data, query)
    if output == "json":
        click.echo(json.dumps(data, indent=2, default=str))
        return
    rows = data if isinstance(data, list) else [data]
    if not rows:
        click.echo("(nothing)")
        return
    if not all(isinstance(r, dict) for r in rows):
        for row in rows:
            click.echo(row)
        return
    columns = columns or list(rows[0])
    table = Table()
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else _cell(row.get(c)) for c in columns))
    # Markup off: run names and tags are printed as given, never interpreted.
    console = Console(markup=False, highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, 160)
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" if v is not None else str(k) for k, v in value.items())
    return str(value)

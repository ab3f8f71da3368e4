"""`runyard model list|show|download`: the workspace's registered models."""

from __future__ import annotations

from pathlib import Path

import click

from runyard.cli.options import open_workspace, output_options, parse_tag, workspace_option
from runyard.cli.output import emit
from runyard.core.registry import parse_model_id
from runyard.sdk.model import Model

_COLUMNS = ["id", "runId", "createdTime", "modelFramework", "tags", "description"]


@click.group("model")
def model() -> None:
    """List, show and download registered models."""


@model.command("list")
@click.option("-n", "--name", default=None, help="Only versions of this model.")
@click.option("--tag", "tags", multiple=True, help="key=value (or key); repeatable.")
@click.option("--property", "properties", multiple=True, help="key=value (or key); repeatable.")
@click.option("-r", "--run", "run_id", default=None, help="Only versions registered by this run.")
@click.option("--latest", is_flag=True, help="Only the newest matching version of each model.")
@workspace_option
@output_options
def model_list(
    name: str | None,
    tags: tuple[str, ...],
    properties: tuple[str, ...],
    run_id: str | None,
    latest: bool,
    config: Path | None,
    output: str,
    query: str | None,
) -> None:
    """Registered versions, by name, newest version first."""
    found = Model.list(
        open_workspace(config),
        name=name,
        tags=dict(parse_tag(t, "--tag") for t in tags),
        properties=dict(parse_tag(p, "--property") for p in properties),
        run_id=run_id,
        latest=latest,
    )
    emit([m.serialize() for m in found], output, query, _COLUMNS)


@model.command("show")
@click.argument("model_id", metavar="NAME[:VERSION]")
@workspace_option
@output_options
def model_show(model_id: str, config: Path | None, output: str, query: str | None) -> None:
    """One version (the newest without :VERSION), with its files."""
    name, version = parse_model_id(model_id)
    emit(Model(open_workspace(config), name, version=version).serialize(), output, query, _COLUMNS)


@model.command("download")
@click.argument("model_id", metavar="NAME[:VERSION]")
@click.option(
    "-t",
    "--target-dir",
    default=".",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder to download into.",
)
@click.option("--exist-ok", is_flag=True, help="Replace the file or folder if it exists.")
@workspace_option
@output_options
def model_download(
    model_id: str,
    target_dir: Path,
    exist_ok: bool,
    config: Path | None,
    output: str,
    query: str | None,
) -> None:
    """Copy a version's file or folder into a local folder; prints where it went."""
    name, version = parse_model_id(model_id)
    found = Model(open_workspace(config), name, version=version)
    path = found.download(target_dir, exist_ok=exist_ok)
    emit({"id": found.id, "path": path, "files": found.files}, output, query)

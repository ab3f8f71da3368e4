"""`runyard` commands. Each parses, calls the SDK and prints; errors are one line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from runyard.cli.exec import exec_script
from runyard.cli.model import model
from runyard.cli.options import open_workspace, output_options, parse_tag, workspace_option
from runyard.cli.output import emit
from runyard.cli.serve import server, sync, token
from runyard.cli.submit import submit_script
from runyard.core.errors import RunyardError, ValidationError
from runyard.sdk.experiment import Experiment
from runyard.sdk.run import Run
from runyard.sdk.workspace import Workspace
from runyard.version import __version__

#: Exit codes scripts can rely on.
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3

_RUN_COLUMNS = ["runId", "experimentName", "status", "displayName", "startTimeUtc", "tags"]


class _Group(click.Group):
    """Turns runyard errors into one clear line and an exit code (traceback with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RunyardError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            from runyard.core.errors import NotFoundError

            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_NOT_FOUND if isinstance(exc, NotFoundError) else EXIT_ERROR)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # not ours to explain: still one line, unless --debug
            if ctx.find_root().params.get("debug"):
                raise
            click.echo(
                f"error: {type(exc).__name__}: {exc} (rerun with --debug for details)", err=True
            )
            sys.exit(EXIT_ERROR)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="runyard")
@click.option("--debug", is_flag=True, help="Show debug logs and full tracebacks.")
def cli(debug: bool) -> None:
    """runyard: track, run, monitor and compare machine-learning experiments."""
    if debug:
        logging.basicConfig(level=logging.DEBUG)


@cli.group(cls=_Group)
def folder() -> None:
    """Attach a folder to a workspace."""


@folder.command("attach")
@click.option("-w", "--workspace-name", default="default", show_default=True)
@click.option("--store", default=None, help="Database URL (default: SQLite in ./.runyard).")
@click.option("--artifacts", default=None, help="Folder or fsspec URL for run files.")
@click.option("--server", default=None, help="A runyard server URL instead of a store.")
@click.option("--token", default=None, help="API token for the server's workspace.")
@click.option("--path", default=".", type=click.Path(path_type=Path), show_default=True)
@output_options
def folder_attach(
    workspace_name: str,
    store: str | None,
    artifacts: str | None,
    server: str | None,
    token: str | None,
    path: Path,
    output: str,
    query: str | None,
) -> None:
    """Write .runyard/config.json so scripts and commands in this folder find the workspace."""
    if server is not None:
        if store is not None:
            raise ValidationError("give --server or --store, not both")
        ws = Workspace(workspace_name, server_url=server, token=token)
    else:
        if store is None:
            base = (path / ".runyard").resolve()
            store = f"sqlite:///{base / 'runyard.db'}"
            artifacts = artifacts or str(base / "artifacts")
        if artifacts is None:
            raise ValidationError("--artifacts is required with --store")
        ws = Workspace(workspace_name, store_url=store, artifacts_url=artifacts)
    target = ws.write_config(path)
    shown = {**ws.to_dict(), "configPath": str(target)}
    if "token" in shown:
        shown["token"] = "***"
    emit(shown, output, query)


@cli.group(cls=_Group)
def experiment() -> None:
    """List experiments."""


@experiment.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include archived experiments.")
@workspace_option
@output_options
def experiment_list(show_all: bool, config: Path | None, output: str, query: str | None) -> None:
    """Experiments with their run counts and last activity."""
    store = open_workspace(config).transport.store
    rows = [e.to_json_dict() for e in store.list_experiments(include_archived=show_all)]
    emit(rows, output, query, ["name", "runCount", "activeRunCount", "lastActivityUtc"])


@cli.group(cls=_Group)
def run() -> None:
    """List, show, tag and cancel runs."""


@run.command("list")
@click.option("-e", "--experiment-name", required=True)
@click.option("--status", default=None, help="Only runs with this status.")
@click.option("--last", type=int, default=None, help="Only the newest N runs.")
@click.option(
    "--include-deleted", is_flag=True, help="Also runs deleted through MLflow (deletedUtc set)."
)
@workspace_option
@output_options
def run_list(
    experiment_name: str,
    status: str | None,
    last: int | None,
    include_deleted: bool,
    config: Path | None,
    output: str,
    query: str | None,
) -> None:
    """Runs of an experiment, newest first, as Azure run documents."""
    exp = Experiment(open_workspace(config), experiment_name)
    exp.workspace.transport.store.get_experiment(experiment_name)
    rows = []
    for found in exp.get_runs(status=status, include_deleted=include_deleted):
        rows.append(found.document())  # the search page holds it: no request per run
        if last is not None and len(rows) >= last:
            break
    emit(rows, output, query, _RUN_COLUMNS)


@run.command("show")
@click.option("-r", "--run", "run_id", required=True)
@workspace_option
@output_options
def run_show(run_id: str, config: Path | None, output: str, query: str | None) -> None:
    """One run's document."""
    emit(Run.get(open_workspace(config), run_id).get_details(), output, query, _RUN_COLUMNS)


@run.command("update")
@click.option("-r", "--run", "run_id", required=True)
@click.option("--add-tag", "add_tags", multiple=True, help="key=value (or key); repeatable.")
@workspace_option
@output_options
def run_update(
    run_id: str, add_tags: tuple[str, ...], config: Path | None, output: str, query: str | None
) -> None:
    """Add or update tags of a run."""
    target = Run.get(open_workspace(config), run_id)
    if add_tags:
        target.set_tags(dict(parse_tag(t) for t in add_tags))
    emit(target.get_details(), output, query, _RUN_COLUMNS)


@run.command("cancel")
@click.option("-r", "--run", "run_id", required=True)
@workspace_option
@output_options
def run_cancel(run_id: str, config: Path | None, output: str, query: str | None) -> None:
    """Cancel a run."""
    target = Run.get(open_workspace(config), run_id)
    target.cancel()
    emit(target.get_details(), output, query, _RUN_COLUMNS)


run.add_command(submit_script)
cli.add_command(server)
cli.add_command(token)
cli.add_command(sync)
cli.add_command(model)
cli.add_command(exec_script)


def main() -> None:
    """Entry point that keeps click's exit codes (2 for usage errors)."""
    cli(prog_name="runyard")


__all__ = ["cli", "main"]


if __name__ == "__main__":
    main()

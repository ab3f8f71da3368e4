"""`runyard run submit-script`: snapshot, submit, and follow a script's run."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

from runyard.cli.options import output_options, parse_tag, workspace_option
from runyard.cli.output import emit
from runyard.core.status import Status
from runyard.sdk.experiment import Experiment
from runyard.sdk.script_run import RunConfiguration, ScriptRunConfig
from runyard.sdk.workspace import Workspace

#: Exit codes of `submit-script` when it follows the run to its end.
EXIT_FOR = {Status.COMPLETED: 0, Status.FAILED: 1, Status.CANCELED: 4}


def _run_config(name: str | None, source: Path) -> RunConfiguration | None:
    """-c NAME: `.runyard/NAME.runconfig` in the source folder, or a path to a file."""
    if name is None:
        return None
    if Path(name).is_file():
        return RunConfiguration.load(name)
    return RunConfiguration.load(source, name)


@click.command(
    "submit-script",
    # Options after SCRIPT belong to the script: `submit-script -e x train.py --lr 0.1`.
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("-e", "--experiment-name", required=True)
@click.option(
    "-c",
    "--run-configuration-name",
    "run_config",
    default=None,
    help="A .runconfig file, or NAME for .runyard/NAME.runconfig.",
)
@click.option(
    "-t", "--target", default=None, help="Compute target (default: the config's, or local)."
)
@click.option(
    "-d", "--source-directory", default=".", type=click.Path(path_type=Path), show_default=True
)
@click.option("--tag", "tags", multiple=True, help="key=value; repeatable.")
@click.option("--async", "no_wait", is_flag=True, help="Return once submitted.")
@workspace_option
@output_options
@click.argument("script")
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def submit_script(
    experiment_name: str,
    run_config: str | None,
    target: str | None,
    source_directory: Path,
    tags: tuple[str, ...],
    no_wait: bool,
    config: Path | None,
    output: str,
    query: str | None,
    script: str,
    arguments: tuple[str, ...],
) -> None:
    """Run SCRIPT [ARGUMENTS] as a tracked run; print its output until it ends."""
    workspace = Workspace.from_config(config)
    experiment = Experiment(workspace, experiment_name)
    script_config = ScriptRunConfig(
        source_directory=str(source_directory),
        script=script,
        arguments=list(arguments),
        run_config=_run_config(run_config, source_directory),
        compute_target=target,
    )
    err = Console(stderr=True)
    with Progress(
        TextColumn("snapshot"),
        BarColumn(),
        DownloadColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # no stray blank line before a one-line error
    ) as progress:
        task = progress.add_task("snapshot", total=None)
        run = experiment.submit(
            script_config,
            dict(parse_tag(t, "--tag") for t in tags),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    err.print(f"submitted run {run.id} ({run.get_status()})", markup=False, highlight=False)
    if no_wait:
        emit(run.get_details(), output, query)
        return
    details = run.wait_for_completion(show_output=True, raise_on_error=False)
    sys.stdout.flush()
    emit(details, output, query)
    raise SystemExit(EXIT_FOR.get(Status(details["status"]), 1))

"""`runyard exec SCRIPT [ARGS…]`: run an Azure ML v1 script unchanged on this machine.

The script runs in place of this process (same interpreter, same folder) with the
`azureml.core` import hook installed, so `from azureml.core import Run` gives runyard's
Run; outside a submitted run `Run.get_context()` is an offline run, as on Azure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


@click.command(
    "exec",
    # Everything after SCRIPT is the script's: `runyard exec train.py --lr 0.1`.
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("script", type=click.Path(path_type=Path))
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def exec_script(script: Path, arguments: tuple[str, ...]) -> None:
    """Run SCRIPT [ARGUMENTS] with `azureml.core` imports served by runyard."""
    if not script.is_file():
        raise click.BadParameter(f"no script at {str(script)!r}", param_hint="SCRIPT")
    from runyard.sdk.azureml_imports import real_azureml_installed

    if real_azureml_installed():
        click.echo(
            "runyard: an azureml package is installed, so azureml imports stay Azure's "
            "(uninstall it to run the script on runyard)",
            err=True,
        )
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-m", "runyard.compute.launch", str(script), *arguments]
    os.execv(sys.executable, argv)  # the script's exit code and signals are this command's

"""The entry point a Ray job runs: the user's script, then an upload of its ./outputs.

`python -m runyard.compute.entry script.py args…` runs the script as `__main__` in this
process (so `Run.get_context()` finds the run; `azureml.core` imports served by runyard)
and uploads `./outputs` however it ends.
"""

from __future__ import annotations

import sys
from pathlib import Path

from runyard.compute.launch import run_script


def upload_outputs(folder: Path) -> None:
    """Upload ./outputs of the current run, if the script wrote any."""
    outputs = folder / "outputs"
    if outputs.is_dir() and any(p.is_file() for p in outputs.rglob("*")):
        from runyard.sdk.run import Run

        run = Run.get_context()
        if isinstance(run, Run):
            run.upload_folder("outputs", str(outputs))
            run.flush()


def main(argv: list[str]) -> None:
    """Run argv[1] with argv[2:] as its arguments."""
    if len(argv) < 2:
        raise SystemExit("usage: python -m runyard.compute.entry SCRIPT [ARGS…]")
    try:
        run_script(argv[1], argv[2:])
    finally:
        upload_outputs(Path.cwd())


if __name__ == "__main__":
    main(sys.argv)

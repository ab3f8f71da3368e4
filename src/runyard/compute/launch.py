"""Starting a user's script the way runyard does: `python -m runyard.compute.launch SCRIPT ARGS…`.

The script runs as `__main__` with its own folder first on `sys.path` (as `python SCRIPT`
would), after the `azureml.core` import hook is installed, so a v1 script runs unchanged.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from runyard.sdk.azureml_imports import install


def run_script(script: str, arguments: list[str]) -> None:
    """Run `script` with `arguments` in this process, azureml imports served by runyard."""
    if not Path(script).is_file():
        raise SystemExit(f"runyard: no script at {script!r}")
    install()
    sys.argv = [script, *arguments]
    folder = str(Path(script).resolve().parent)
    if sys.path and sys.path[0] in ("", str(Path.cwd())):
        sys.path[0] = folder  # `python -m` put the current folder there; `python SCRIPT` would not
    else:
        sys.path.insert(0, folder)
    runpy.run_path(script, run_name="__main__")


def main(argv: list[str]) -> None:
    """Entry point: argv[1] is the script, the rest its arguments."""
    if len(argv) < 2:
        raise SystemExit("usage: python -m runyard.compute.launch SCRIPT [ARGS…]")
    run_script(argv[1], argv[2:])


if __name__ == "__main__":
    main(sys.argv)

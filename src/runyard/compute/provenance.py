"""Git provenance of a run: which repository, branch and commit its code came from.

Azure records these as run properties when the source folder (submit) or the current
folder (`start_logging()`) is inside a git repository, under its own names and MLflow's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

_TIMEOUT = 10.0
#: Set to 1/true to record no git properties (a repository URL can be private).
ENV_DISABLE = "RUNYARD_NO_GIT_PROVENANCE"


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_properties(folder: str | os.PathLike[str]) -> dict[str, str]:
    """The run properties Azure records for code in a git repository; empty outside one
    (or without git). The repository URI is the `origin` remote, else the repository's
    folder."""
    if os.environ.get(ENV_DISABLE, "").lower() in ("1", "true", "yes"):
        return {}
    path = Path(folder).resolve()
    if shutil.which("git") is None or not path.is_dir():
        return {}
    top = _git(path, "rev-parse", "--show-toplevel")
    if not top:
        return {}
    uri = _git(path, "config", "--get", "remote.origin.url") or top
    branch = _git(path, "rev-parse", "--abbrev-ref", "HEAD") or ""
    commit = _git(path, "rev-parse", "HEAD") or ""  # empty in a repository with no commit
    status = _git(path, "status", "--porcelain")
    dirty = "True" if status else "False"
    found = {
        "azureml.git.repository_uri": uri,
        "mlflow.source.git.repoURL": uri,
        "azureml.git.branch": branch,
        "mlflow.source.git.branch": branch,
        "azureml.git.commit": commit,
        "mlflow.source.git.commit": commit,
        "azureml.git.dirty": dirty,
    }
    return {key: value for key, value in found.items() if value}

"""Submitting a script: snapshot the source folder, create the run, start its runner."""

from __future__ import annotations

import getpass
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runyard.compute.provenance import git_properties
from runyard.compute.snapshot import snapshot_directory
from runyard.compute.targets import resolve_target
from runyard.core.entities import NewRun
from runyard.core.status import Status
from runyard.core.tags import validate_tags

if TYPE_CHECKING:
    from runyard.sdk.experiment import Experiment
    from runyard.sdk.run import Run
    from runyard.sdk.script_run import ScriptRunConfig
    from runyard.sdk.workspace import Workspace


def new_run_id(experiment_name: str) -> str:
    """Azure's form for submitted runs: `<experiment>_<unix time>_<8 hex>`."""
    return f"{experiment_name}_{int(time.time())}_{secrets.token_hex(4)}"


def runner_log_folder() -> Path:
    """Where runners write their own log (not the script's: that goes to the run)."""
    folder = Path(tempfile.gettempdir()) / "runyard-runners"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_runner(run_id: str, workspace: Workspace) -> int:
    """Start the run's runner as a detached process (it outlives the submitter)."""
    env = dict(os.environ)
    env.pop("RUNYARD_RUN_ID", None)  # the runner is not itself inside a run
    env["RUNYARD_WORKSPACE_CONFIG"] = json.dumps(workspace.to_dict())
    with (runner_log_folder() / f"{run_id}.log").open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runyard.compute.runner", run_id],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    return proc.pid


def submit_script(
    experiment: Experiment,
    config: ScriptRunConfig,
    tags: dict[str, Any] | None = None,
    parent_run_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Run:
    """Snapshot, create the run (Queued) and start its runner; returns at once."""
    from runyard.sdk.run import Run

    workspace = experiment.workspace
    script, run_config, arguments = config.resolved()
    target = resolve_target(run_config.target, workspace)
    snapshot = snapshot_directory(config.source_directory, workspace.limits, progress)
    try:
        workspace._transport.files.put_snapshot(snapshot.snapshot_id, snapshot.zip_path)
    finally:
        snapshot.zip_path.unlink(missing_ok=True)
    definition = {
        "script": script,
        "arguments": arguments,
        "sourceDirectory": str(Path(config.source_directory).resolve()),
        "snapshotId": snapshot.snapshot_id,
        "snapshotFiles": len(snapshot.files),
        "snapshotBytes": snapshot.size,
        "target": target.name,
        "targetType": target.kind,
        "targetAddress": target.address,
        "environment": run_config.environment.to_dict(),
        "environmentVariables": dict(run_config.environment_variables),
        "maxRunDurationSeconds": run_config.max_run_duration_seconds,
    }
    doc = workspace._transport.store.create_runs(
        [
            NewRun(
                run_id=new_run_id(experiment.name),
                experiment_name=experiment.name,
                parent_run_id=parent_run_id,
                status=Status.QUEUED,
                target=target.name,
                run_type="script",
                submitted_by=getpass.getuser(),
                tags=validate_tags(tags or {}, workspace.limits),
                # What Azure records on a submitted run: the snapshot, and the git
                # commit the source folder is at.
                properties={
                    "ContentSnapshotId": snapshot.snapshot_id,
                    **git_properties(config.source_directory),
                },
                run_definition=definition,
            )
        ]
    )[0]
    start_runner(doc.run_id, workspace)
    return Run._from_document(experiment, doc)

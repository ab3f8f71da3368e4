"""Submitting a script: snapshot the source folder, create the run, start its runner.

Works on a transport and plain configuration and returns the run's document; the SDK
(`Experiment.submit`, `Run.submit_child`) builds the configuration from a
`ScriptRunConfig` and wraps the document in a `Run`.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runyard.client.base import Transport
from runyard.compute.snapshot import snapshot_directory
from runyard.compute.targets import resolve_target
from runyard.core.entities import NewRun, RunDocument
from runyard.core.limits import Limits
from runyard.core.run_environment import ENV_RUN_ID, ENV_WORKSPACE
from runyard.core.status import Status
from runyard.core.tags import validate_tags


@dataclass(frozen=True)
class ScriptSubmission:
    """What to run, where and how: a script run configuration as plain values."""

    experiment_name: str
    source_directory: str
    script: str
    arguments: list[str]
    #: The compute target's name (resolved against the workspace's "compute_targets").
    target: str
    #: `Environment.to_dict()`.
    environment: dict[str, Any]
    max_run_duration_seconds: int
    environment_variables: dict[str, str] = field(default_factory=dict)
    tags: Mapping[str, Any] = field(default_factory=dict)
    parent_run_id: str | None = None


def new_run_id(experiment_name: str) -> str:
    """Azure's form for submitted runs: `<experiment>_<unix time>_<8 hex>`."""
    return f"{experiment_name}_{int(time.time())}_{secrets.token_hex(4)}"


def runner_log_folder() -> Path:
    """Where runners write their own log (not the script's: that goes to the run)."""
    folder = Path(tempfile.gettempdir()) / "runyard-runners"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_runner(run_id: str, workspace_config: Mapping[str, Any]) -> int:
    """Start the run's runner as a detached process (it outlives the submitter)."""
    env = dict(os.environ)
    env.pop(ENV_RUN_ID, None)  # the runner is not itself inside a run
    env[ENV_WORKSPACE] = json.dumps(workspace_config)
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
    transport: Transport,
    workspace_config: Mapping[str, Any],
    limits: Limits,
    submission: ScriptSubmission,
    progress: Callable[[int, int], None] | None = None,
) -> RunDocument:
    """Snapshot, create the run (Queued) and start its runner; returns at once.

    `workspace_config` is the workspace's config.json content: the runner finds the
    workspace from it, and named compute targets come from its "compute_targets".
    """
    target = resolve_target(submission.target, workspace_config.get("compute_targets") or {})
    tags = validate_tags(dict(submission.tags), limits)
    snapshot = snapshot_directory(submission.source_directory, limits, progress)
    try:
        transport.files.put_snapshot(snapshot.snapshot_id, snapshot.zip_path)
    finally:
        snapshot.zip_path.unlink(missing_ok=True)
    definition = {
        "script": submission.script,
        "arguments": submission.arguments,
        "sourceDirectory": str(Path(submission.source_directory).resolve()),
        "snapshotId": snapshot.snapshot_id,
        "snapshotFiles": len(snapshot.files),
        "snapshotBytes": snapshot.size,
        "target": target.name,
        "targetType": target.kind,
        "targetAddress": target.address,
        "environment": submission.environment,
        "environmentVariables": dict(submission.environment_variables),
        "maxRunDurationSeconds": submission.max_run_duration_seconds,
    }
    doc = transport.store.create_runs(
        [
            NewRun(
                run_id=new_run_id(submission.experiment_name),
                experiment_name=submission.experiment_name,
                parent_run_id=submission.parent_run_id,
                status=Status.QUEUED,
                target=target.name,
                run_type="script",
                submitted_by=getpass.getuser(),
                tags=tags,
                run_definition=definition,
            )
        ]
    )[0]
    start_runner(doc.run_id, workspace_config)
    return doc

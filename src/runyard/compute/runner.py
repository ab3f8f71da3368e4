"""The runner: one detached process per submitted run, from Queued to the final status.

It prepares a working folder from the snapshot, starts the script on its target with the
environment that makes `Run.get_context()` find the run, streams the script's output
into the run's logs, watches for a cancel request and the time limit, uploads the logs
(and `./outputs` for local runs) and sets the final status. `python -m
runyard.compute.runner RUN_ID`, with the workspace in RUNYARD_WORKSPACE_CONFIG.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from runyard.compute.environments import prepare_environment, ray_pip_packages
from runyard.compute.snapshot import extract_snapshot
from runyard.compute.targets import Execution, Launch, target_kind
from runyard.core.entities import RunError
from runyard.core.errors import (
    EnvironmentBuildError,
    InvalidStatusTransitionError,
    RunyardError,
)
from runyard.core.mlflow_uri import server_tracking_uri
from runyard.core.run_environment import ENV_RUN_ID, ENV_SPOOL_DIR, ENV_WORKSPACE
from runyard.core.status import Status
from runyard.sdk.run import Run
from runyard.sdk.workspace import Workspace

log = logging.getLogger("runyard.runner")

#: Seconds between SIGTERM and SIGKILL when a run is canceled.
CANCEL_GRACE = 3.0
_STATUS_EVERY = 0.5
_LOGS_EVERY = 0.2
_STDERR_TAIL = 30
#: The log stream where the runner reports on the run's logs themselves.
RUNNER_STREAM = "runyard"


class _Interrupted(Exception):
    """The run was canceled or ended by someone else while the runner prepared it."""

    def __init__(self, canceled: bool) -> None:
        super().__init__("canceled" if canceled else "ended")
        self.canceled = canceled


class Runner:
    """Takes one run through its life cycle."""

    def __init__(self, run: Run, workspace: Workspace) -> None:
        self.run = run
        self.workspace = workspace
        self.transport = workspace.transport
        self.store = self.transport.store
        self.definition = run.get_details()["runDefinition"]
        self.captured: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._pending: dict[str, list[str]] = {}
        #: The interpreter of a built (system-managed) environment, once prepared.
        self._python: str | None = None
        self._checked_during_build = 0.0

    def _status(self, status: Status, error: RunError | None = None) -> None:
        self.store.set_status(self.run.id, status, error)

    def _run_env(self) -> dict[str, str]:
        """The variables the script gets on any target: the user's, then the run's."""
        env: dict[str, str] = {}
        env.update(self.definition.get("environment", {}).get("environment_variables", {}))
        env.update(self.definition.get("environmentVariables", {}))
        env[ENV_RUN_ID] = self.run.id
        env[ENV_WORKSPACE] = json.dumps(self.workspace.to_dict())
        env["PYTHONUNBUFFERED"] = "1"  # output reaches the logs as it is printed
        env.update(self._mlflow_env())
        if ENV_SPOOL_DIR in os.environ:
            env[ENV_SPOOL_DIR] = os.environ[ENV_SPOOL_DIR]
        return env

    def _mlflow_env(self) -> dict[str, str]:
        """What Azure hands a script for MLflow: plain `mlflow.log_metric` with no set-up
        logs into this run, and `mlflow.start_run()` continues it (its runner still sets
        its final status)."""
        workspace = self.workspace
        uri = workspace.get_mlflow_tracking_uri()
        if workspace.server_url is not None:
            # On a server too, the plugin: metrics ride the spool, a restart loses nothing.
            uri = server_tracking_uri(workspace.name, workspace.server_url)
        env = {
            "MLFLOW_TRACKING_URI": uri,
            # mlflow's default registry URI is the tracking URI; naming it spares every
            # mlflow.log_metric call mlflow's probe for a Spark session (an import attempt).
            "MLFLOW_REGISTRY_URI": uri,
            "MLFLOW_RUN_ID": self.run.id,
            "MLFLOW_EXPERIMENT_NAME": self.run.experiment.name,
        }
        if workspace.token:
            env["MLFLOW_TRACKING_TOKEN"] = workspace.token
        return env

    def _start(self, workdir: Path) -> Execution:
        environment = self.definition.get("environment", {})
        kind = target_kind(self.definition.get("targetType", "local"))
        return kind.start(
            Launch(
                run_id=self.run.id,
                script=self.definition["script"],
                arguments=list(self.definition.get("arguments", [])),
                workdir=workdir,
                environment=environment,
                run_env=self._run_env(),
                address=self.definition.get("targetAddress"),
                pip_packages=ray_pip_packages(environment),
                prepared_interpreter=self._python,
            )
        )

    def _prepare_environment(self) -> None:
        """Build the system-managed environment a local run asks for (cached by content);
        the build's output goes live to the run's `environment` log."""
        if self.definition.get("targetType") == "ray":  # Ray installs it in the job
            return
        self._python = prepare_environment(
            self.definition.get("environment", {}), self._log_environment_line
        )

    def _log_environment_line(self, line: str) -> None:
        """One line of the build, to the run's logs at once; a cancel stops the build."""
        self.captured.setdefault("environment", []).append(line)
        self.store.append_log_lines(self.run.id, "environment", [line])
        now = time.monotonic()
        if now - self._checked_during_build >= _STATUS_EVERY:
            self._checked_during_build = now
            status = Status(self.run.get_status())
            if status is Status.CANCEL_REQUESTED or status.is_terminal:
                raise _Interrupted(canceled=status is Status.CANCEL_REQUESTED)

    def _take_lines(self, execution: Execution) -> None:
        for stream, line in execution.lines():
            self.captured.setdefault(stream, []).append(line)
            self._pending.setdefault(stream, []).append(line)

    def _ship_lines(self) -> None:
        """Send new output lines to the run's live logs. A failure never fails the run: the
        lines stay in the log files uploaded at the end, and the failure is reported in the
        runner's own log and in the run's `runyard` log stream (and its logs/runyard.txt)."""
        for stream, lines in list(self._pending.items()):
            if not lines:
                continue
            try:
                self.store.append_log_lines(self.run.id, stream, lines)
            except Exception as exc:
                self._report_unshipped(stream, len(lines), exc)
        self._pending.clear()

    def _report_unshipped(self, stream: str, count: int, exc: Exception) -> None:
        note = (
            f"runyard: {count} line(s) of {stream} could not be stored live "
            f"({type(exc).__name__}: {exc}); they are in logs/{stream}.txt"
        )
        log.warning("run %s: %s", self.run.id, note)
        self.captured.setdefault(RUNNER_STREAM, []).append(note)
        if stream == RUNNER_STREAM:
            return
        try:
            self.store.append_log_lines(self.run.id, RUNNER_STREAM, [note])
        except Exception as again:
            log.warning("run %s: the note could not be stored either: %s", self.run.id, again)

    def _advance(self, status: Status) -> None:
        """Move to the next life-cycle status, unless someone canceled or ended the run."""
        try:
            self._status(status)
        except InvalidStatusTransitionError:
            current = Status(self.run.get_status())
            if current is Status.CANCEL_REQUESTED:
                raise _Interrupted(canceled=True) from None
            if current.is_terminal:
                raise _Interrupted(canceled=False) from None
            raise

    def execute(self) -> Status:
        """Run the script to its end; returns the final status."""
        current = Status(self.run.get_status())
        if current.is_terminal:  # failed or canceled while it was queued
            return current
        if current is Status.CANCEL_REQUESTED:
            self._status(Status.CANCELED)
            return Status.CANCELED
        workdir = Path(tempfile.mkdtemp(prefix=f"runyard-{self.run.id}-"))
        execution: Execution | None = None
        try:
            self._advance(Status.PREPARING)
            zip_path = workdir.parent / f"{workdir.name}.zip"
            self.transport.files.get_snapshot(self.definition["snapshotId"], zip_path)
            extract_snapshot(zip_path, workdir, self.workspace.limits)
            zip_path.unlink()
            self._prepare_environment()
            self._advance(Status.STARTING)
            execution = self._start(workdir)
            self._advance(Status.RUNNING)
            return self._follow(execution, workdir)
        except _Interrupted as stop:
            if execution is not None:
                execution.stop(CANCEL_GRACE)
            if stop.canceled:
                self._status(Status.CANCELED)
                return Status.CANCELED
            return Status(self.run.get_status())
        except Exception as exc:  # anything at all: the run must not stay Running forever
            log.exception("run %s: the runner failed", self.run.id)
            if execution is not None:
                _stop_quietly(execution)
            message = str(exc) if isinstance(exc, RunyardError) else f"{type(exc).__name__}: {exc}"
            code = "RunnerError"
            if isinstance(exc, EnvironmentBuildError):
                code = "EnvironmentBuildError"
                self._upload_logs()
            if not Status(self.run.get_status()).is_terminal:
                self._status(Status.FAILED, RunError(code=code, message=message))
            return Status.FAILED
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _follow(self, execution: Execution, workdir: Path) -> Status:
        limit = float(self.definition.get("maxRunDurationSeconds", 2_592_000))
        started = time.monotonic()
        checked = shipped = 0.0
        stop_reason: str | None = None
        while (code := execution.poll()) is None:
            self._take_lines(execution)
            now = time.monotonic()
            if now - shipped >= _LOGS_EVERY:
                self._ship_lines()
                shipped = now
            if now - checked >= _STATUS_EVERY:
                checked = now
                status = Status(self.run.get_status())
                if status is Status.CANCEL_REQUESTED:
                    stop_reason = "canceled"
                elif status.is_terminal:  # e.g. run.fail() from elsewhere: stop the script
                    stop_reason = f"the run was marked {status.value}"
                elif now - started > limit:
                    stop_reason = f"ran longer than max_run_duration_seconds={limit:g}"
                if stop_reason is not None:
                    execution.stop(CANCEL_GRACE)
                    code = execution.poll()
                    break
            time.sleep(0.05)
        self._take_lines(execution)
        self._ship_lines()
        self._upload_logs()
        if not execution.uploads_outputs:
            self._upload_outputs(workdir)
        return self._finish(code, stop_reason, execution)

    def _upload_logs(self) -> None:
        """Upload each stream's whole output as logs/<stream>.txt; a failure is reported in
        the runner's log and does not fail the run."""
        for stream, lines in list(self.captured.items()):
            if not lines:
                continue
            try:
                self.run.upload_file(f"logs/{stream}.txt", _text_stream("\n".join(lines) + "\n"))
            except Exception as exc:
                log.warning("run %s: logs/%s.txt not uploaded: %s", self.run.id, stream, exc)

    def _upload_outputs(self, workdir: Path) -> None:
        outputs = workdir / "outputs"
        if outputs.is_dir() and any(p.is_file() for p in outputs.rglob("*")):
            self.run.upload_folder("outputs", str(outputs))

    def _finish(self, code: int | None, stop_reason: str | None, execution: Execution) -> Status:
        current = Status(self.run.get_status())
        if current.is_terminal:  # the script ended its run itself
            return current
        if stop_reason == "canceled":
            self._status(Status.CANCELED)
            return Status.CANCELED
        if stop_reason is not None:
            self._status(
                Status.CANCELED, RunError(code="MaxRunDurationExceeded", message=stop_reason)
            )
            return Status.CANCELED
        if code == 0:
            self._status(Status.FINALIZING)
            self._status(Status.COMPLETED)
            return Status.COMPLETED
        tail = self.captured.get("stderr") or self.captured.get("stdout") or []
        message = "\n".join(tail[-_STDERR_TAIL:])
        message = message or execution.error_text()
        self._status(
            Status.FAILED,
            RunError(
                code="ScriptExecution.ExitCode", message=f"exit code {code}\n{message}".strip()
            ),
        )
        return Status.FAILED


def _stop_quietly(execution: Execution) -> None:
    """Stop a script after a failure, whatever else fails meanwhile (its cluster may be gone)."""
    try:
        execution.stop(CANCEL_GRACE)
    except Exception as exc:
        log.warning("could not stop the script: %s", exc)


def _text_stream(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode(errors="replace"))


def main(argv: list[str]) -> int:
    """Entry point of the runner process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s runner %(levelname)s %(message)s")
    if len(argv) != 2:
        print("usage: python -m runyard.compute.runner RUN_ID", file=sys.stderr)
        return 2
    workspace = Workspace.from_env()
    if workspace is None:
        print(f"{ENV_WORKSPACE} is not set", file=sys.stderr)
        return 2
    run = Run.get(workspace, argv[1])
    workspace.pipeline.watch(run.id)
    try:
        status = Runner(run, workspace).execute()
    finally:
        workspace.pipeline.unwatch(run.id)
        workspace.pipeline.flush(60)
    log.info("run %s ended %s", run.id, status.value)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

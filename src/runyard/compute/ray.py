"""The Ray target: the script as a job on an existing cluster, through Ray's job API."""

from __future__ import annotations

import os
import re
import shlex
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from runyard.compute.targets import Launch, Target
from runyard.core.errors import TransportError, ValidationError

#: How long the job API may be unreachable before the run is given up as Failed.
_API_PATIENCE = 10.0
#: Ray's own lines in a job's log ("… INFO job_manager.py:581 -- Runtime env is setting up.").
_RAY_OWN_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+\s+\w+ job_manager\.py:\d+ -- ")


class RayJob:
    """A submitted Ray job whose logs are followed and which can be stopped."""

    #: `runyard.compute.entry` uploads ./outputs on the cluster, where the files are.
    uploads_outputs = True

    def __init__(
        self,
        address: str,
        job_id: str,
        argv: list[str],
        working_dir: str,
        env: dict[str, str],
        pip: list[str],
    ) -> None:
        from ray.job_submission import JobSubmissionClient

        self.address = address
        try:
            self.client = JobSubmissionClient(address)
        except Exception as exc:  # Ray raises bare ConnectionErrors and RuntimeErrors
            raise TransportError(f"cannot reach the Ray cluster at {address}: {exc}") from exc
        runtime_env: dict[str, Any] = {"working_dir": working_dir, "env_vars": env}
        if pip:
            runtime_env["pip"] = pip
        self.job_id = self.client.submit_job(
            entrypoint=shlex.join(argv), runtime_env=runtime_env, submission_id=job_id
        )
        self._seen = 0
        self._partial = ""
        self._finished = False

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        """A job API call; a cluster gone for longer than a few seconds is a TransportError."""
        deadline = time.monotonic() + _API_PATIENCE
        while True:
            try:
                return call()
            except Exception as exc:  # requests' ConnectionError, Ray's RuntimeErrors
                if time.monotonic() > deadline:
                    raise TransportError(
                        f"lost the Ray cluster at {self.address} ({what}): {exc}"
                    ) from exc
                time.sleep(0.5)

    def lines(self) -> Iterator[tuple[str, str]]:
        """New log lines of the job (Ray merges stdout and stderr into one log)."""
        logs = self._call("reading logs", lambda: self.client.get_job_logs(self.job_id))
        fresh, self._seen = logs[self._seen :], len(logs)
        text = self._partial + fresh
        *complete, self._partial = text.split("\n")
        if self._finished and self._partial:  # the last line had no newline
            complete.append(self._partial)
            self._partial = ""
        for line in complete:
            if not _RAY_OWN_LINE.search(line):
                yield "stdout", line

    def poll(self) -> int | None:
        """The script's exit code once the job ended (-15 when stopped), None while running."""
        from ray.job_submission import JobStatus

        status = self._call("reading status", lambda: self.client.get_job_status(self.job_id))
        if status in (JobStatus.PENDING, JobStatus.RUNNING):
            return None
        self._finished = True
        if status == JobStatus.SUCCEEDED:
            return 0
        if status == JobStatus.STOPPED:
            return -15
        info = self._call("reading the job", lambda: self.client.get_job_info(self.job_id))
        code = getattr(info, "driver_exit_code", None)
        return int(code) if code else 1

    def stop(self, grace: float) -> None:
        """Ask Ray to stop the job and wait (Ray itself escalates to SIGKILL)."""
        self._call("stopping the job", lambda: self.client.stop_job(self.job_id))
        deadline = time.monotonic() + grace + 5
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)

    def error_text(self) -> str:
        """Ray's own message for a failed job (e.g. the entrypoint's exit code)."""
        info = self._call("reading the job", lambda: self.client.get_job_info(self.job_id))
        return str(info.message or "")


class RayKind:
    """The `ray` kind: scripts run as jobs on an existing cluster, found by its address."""

    def resolve(self, name: str, configured: Mapping[str, Any] | None) -> Target:
        """A configured Ray target needs an address; the one named "ray" may take it from
        RUNYARD_RAY_ADDRESS instead."""
        if configured is not None:
            address = configured.get("address")
            if not address:
                raise ValidationError(
                    f"compute target {name!r} needs an 'address' (the Ray dashboard URL)"
                )
            return Target(name, "ray", str(address))
        address = os.environ.get("RUNYARD_RAY_ADDRESS")
        if not address:
            raise ValidationError(
                "the 'ray' target needs a cluster address: set RUNYARD_RAY_ADDRESS (e.g. "
                "http://127.0.0.1:8265) or add it to config.json under compute_targets"
            )
        return Target(name, "ray", address)

    def start(self, launch: Launch) -> RayJob:
        """Submit the script through `runyard.compute.entry` with only the run's variables
        (the runner's own environment stays on this machine)."""
        if not launch.address:
            raise ValidationError(f"run {launch.run_id} has no Ray cluster address")
        python = launch.interpreter("python")
        return RayJob(
            launch.address,
            f"runyard-{launch.run_id}",
            [python, "-m", "runyard.compute.entry", launch.script, *launch.arguments],
            str(launch.workdir),
            dict(launch.run_env),
            launch.pip_packages,
        )


KIND = RayKind()

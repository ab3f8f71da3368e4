"""The Ray target: the script as a job on an existing cluster, through Ray's job API."""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator
from typing import Any

from runyard.core.errors import TransportError


class RayJob:
    """A submitted Ray job whose logs are followed and which can be stopped."""

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

    def lines(self) -> Iterator[tuple[str, str]]:
        """New log lines of the job (Ray merges stdout and stderr into one log)."""
        logs = self.client.get_job_logs(self.job_id)
        fresh, self._seen = logs[self._seen :], len(logs)
        text = self._partial + fresh
        *complete, self._partial = text.split("\n")
        for line in complete:
            yield "stdout", line

    def poll(self) -> int | None:
        """0 when the job succeeded, 1 when it failed, -15 when stopped, None while running."""
        from ray.job_submission import JobStatus

        status = self.client.get_job_status(self.job_id)
        if status == JobStatus.SUCCEEDED:
            return 0
        if status == JobStatus.FAILED:
            return 1
        if status == JobStatus.STOPPED:
            return -15
        return None

    def stop(self, grace: float) -> None:
        """Ask Ray to stop the job and wait (Ray itself escalates to SIGKILL)."""
        self.client.stop_job(self.job_id)
        deadline = time.monotonic() + grace + 5
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)

    def error_text(self) -> str:
        """Ray's own message for a failed job (e.g. the entrypoint's exit code)."""
        info = self.client.get_job_info(self.job_id)
        return str(info.message or "")

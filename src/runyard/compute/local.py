"""The local target: the script as a child process of the runner, in its own process group."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from typing import IO, Any

from runyard.compute.targets import Launch, Target


class LocalProcess:
    """A running script whose stdout and stderr are read line by line as they come."""

    uploads_outputs = False

    def __init__(self, argv: list[str], cwd: str, env: dict[str, str]) -> None:
        self._lines: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: cancel stops its children too
        )
        self._readers = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True)
            for name, stream in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream: IO[bytes] | None) -> None:
        assert stream is not None
        for raw in iter(stream.readline, b""):
            self._lines.put((name, raw.decode(errors="replace").rstrip("\n")))

    def lines(self) -> Iterator[tuple[str, str]]:
        """(stream, line) pairs read since the last call."""
        while True:
            try:
                yield self._lines.get_nowait()
            except queue.Empty:
                return

    def poll(self) -> int | None:
        """The exit code once the script and its output are done, else None."""
        code = self.proc.poll()
        if code is None:
            return None
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def stop(self, grace: float) -> None:
        """SIGTERM the process group, SIGKILL it after `grace` seconds."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def error_text(self) -> str:
        """A local script's failure is explained by its own stderr, which the runner has."""
        return ""


class LocalKind:
    """The `local` kind: scripts run as child processes of the runner."""

    def resolve(self, name: str, configured: Mapping[str, Any] | None) -> Target:
        """A local target needs nothing but its name."""
        return Target(name, "local")

    def start(self, launch: Launch) -> LocalProcess:
        """Start the script with the runner's environment plus the run's variables."""
        env = dict(os.environ)
        env.pop("RUNYARD_MODE", None)  # the runner's own mode is not the script's
        env.update(launch.run_env)
        argv = [launch.interpreter(sys.executable), launch.script, *launch.arguments]
        return LocalProcess(argv, str(launch.workdir), env)


KIND = LocalKind()

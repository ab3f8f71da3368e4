"""The headline promise with real processes: every point logged at least 150 ms before a
`kill -9` is stored, once, whatever the burst (1,000,000 points) and the transport."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from runyard import Run, Workspace

pytestmark = pytest.mark.slow

BURST = 1_000_000

#: Logs BURST points of "x" (value = index) as fast as it can, sleeps 150 ms, says so and
#: calls complete(), during which the test kills it; says "completed" if it got that far.
_BURST_SCRIPT = """
import json, sys, time
from runyard import Experiment, Workspace

ws = Workspace.from_dict(json.loads(sys.argv[1]))
count = int(sys.argv[2])
run = Experiment(ws, "burst").start_logging()
print(run.id, flush=True)
log = run.log
for i in range(count):
    log("x", float(i))
time.sleep(0.15)
print("completing", flush=True)
run.complete()
print("completed", flush=True)
"""

#: What the next runyard process does: open the workspace and read the run's count.
_READER_SCRIPT = """
import json, sys
from runyard import Run, Workspace

ws = Workspace.from_dict(json.loads(sys.argv[1]))
print(len(Run.get(ws, sys.argv[2]).get_metrics("x")["x"]), flush=True)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "RUNYARD_SPOOL_DIR": str(tmp_path / "spool")}


def _kill_during_complete(workspace: Workspace, tmp_path: Path, count: int = BURST) -> str:
    """Run the burst script, SIGKILL it as soon as it enters complete(); its run id."""
    script = tmp_path / "burst.py"
    script.write_text(textwrap.dedent(_BURST_SCRIPT))
    proc = subprocess.Popen(
        [sys.executable, str(script), json.dumps(workspace.to_dict()), str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    try:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        assert run_id, proc.stderr.read() if proc.stderr else "no output"
        line = proc.stdout.readline().strip()
        assert line == "completing", proc.stderr.read() if proc.stderr else line
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        rest = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    # The kill must land inside complete(): else this would test a plain exit.
    assert "completed" not in rest, "complete() returned before the kill"
    assert proc.returncode == -signal.SIGKILL
    return run_id


def _sync(workspace: Workspace, tmp_path: Path) -> str:
    """`runyard sync -w config.json`, as a user runs it after a crash."""
    config = workspace.write_config(tmp_path / "config")
    done = subprocess.run(
        [sys.executable, "-m", "runyard", "sync", "-w", str(config)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def _assert_burst_stored_once(workspace: Workspace, run_id: str, count: int = BURST) -> None:
    (series,) = Run.get(workspace, run_id)._transport.store.get_metric_series(run_id, ["x"])
    assert len(series.values) == count, f"{len(series.values)} points stored, {count} logged"
    assert series.values == [float(i) for i in range(count)], "points lost or doubled"
    assert series.steps == list(range(count))


def test_burst_logged_150ms_before_sigkill_is_stored_once_after_sync(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Embedded SQLite/PostgreSQL and a server on either: kill -9 in complete(), then sync."""
    run_id = _kill_during_complete(workspace, tmp_path)
    _sync(workspace, tmp_path)
    _assert_burst_stored_once(workspace, run_id)


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("transport", ["local"])
def test_next_process_opening_the_store_delivers_a_killed_burst(
    workspace: Workspace, tmp_path: Path
) -> None:
    """No sync: the next runyard process on the same store delivers what the spool holds."""
    run_id = _kill_during_complete(workspace, tmp_path)
    script = tmp_path / "reader.py"
    script.write_text(textwrap.dedent(_READER_SCRIPT))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(script), json.dumps(workspace.to_dict()), run_id],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) == BURST, f"read after {time.monotonic() - started:.1f} s"
    _assert_burst_stored_once(workspace, run_id)

"""Nothing logged is lost or doubled: real processes, killed with SIGKILL or exiting plainly."""

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

from runyard import Experiment, LimitExceededError, Run, ValidationError, Workspace
from runyard.core.limits import Limits
from tests.conftest import poll_until

pytestmark = pytest.mark.slow


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "script.py"
    path.write_text(
        textwrap.dedent(
            """
            import json, sys, time
            from runyard import Experiment, Run, Workspace
            ws = Workspace.from_dict(json.loads(sys.argv[1]))
            """
        )
        + textwrap.dedent(body)
    )
    return path


def _start(script: Path, workspace: Workspace, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), json.dumps(workspace.to_dict()), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _series(run: Run, name: str) -> tuple[list[int], list[float]]:
    (series,) = run.experiment.workspace.transport.store.get_metric_series(run.id, [name])
    return series.steps, series.values  # type: ignore[return-value]


def _sync_if_remote(workspace: Workspace) -> None:
    """What the next SDK process (or `runyard sync`) does with a dead script's spool."""
    if workspace.server_url is not None:
        from runyard.client.spool import spool_folder
        from runyard.client.sync import sync_spool

        sync_spool(workspace, spool_folder(workspace.server_url, workspace.name))


def test_points_logged_200ms_before_sigkill_are_stored(
    experiment: Experiment, tmp_path: Path
) -> None:
    script = _script(
        tmp_path,
        """
        run = Experiment(ws, "explore-runs").start_logging()
        print(run.id, flush=True)
        deadline = time.time() + 60
        while time.time() < deadline:   # about 10,000 points a second, each its own time
            for _ in range(10):
                run.log("t", time.time())
            time.sleep(0.001)
        """,
    )
    proc = _start(script, experiment.workspace)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line, proc.stderr.read() if proc.stderr else "no output"
        run = Run(experiment, line)
        store = run.experiment.workspace.transport.store
        poll_until(
            lambda: (infos := store.list_metrics(run.id)) and infos[0].count > 5000,
            30,
            "the script to get its points into the store",
        )
        killed_at = time.time()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    _sync_if_remote(experiment.workspace)
    steps, values = _series(run, "t")
    assert steps == list(range(len(steps))), "points lost or doubled in the middle"
    assert values == sorted(values)
    assert values[-1] >= killed_at - 0.2, f"last stored point {killed_at - values[-1]:.3f}s old"


def test_points_are_written_when_the_script_exits_without_completing(
    experiment: Experiment, tmp_path: Path
) -> None:
    script = _script(
        tmp_path,
        """
        run = Experiment(ws, "explore-runs").start_logging()
        print(run.id, flush=True)
        for i in range(50_000):
            run.log("i", i)
        """,
    )
    proc = _start(script, experiment.workspace)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    run = Run(experiment, out.strip())
    assert run.get_metrics("i")["i"] == list(range(50_000))
    assert run.get_status() == "Running"


def test_two_processes_logging_one_metric_keep_every_point_once(
    experiment: Experiment, tmp_path: Path
) -> None:
    run = experiment.start_logging()
    script = _script(
        tmp_path,
        """
        run = Run.get(ws, sys.argv[2])
        for i in range(20_000):
            run.log("shared", float(sys.argv[3]))
        run.flush()
        """,
    )
    procs = [_start(script, experiment.workspace, run.id, str(k)) for k in (1, 2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    steps, values = _series(run, "shared")
    assert steps == list(range(40_000))
    assert values.count(1.0) == 20_000 and values.count(2.0) == 20_000


def test_point_limit_error_is_raised_at_the_next_call(tmp_path: Path, store_url: str) -> None:
    ws = Workspace(
        "limited",
        store_url=store_url,
        artifacts_url=str(tmp_path / "a"),
        limits=Limits(max_points_per_metric=10),
    )
    run = Experiment(ws, "limited").start_logging()
    for i in range(15):
        run.log("x", i)
    with pytest.raises(LimitExceededError, match="limit of 10 points"):
        run.flush()
    assert run.get_metrics("x")["x"] == list(range(10))
    run.complete()


def test_kind_clash_from_another_writer_is_reported_not_swallowed(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.log("m", 1.0)
    run.flush()
    other = Run(experiment, run.id)  # another writer that never saw "m"
    other.log_list("m", [1, 2])
    with pytest.raises(ValidationError, match="'m' was logged as scalar"):
        other.flush()
    assert run.get_metrics() == {"m": 1.0}

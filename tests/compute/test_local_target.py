"""Submitted scripts on the `local` target, end to end: the flows of seed 003.

Every test submits real scripts: a detached runner process per run, the script as its
child. The full matrix (SQLite/PostgreSQL x in-process/HTTP) runs for the main life
cycle; the other flows run on two diagonal combinations (sqlite+in-process and
postgres+HTTP) or on sqlite+in-process only, because each submitted run costs seconds on
a loaded machine. After each test every run of the experiment is stopped and its runner
waited for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runyard import (
    Environment,
    Experiment,
    Run,
    RunConfiguration,
    RunyardError,
    ScriptRunConfig,
    Workspace,
)
from tests.conftest import poll_until, runner_ended, runner_log, stop_runs

pytestmark = pytest.mark.slow


TERMINAL = {"Completed", "Failed", "Canceled"}
LIFECYCLE = ["Queued", "Preparing", "Starting", "Running", "Finalizing", "Completed"]

#: Two combinations that between them cover both backends and both transports.
DIAGONAL = pytest.mark.parametrize(
    ("backend", "transport"), [("sqlite", "local"), ("postgres", "http")], indirect=True
)
SQLITE_LOCAL = pytest.mark.parametrize(
    ("backend", "transport"), [("sqlite", "local")], indirect=True
)


def write_script(folder: Path, name: str, source: str) -> Path:
    """Write a script (dedented) into a source folder."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def wait_for_status(run: Run, wanted: set[str], timeout: float) -> str:
    """Poll the run's status until it is one of `wanted`; returns it."""

    def reached() -> str | None:
        status = run.get_status()
        return status if status in wanted else None

    return poll_until(
        reached,
        timeout,
        lambda: f"run {run.id} to be {sorted(wanted)}; runner log:\n{runner_log(run.id)}",
    )


def wait_for_runner_end(run_id: str, timeout: float) -> str:
    """Wait until the run's runner process has finished; returns its log."""
    poll_until(lambda: runner_ended(run_id), timeout, f"the runner of {run_id} to end", every=0.1)
    return runner_log(run_id)


def process_gone(pid: int) -> bool:
    """True when no process `pid` runs any more (a zombie waiting for init counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # an orphan reparented to a PID 1 that does not reap stays a zombie; it runs no code
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.fixture(autouse=True)
def _runs_stopped_after_the_test(experiment: Experiment) -> Iterator[None]:
    yield
    stop_runs(experiment)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """An empty source folder for the test's scripts."""
    folder = tmp_path / "src"
    folder.mkdir()
    return folder


# --- Submit and monitor -------------------------------------------------------------


def test_submitted_script_goes_from_queued_to_completed_with_its_metrics_logs_and_outputs(
    experiment: Experiment, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_script(
        source,
        "train.py",
        """
        import pathlib
        import time

        from runyard import Run

        run = Run.get_context()
        run.log("run_id", run.id)
        for epoch in range(3):
            run.log("loss", 1.0 / (epoch + 1))
        print("training started", flush=True)
        pathlib.Path("outputs").mkdir(exist_ok=True)
        pathlib.Path("outputs/model.txt").write_text("weights")
        time.sleep(1.5)
        print("training done")
        """,
    )
    run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="train.py"))
    assert re.fullmatch(r"explore-runs_\d{10}_[0-9a-f]{8}", run.id)

    seen: list[str] = []
    deadline = time.monotonic() + 60
    while not seen or seen[-1] not in TERMINAL:
        assert time.monotonic() < deadline, f"run never ended; saw {seen}; {runner_log(run.id)}"
        status = run.get_status()
        if not seen or seen[-1] != status:
            seen.append(status)
        time.sleep(0.01)

    assert seen[0] == "Queued"
    assert seen[-1] == "Completed", (seen, run.get_details()["error"], runner_log(run.id))
    assert "Running" in seen
    assert all(s in LIFECYCLE for s in seen), seen
    assert [LIFECYCLE.index(s) for s in seen] == sorted(LIFECYCLE.index(s) for s in seen)

    metrics = run.get_metrics()
    assert metrics["loss"] == pytest.approx([1.0, 0.5, 1 / 3])
    assert metrics["run_id"] == run.id  # Run.get_context() inside the script was this run
    names = run.get_file_names()
    assert "logs/stdout.txt" in names and "outputs/model.txt" in names
    assert (run.download_file("outputs/model.txt", source.parent / "model.txt")).read_text() == (
        "weights"
    )
    stdout = run.get_details_with_logs()["logFiles"]["logs/stdout.txt"]
    assert stdout == "training started\ntraining done\n"

    details = run.get_details()
    assert details["runDefinition"]["script"] == "train.py"
    assert details["runDefinition"]["targetType"] == "local"
    assert details["target"] == "local" and details["runType"] == "script"
    assert details["startTimeUtc"] and details["endTimeUtc"]
    assert details["error"] is None

    capsys.readouterr()
    run.wait_for_completion(show_output=True)
    out = capsys.readouterr().out
    assert "training started\ntraining done\n" in out
    assert f"Run {run.id} ended: Completed" in out


@SQLITE_LOCAL
def test_submit_reports_the_snapshot_upload_to_a_progress_callback(
    experiment: Experiment, source: Path
) -> None:
    """What the CLI's progress bar uses: (bytes done, bytes in all) as the snapshot is made."""
    write_script(source, "train.py", "print('ok')")
    (source / "data.bin").write_bytes(b"x" * 200_000)
    seen: list[tuple[int, int]] = []
    run = experiment.submit(
        ScriptRunConfig(source_directory=str(source), script="train.py"),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen, "the callback was never called"
    total = seen[-1][1]
    assert total >= 200_000 and seen[-1][0] == total
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert wait_for_status(run, TERMINAL, 60) == "Completed"


@DIAGONAL
def test_printed_line_is_in_the_run_logs_within_a_second_while_running(
    experiment: Experiment, source: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "printed"
    write_script(
        source,
        "talk.py",
        """
        import pathlib
        import sys
        import time

        print("first line", flush=True)
        pathlib.Path(sys.argv[1]).write_text("printed")
        time.sleep(4)
        print("second line")
        """,
    )
    run = experiment.submit(
        ScriptRunConfig(source_directory=str(source), script="talk.py", arguments=[marker])
    )
    store = experiment.workspace.transport.store
    poll_until(marker.exists, 60, lambda: f"the script to print; {runner_log(run.id)}", every=0.01)
    printed_at = time.monotonic()

    def first_line_stored() -> bool:
        return "first line" in [line.line for line in store.read_log_lines(run.id, "stdout")]

    poll_until(first_line_stored, 1.0, "the first line to reach the run's logs", every=0.02)
    assert time.monotonic() - printed_at <= 1.0
    assert run.get_status() == "Running"

    wait_for_status(run, TERMINAL, 60)
    lines = [line.line for line in store.read_log_lines(run.id, "stdout")]
    assert lines == ["first line", "second line"]


# --- Cancel and fail ----------------------------------------------------------------

HELLO_WITH_DELAY = """
    import os
    import subprocess
    import sys
    import time

    helper = subprocess.Popen(["sleep", "120"])
    pids = sys.argv[1]
    with open(pids + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {helper.pid}")
    os.replace(pids + ".tmp", pids)
    print("Hello, going to sleep", flush=True)
    time.sleep(120)
    print("woke up")
    """


@DIAGONAL
def test_cancel_stops_the_script_and_the_processes_it_started(
    experiment: Experiment, source: Path, tmp_path: Path
) -> None:
    pids_file = tmp_path / "pids"
    write_script(source, "hello_with_delay.py", HELLO_WITH_DELAY)
    run_config = ScriptRunConfig(
        source_directory=str(source), script="hello_with_delay.py", arguments=[pids_file]
    )
    local_script_run = experiment.submit(run_config)
    print(local_script_run.get_status())
    wait_for_status(local_script_run, {"Running"}, 60)
    poll_until(pids_file.exists, 30, "the script to write its pid")
    script_pid, helper_pid = (int(p) for p in pids_file.read_text().split())

    asked = time.monotonic()
    local_script_run.cancel()
    assert local_script_run.get_status() in ("CancelRequested", "Canceled")
    wait_for_status(local_script_run, {"Canceled", "Failed", "Completed"}, 30)
    took = time.monotonic() - asked

    assert local_script_run.get_status() == "Canceled"
    assert took <= 5.0, f"cancel took {took:.1f} s"
    assert process_gone(script_pid)
    poll_until(lambda: process_gone(helper_pid), 5, "the script's own child process to be gone")


@SQLITE_LOCAL
def test_cancel_while_preparing_ends_canceled_and_never_starts_the_script(
    experiment: Experiment, source: Path, tmp_path: Path
) -> None:
    # A big incompressible file keeps the runner in Preparing (fetching and unpacking the
    # snapshot) long enough for the cancel to land there.
    (source / "data.bin").write_bytes(os.urandom(20_000_000))
    started = tmp_path / "started"
    write_script(
        source,
        "mark.py",
        """
        import pathlib
        import sys

        pathlib.Path(sys.argv[1]).write_text("started")
        """,
    )
    run = experiment.submit(
        ScriptRunConfig(source_directory=str(source), script="mark.py", arguments=[started])
    )
    status = poll_until(
        lambda: (s := run.get_status()) != "Queued" and s, 60, "the runner to pick the run up", 0
    )
    assert status == "Preparing", f"the run went to {status} before the cancel could land"
    run.cancel()
    wait_for_status(run, TERMINAL, 30)
    details = run.get_details()
    assert details["status"] == "Canceled", details["error"]
    assert not started.exists()


@SQLITE_LOCAL
def test_script_that_raises_fails_with_the_exception_text(
    experiment: Experiment, source: Path
) -> None:
    write_script(
        source,
        "broken.py",
        """
        print("about to fail")
        raise ValueError("the learning rate is negative")
        """,
    )
    run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="broken.py"))
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=60)
    assert details["status"] == "Failed"
    assert "ValueError: the learning rate is negative" in details["error"]["message"]
    assert "logs/stderr.txt" in details["logFiles"]
    with pytest.raises(RunyardError, match="the learning rate is negative"):
        run.wait_for_completion(timeout_seconds=10)


@SQLITE_LOCAL
def test_script_that_exits_non_zero_fails_with_its_exit_code(
    experiment: Experiment, source: Path
) -> None:
    write_script(source, "exit3.py", "import sys\nsys.exit(3)\n")
    run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="exit3.py"))
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=60)
    assert details["status"] == "Failed"
    assert "exit code 3" in details["error"]["message"]


@SQLITE_LOCAL
def test_fail_right_after_submit_marks_the_run_failed_for_good(
    experiment: Experiment, source: Path, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    write_script(
        source,
        "hello_with_delay.py",
        """
        import pathlib
        import sys
        import time

        pathlib.Path(sys.argv[1]).write_text("started")
        time.sleep(2)
        """,
    )
    run_config = ScriptRunConfig(
        source_directory=str(source), script="hello_with_delay.py", arguments=[started]
    )
    local_script_run = experiment.submit(run_config)
    local_script_run.fail()
    print(local_script_run.get_status())
    assert local_script_run.get_status() == "Failed"

    wait_for_runner_end(local_script_run.id, 60)
    assert local_script_run.get_status() == "Failed"
    assert local_script_run.get_details()["error"]["code"] == "UserError"
    assert not started.exists()


@SQLITE_LOCAL
def test_runner_of_a_run_failed_while_queued_ends_without_a_traceback(
    experiment: Experiment, source: Path
) -> None:
    write_script(source, "noop.py", "print('hi')\n")
    run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="noop.py"))
    run.fail("submitted the wrong script")
    text = wait_for_runner_end(run.id, 60)
    assert "Traceback" not in text, text
    assert f"run {run.id} ended Failed" in text


@SQLITE_LOCAL
def test_fail_while_running_is_not_overwritten_when_the_script_ends(
    experiment: Experiment, source: Path, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    write_script(
        source,
        "slow.py",
        """
        import pathlib
        import sys
        import time

        pathlib.Path(sys.argv[1]).write_text("started")
        time.sleep(2)
        """,
    )
    run = experiment.submit(
        ScriptRunConfig(source_directory=str(source), script="slow.py", arguments=[started])
    )
    poll_until(started.exists, 60, "the script to start")
    run.fail(ValueError("wrong training script"), error_code="WrongScript")
    wait_for_runner_end(run.id, 60)
    details = run.get_details()
    assert details["status"] == "Failed"
    assert details["error"]["code"] == "WrongScript"
    assert details["error"]["message"] == "ValueError: wrong training script"


@SQLITE_LOCAL
def test_max_run_duration_cancels_a_run_that_runs_too_long(
    experiment: Experiment, source: Path
) -> None:
    write_script(
        source, "forever.py", "import time\nprint('working', flush=True)\ntime.sleep(30)\n"
    )
    run = experiment.submit(
        ScriptRunConfig(
            source_directory=str(source), script="forever.py", max_run_duration_seconds=2
        )
    )
    wait_for_status(run, {"Running"}, 60)
    running_at = time.monotonic()
    wait_for_status(run, TERMINAL, 30)
    took = time.monotonic() - running_at
    details = run.get_details()
    assert details["status"] == "Canceled"
    assert "max_run_duration" in details["error"]["message"]
    assert took <= 2 + 5, f"canceled {took:.1f} s after it started running"


# --- The run belongs to the workspace, not to the submitter --------------------------


@SQLITE_LOCAL
def test_run_continues_after_the_submitting_process_exits(
    experiment: Experiment, source: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    write_script(
        source,
        "wait_for_go.py",
        """
        import pathlib
        import sys
        import time

        go = pathlib.Path(sys.argv[1])
        deadline = time.monotonic() + 60
        while not go.exists():
            if time.monotonic() > deadline:
                sys.exit("never told to go")
            time.sleep(0.05)
        print("went")
        """,
    )
    submitter = textwrap.dedent(
        """
        import json
        import sys

        from runyard import Experiment, ScriptRunConfig, Workspace

        ws = Workspace.from_dict(json.loads(sys.argv[1]))
        config = ScriptRunConfig(
            source_directory=sys.argv[3], script="wait_for_go.py", arguments=[sys.argv[4]]
        )
        print(Experiment(ws, sys.argv[2]).submit(config).id)
        """
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            submitter,
            json.dumps(experiment.workspace.to_dict()),
            experiment.name,
            str(source),
            str(go),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    run = Run.get(experiment.workspace, done.stdout.strip())
    assert run.get_status() not in TERMINAL  # the submitter is gone; the run is not
    go.write_text("go")
    details = run.wait_for_completion(timeout_seconds=60)
    assert details["status"] == "Completed"
    assert "went" in run.get_details_with_logs()["logFiles"]["logs/stdout.txt"]


# --- Child runs submitted from a submitted script -----------------------------------

PARENT_PY = """
    # parent.py
    # This script controls the launching of child scripts
    from runyard import Run, ScriptRunConfig, RunConfiguration

    run_config_for_aml_compute = RunConfiguration()
    run_config_for_aml_compute.target = "local"
    run_config_for_aml_compute.environment.docker.enabled = True

    run = Run.get_context()

    child_args = ['Apple', 'Banana', 'Orange']
    for arg in child_args:
        run.log('Status', f'Launching {arg}')
        child_config = ScriptRunConfig(source_directory=".", script='child.py', arguments=['--fruit', arg], run_config = run_config_for_aml_compute)
        # Starts the run asynchronously
        run.submit_child(child_config)

    # Experiment will "complete" successfully at this point.
    # Instead of returning immediately, block until child runs complete

    for child in run.get_children():
        child.wait_for_completion()
    """  # noqa: E501 - the seed's code as written

CHILD_PY = """
    import argparse

    from runyard import Run

    parser = argparse.ArgumentParser()
    parser.add_argument("--fruit")
    args = parser.parse_args()

    ## In child run script
    child_run = Run.get_context()
    child_run.log("fruit", args.fruit)
    child_run.log("parent_id", child_run.parent.id)
    """


@DIAGONAL
def test_submitted_script_submits_children_that_know_their_parent(
    experiment: Experiment, source: Path
) -> None:
    write_script(source, "parent.py", PARENT_PY)
    write_script(source, "child.py", CHILD_PY)
    parent = experiment.submit(ScriptRunConfig(source_directory=str(source), script="parent.py"))
    details = parent.wait_for_completion(raise_on_error=False, timeout_seconds=150)
    assert details["status"] == "Completed", (details["error"], runner_log(parent.id))

    children = list(parent.get_children())
    assert len(children) == 3
    assert [c.get_status() for c in children] == ["Completed"] * 3
    assert all(c.parent is not None and c.parent.id == parent.id for c in children)
    metrics = [c.get_metrics() for c in children]
    assert sorted(m["fruit"] for m in metrics) == ["Apple", "Banana", "Orange"]
    assert {m["parent_id"] for m in metrics} == {parent.id}
    assert parent.get_metrics()["Status"] == [
        "Launching Apple",
        "Launching Banana",
        "Launching Orange",
    ]
    assert [r.id for r in experiment.get_runs()] == [parent.id]


# --- Tags, properties, arguments and environment ------------------------------------


@SQLITE_LOCAL
def test_submitted_run_is_found_by_its_tags_and_properties(
    experiment: Experiment, source: Path
) -> None:
    write_script(source, "train.py", "print('training')\n")
    config = ScriptRunConfig(source_directory=str(source), script="train.py")
    local_script_run = experiment.submit(config, tags={"quality": "great run"})
    other = experiment.submit(config, tags={"quality": "fantastic run"})

    local_script_run.add_properties({"author": "azureml-user"})
    local_script_run.tag("quality", "fantastic run")
    local_script_run.tag("worth another look")
    for run in (local_script_run, other):
        run.wait_for_completion(timeout_seconds=60)

    assert local_script_run.get_tags() == {"quality": "fantastic run", "worth another look": None}
    assert local_script_run.get_properties() == {"author": "azureml-user"}
    found = list(
        experiment.get_runs(
            properties={"author": "azureml-user"}, tags={"quality": "fantastic run"}
        )
    )
    assert [r.id for r in found] == [local_script_run.id]
    found = list(
        experiment.get_runs(properties={"author": "azureml-user"}, tags="worth another look")
    )
    assert [r.id for r in found] == [local_script_run.id]
    assert [r.id for r in experiment.get_runs(tags={"quality": "fantastic run"})] == [
        other.id,
        local_script_run.id,
    ]


@SQLITE_LOCAL
def test_arguments_and_environment_variables_reach_the_script(
    experiment: Experiment, source: Path, workspace: Workspace
) -> None:
    write_script(
        source,
        "show.py",
        """
        import json
        import os
        import pathlib
        import sys

        pathlib.Path("outputs").mkdir()
        seen = {
            "argv": sys.argv[1:],
            "env": {k: os.environ.get(k) for k in ("FROM_ENVIRONMENT", "FROM_RUN_CONFIG")},
            "run_id": os.environ.get("RUNYARD_RUN_ID"),
        }
        pathlib.Path("outputs/seen.json").write_text(json.dumps(seen))
        """,
    )
    run = experiment.submit(
        ScriptRunConfig(
            source_directory=str(source),
            script="show.py",
            arguments=["--lr", 0.1, "--name", "two words", "--flag"],
            run_config=RunConfiguration(environment_variables={"FROM_RUN_CONFIG": "b"}),
            environment=Environment(environment_variables={"FROM_ENVIRONMENT": "a"}),
        )
    )
    run.wait_for_completion(timeout_seconds=60)
    seen = json.loads(run.download_file("outputs/seen.json", source.parent).read_text())
    assert seen == {
        "argv": ["--lr", "0.1", "--name", "two words", "--flag"],
        "env": {"FROM_ENVIRONMENT": "a", "FROM_RUN_CONFIG": "b"},
        "run_id": run.id,
    }
    assert run.get_details()["runDefinition"]["arguments"] == [
        "--lr",
        "0.1",
        "--name",
        "two words",
        "--flag",
    ]

"""`runyard run submit-script` and the run commands around it, run as a user runs them.

Each command is a real `python -m runyard ...` process in a project folder. The project
finds its workspace through `.runyard/config.json` (written by `runyard folder attach`, or
the test workspace's `write_config`). Submitting costs seconds per run, so the tests run
on SQLite in-process; the cancel test also runs on PostgreSQL over HTTP.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from runyard import Experiment, NotFoundError, Run, RunConfiguration, Workspace
from tests.conftest import poll_until, stop_runs

pytestmark = pytest.mark.slow

SQLITE_LOCAL = pytest.mark.parametrize(
    ("backend", "transport"), [("sqlite", "local")], indirect=True
)
DIAGONAL = pytest.mark.parametrize(
    ("backend", "transport"), [("sqlite", "local"), ("postgres", "http")], indirect=True
)
TERMINAL = ("Completed", "Failed", "Canceled")

TRAIN_PY = """
import sys
import time

from runyard import Run

run = Run.get_context()
for word in sys.argv[1:]:
    if word == "author":
        run.add_properties({"author": "azureml-user"})
    elif word.startswith("sleep="):
        time.sleep(float(word.removeprefix("sleep=")))
run.log("accuracy", 0.9)
print("Hello from train.py", sys.argv[1:])
"""


def runyard(command: str, *more: str, cwd: Path, timeout: float = 120) -> CompletedProcess[str]:
    """Run `python -m runyard COMMAND MORE...` in `cwd` (COMMAND split as a shell would)."""
    return subprocess.run(
        [sys.executable, "-m", "runyard", *shlex.split(command), *more],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def submitted_id(stderr: str) -> str:
    """The run id from submit-script's "submitted run ID (Status)" line."""
    for line in stderr.splitlines():
        if line.startswith("submitted run "):
            return line.split()[2]
    raise AssertionError(f"no 'submitted run' line in {stderr!r}")


def wait_for_status(run: Run, wanted: tuple[str, ...], timeout: float) -> str:
    """Poll until the run's status is one of `wanted`."""

    def reached() -> str | None:
        status = run.get_status()
        return status if status in wanted else None

    return poll_until(reached, timeout, lambda: f"run {run.id} to be one of {wanted}")


@pytest.fixture
def project(workspace: Workspace, tmp_path: Path) -> Iterator[Path]:
    """A project folder with train.py whose .runyard/config.json points at the test workspace."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN_PY)
    workspace.write_config(folder)
    yield folder
    stop_runs(Experiment(workspace, "testexperiment"))


@pytest.fixture
def exp(workspace: Workspace) -> Experiment:
    """The experiment the commands submit to."""
    return Experiment(workspace, "testexperiment")


def test_folder_attach_then_submit_script_follows_the_output_and_exits_0(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN_PY)
    attached = runyard("folder attach -w myworkspace --path", str(folder), cwd=folder)
    assert attached.returncode == 0, attached.stderr
    assert (folder / ".runyard" / "config.json").is_file()

    done = runyard("run submit-script -e testexperiment train.py 1", cwd=folder)

    assert done.returncode == 0, done.stderr
    run_id = submitted_id(done.stderr)
    output, _, document = done.stdout.partition(f"Run {run_id} ended: Completed\n")
    assert "Hello from train.py ['1']" in output
    details = json.loads(document)
    assert details["runId"] == run_id and details["status"] == "Completed"
    assert details["experimentName"] == "testexperiment"
    workspace = Workspace.from_config(folder)
    assert Run.get(workspace, run_id).get_metrics() == {"accuracy": 0.9}


@SQLITE_LOCAL
def test_failing_script_exits_1_and_shows_the_error(project: Path) -> None:
    (project / "broken.py").write_text("raise RuntimeError('out of memory on purpose')\n")
    done = runyard("run submit-script -e testexperiment broken.py", cwd=project)
    assert done.returncode == 1, done.stderr
    assert "RuntimeError: out of memory on purpose" in done.stdout
    details = json.loads(done.stdout.partition(" ended: Failed\n")[2])
    assert details["status"] == "Failed"
    assert "out of memory on purpose" in details["error"]["message"]


@SQLITE_LOCAL
def test_async_returns_the_queued_run_at_once_and_run_show_reports_its_end(
    project: Path, exp: Experiment
) -> None:
    done = runyard("run submit-script -e testexperiment --async train.py sleep=1", cwd=project)
    assert done.returncode == 0, done.stderr
    details = json.loads(done.stdout)
    assert details["status"] == "Queued"
    assert details["runDefinition"]["arguments"] == ["sleep=1"]
    run = Run.get(exp.workspace, details["runId"])
    wait_for_status(run, TERMINAL, 60)

    shown = runyard(f"run show -r {run.id} --query status", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == "Completed"


@DIAGONAL
def test_run_cancel_stops_a_running_script_and_the_follower_exits_4(
    project: Path, exp: Experiment
) -> None:
    command = ["run", "submit-script", "-e", "testexperiment", "train.py", "sleep=120"]
    follower = subprocess.Popen(
        [sys.executable, "-m", "runyard", *command],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        runs: list[Run] = []
        while not runs:
            assert time.monotonic() < deadline, "the run never appeared"
            assert follower.poll() is None, follower.communicate()
            try:
                runs = list(exp.get_runs())
            except NotFoundError:  # the experiment is created with its first run
                runs = []
            time.sleep(0.1)
        run = runs[0]
        wait_for_status(run, ("Running",), 60)

        canceled = runyard(f"run cancel -r {run.id} --query status", cwd=project)
        assert canceled.returncode == 0, canceled.stderr
        assert json.loads(canceled.stdout) in ("CancelRequested", "Canceled")
        assert wait_for_status(run, TERMINAL, 10) == "Canceled"
        out, err = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.communicate()
    assert follower.returncode == 4, err
    assert f"Run {run.id} ended: Canceled" in out


def submit_async(project: Path, *words: str) -> str:
    """`submit-script --async`; returns the run id."""
    command = "run submit-script -e testexperiment --async --query runId train.py"
    done = runyard(command, *words, cwd=project)
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout))


@SQLITE_LOCAL
def test_run_list_query_finds_the_run_tagged_with_run_update(
    project: Path, exp: Experiment
) -> None:
    runid = submit_async(project, "author")
    other = submit_async(project)
    for run_id in (runid, other):
        wait_for_status(Run.get(exp.workspace, run_id), TERMINAL, 60)
    Run.get(exp.workspace, other).tag("quality", "fantastic run")  # but no author property

    updated = subprocess.run(
        f"{shlex.quote(sys.executable)} -m runyard run update -r {runid} "
        "--add-tag quality='fantastic run'",
        shell=True,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["tags"] == {"quality": "fantastic run"}

    query = "[?properties.author=='azureml-user' && tags.quality=='fantastic run'].runId"
    listed = runyard("run list --experiment-name testexperiment --query", query, cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [runid]


@SQLITE_LOCAL
def test_run_list_shows_the_newest_run_first(project: Path, exp: Experiment) -> None:
    ids = [submit_async(project), submit_async(project)]
    listed = runyard("run list -e testexperiment --query [].runId", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == list(reversed(ids))
    for run_id in ids:
        wait_for_status(Run.get(exp.workspace, run_id), TERMINAL, 60)


@SQLITE_LOCAL
def test_script_arguments_that_look_like_options_reach_the_script(project: Path) -> None:
    done = runyard("run submit-script -e testexperiment train.py --lr 0.1 -n 3", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "Hello from train.py ['--lr', '0.1', '-n', '3']" in done.stdout


@SQLITE_LOCAL
def test_c_picks_the_runconfig_saved_with_run_configuration_save(
    project: Path, workspace: Workspace
) -> None:
    (project / "show_env.py").write_text("import os\nprint('FLAVOUR', os.environ['FLAVOUR'])\n")
    saved = RunConfiguration(environment_variables={"FLAVOUR": "sklearn"}).save(
        path=project, name="sklearn"
    )
    assert saved == project / ".runyard" / "sklearn.runconfig"
    done = runyard("run submit-script -c sklearn -e testexperiment show_env.py", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "FLAVOUR sklearn" in done.stdout
    details = Run.get(workspace, submitted_id(done.stderr)).get_details()
    assert details["runDefinition"]["environmentVariables"] == {"FLAVOUR": "sklearn"}


@SQLITE_LOCAL
def test_w_names_the_workspace_config_from_any_folder(workspace: Workspace, tmp_path: Path) -> None:
    config = workspace.write_config(tmp_path / "elsewhere")
    source = tmp_path / "code"
    source.mkdir()
    (source / "train.py").write_text(TRAIN_PY)
    options = ["-w", str(config), "-d", str(source)]
    done = runyard("run submit-script -e testexperiment", *options, "train.py", cwd=tmp_path)
    try:
        assert done.returncode == 0, done.stderr
        assert Run.get(workspace, submitted_id(done.stderr)).get_status() == "Completed"
    finally:
        stop_runs(Experiment(workspace, "testexperiment"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py"], "missing.py"),
        (["-c", "nosuchconfig", "train.py"], "nosuchconfig.runconfig"),
        (["-t", "gpu-cluster", "train.py"], "unknown compute target 'gpu-cluster'"),
        (["-d", "no-such-folder", "train.py"], "no-such-folder"),
    ],
)
@SQLITE_LOCAL
def test_submit_errors_are_one_line_without_a_traceback(
    project: Path, args: list[str], message: str
) -> None:
    done = runyard("run submit-script -e testexperiment", *args, cwd=project)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: "), repr(done.stderr)

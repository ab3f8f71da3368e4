"""The `ray` compute target against a real Ray head started on loopback by these tests.

The head runs for the module; the runner and the Ray job driver both run on this machine,
so a SQLite workspace (embedded or behind a real server) is reachable from inside the job.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runyard import Experiment, Run, ScriptRunConfig
from tests.conftest import free_port, poll_until

pytestmark = pytest.mark.slow

job_submission = pytest.importorskip("ray.job_submission", reason="RAY IS NOT INSTALLED")

VENV_BIN = Path(sys.executable).parent
HEAD_START_DEADLINE = 90.0
TARGET = "cluster"


# --- the Ray head ------------------------------------------------------------------------


@dataclass
class RayHead:
    """A Ray head on loopback: its job API address and how long it took to answer."""

    address: str
    temp_dir: Path
    session_id: int
    start_seconds: float


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) of every process on the machine."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[3]))
    return table


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _head_processes(session_id: int, temp_dir: Path) -> set[int]:
    """Every process of our head: its session, their descendants (workers and job drivers
    start sessions of their own) and anything naming its temp dir."""
    table = _processes()
    found = {pid for pid, (_, sid) in table.items() if sid == session_id}
    found |= {pid for pid in table if str(temp_dir) in _cmdline(pid)}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _) in table.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    found.discard(os.getpid())
    return found


def _stop_head(session_id: int, temp_dir: Path) -> list[str]:
    """Stop exactly our head's processes by pid (SIGTERM, SIGKILL after 3 s); returns the
    command lines of any that survived. (`ray stop` would end every Ray on the machine.)"""
    pids = _head_processes(session_id, temp_dir)
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        pids = {p for p in pids if _alive(p)}
        if not pids:
            break
    return [_cmdline(p) for p in _head_processes(session_id, temp_dir) if _alive(p)]


def _log_tail(temp_dir: Path) -> str:
    logs = temp_dir / "session_latest" / "logs"
    parts = []
    for name in ("dashboard.log", "gcs_server.out", "raylet.out"):
        path = logs / name
        if path.is_file():
            parts.append(f"--- {name}\n" + "\n".join(path.read_text().splitlines()[-15:]))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def ray_head() -> Iterator[RayHead]:
    """`ray start --head` on loopback with its own temp dir; every process stopped after."""
    temp_dir = Path(f"/tmp/ry-{uuid.uuid4().hex[:8]}")  # short: Ray's unix sockets live here
    dashboard_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNYARD_")}
    env.update(
        # Job entrypoints run `python`: it must be the venv's, where runyard is installed.
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        # Off, Ray swaps 127.0.0.1 for the machine's address and listens on it.
        RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",
        RAY_USAGE_STATS_ENABLED="0",
        # Fixed by default (44217, 44227): free ones let two heads share the machine.
        AUTOSCALER_METRIC_PORT=str(free_port()),
        DASHBOARD_METRIC_PORT=str(free_port()),
    )
    command = [
        str(VENV_BIN / "ray"),
        "start",
        "--head",
        "--node-ip-address=127.0.0.1",
        f"--port={free_port()}",
        "--include-dashboard=true",
        "--dashboard-host=127.0.0.1",
        f"--dashboard-port={dashboard_port}",
        f"--dashboard-agent-listen-port={free_port()}",
        f"--ray-client-server-port={free_port()}",
        "--num-cpus=2",
        "--object-store-memory=100000000",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
    ]
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the head's daemons stay in this session: found by it later
    )
    session_id = proc.pid
    address = f"http://127.0.0.1:{dashboard_port}"
    problem: str | None = None
    try:
        out, _ = proc.communicate(timeout=HEAD_START_DEADLINE)
        if proc.returncode != 0:
            problem = f"`ray start` exited {proc.returncode}:\n{out.decode()[-3000:]}"
    except subprocess.TimeoutExpired:
        problem = f"`ray start` did not return in {HEAD_START_DEADLINE:g} s"
    if problem is None:
        problem = "the job API did not answer"
        deadline = started + HEAD_START_DEADLINE
        while time.monotonic() < deadline:
            try:
                job_submission.JobSubmissionClient(address).list_jobs()
                problem = None
                break
            except Exception as exc:  # Ray raises bare ConnectionError/RuntimeError
                problem = f"the job API at {address} did not answer: {exc}"
                time.sleep(0.5)
    head = RayHead(address, temp_dir, session_id, time.monotonic() - started)
    try:
        if problem is not None:
            pytest.skip(f"RAY HEAD COULD NOT START: {problem}\n{_log_tail(temp_dir)}")
        print(f"\nRay head answered after {head.start_seconds:.1f} s at {address}")
        yield head
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        survivors = _stop_head(session_id, temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not survivors, f"Ray processes survived the teardown: {survivors}"


# --- workspaces, scripts, helpers --------------------------------------------------------


@pytest.fixture
def backend() -> str:
    """Ray jobs run on this machine, so SQLite is all these tests need."""
    return "sqlite"


@pytest.fixture(params=["local", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    """The job reaches the workspace in-process (SQLite file) and through a real server."""
    return str(request.param)


@pytest.fixture
def on_ray(experiment: Experiment, ray_head: RayHead) -> Experiment:
    """The experiment, with the head as the workspace's compute target `cluster`."""
    experiment.workspace.compute_targets[TARGET] = {"type": "ray", "address": ray_head.address}
    return experiment


@pytest.fixture
def source(tmp_path: Path) -> Callable[[str], Path]:
    """A source folder holding train.py with the given body."""

    def write(body: str) -> Path:
        folder = tmp_path / "src"
        folder.mkdir(exist_ok=True)
        (folder / "train.py").write_text(textwrap.dedent(body))
        return folder

    return write


def _runner_log(run: Run) -> str:
    path = Path(tempfile.gettempdir()) / "runyard-runners" / f"{run.id}.log"
    return path.read_text()[-3000:] if path.is_file() else "(no runner log)"


def _lines(run: Run) -> list[str]:
    return [line.line for line in run.experiment.workspace.transport.store.read_log_lines(run.id)]


def _wait_for(what: str, check: Callable[[], bool], run: Run, timeout: float = 60.0) -> None:
    poll_until(
        check,
        timeout,
        lambda: (
            f"{what}; status {run.get_status()}, lines {_lines(run)}\n"
            f"runner log:\n{_runner_log(run)}"
        ),
        every=0.1,
    )


def _ray_status(head: RayHead, run: Run) -> str:
    client = job_submission.JobSubmissionClient(head.address)
    return str(client.get_job_status(f"runyard-{run.id}"))


TRAIN = """
    import sys
    import time
    from pathlib import Path

    from runyard import Run

    run = Run.get_context()
    for epoch in range(3):
        run.log("loss", 1 / 2**epoch)
        print(f"epoch {epoch} done", flush=True)
    gate = Path(sys.argv[1])  # opened by the test once it has seen the lines above
    deadline = time.monotonic() + 60
    while not gate.exists():
        if time.monotonic() > deadline:
            sys.exit("the gate never opened")
        time.sleep(0.05)
    Path("outputs").mkdir(exist_ok=True)
    Path("outputs/model.txt").write_text("weights of " + run.id)
    print("saved the model", flush=True)
"""


# --- the tests ---------------------------------------------------------------------------


def test_script_on_ray_completes_with_metrics_live_logs_and_outputs(
    on_ray: Experiment, source: Callable[[str], Path], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    run = on_ray.submit(
        ScriptRunConfig(
            source_directory=str(source(TRAIN)),
            script="train.py",
            arguments=[gate],
            compute_target=TARGET,
            max_run_duration_seconds=120,
        )
    )
    _wait_for("the script's lines in the run's logs", lambda: "epoch 2 done" in _lines(run), run)
    assert run.get_status() == "Running"  # the lines came while the script was still running
    gate.touch()
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=90)
    assert details["status"] == "Completed", f"{details}\n{_runner_log(run)}"
    assert run.get_metrics() == {"loss": [1.0, 0.5, 0.25]}
    lines = _lines(run)
    assert (
        lines.index("epoch 0 done") < lines.index("epoch 2 done") < lines.index("saved the model")
    )
    assert "outputs/model.txt" in run.get_file_names()
    model = run.download_file("outputs/model.txt", tmp_path / "model.txt")
    assert model.read_text() == f"weights of {run.id}"
    definition = details["runDefinition"]
    assert (definition["target"], definition["targetType"]) == (TARGET, "ray")


def test_cancel_stops_the_ray_job_and_marks_the_run_canceled(
    on_ray: Experiment,
    ray_head: RayHead,
    source: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("RUNYARD_RAY_ADDRESS", ray_head.address)
    pid_file = tmp_path / "pid"
    body = """
        import os
        import sys
        import time
        from pathlib import Path

        Path(sys.argv[1]).write_text(str(os.getpid()))
        print("training for a long time", flush=True)
        time.sleep(120)
    """
    run = on_ray.submit(
        ScriptRunConfig(
            source_directory=str(source(body)),
            script="train.py",
            arguments=[pid_file],
            compute_target="ray",
        )
    )
    _wait_for(
        "the script running", lambda: "training for a long time" in _lines(run), run, timeout=60
    )
    assert run.get_status() == "Running"
    assert _ray_status(ray_head, run) == "RUNNING"
    asked = time.monotonic()
    run.cancel()
    _wait_for("Canceled", lambda: run.get_status() == "Canceled", run, timeout=15)
    assert time.monotonic() - asked < 10
    assert _ray_status(ray_head, run) == "STOPPED"
    script_pid = int(pid_file.read_text())
    poll_until(lambda: not _alive(script_pid), 10, f"the script (pid {script_pid}) to end", 0.1)
    assert run.get_details()["runDefinition"]["targetType"] == "ray"


def test_script_that_raises_on_ray_fails_with_the_error(
    on_ray: Experiment, source: Callable[[str], Path]
) -> None:
    body = """
        print("checking the learning rate", flush=True)
        raise ValueError("learning rate too high: 7.5")
    """
    run = on_ray.submit(
        ScriptRunConfig(
            source_directory=str(source(body)), script="train.py", compute_target=TARGET
        )
    )
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=90)
    assert details["status"] == "Failed", f"{details}\n{_runner_log(run)}"
    assert "ValueError: learning rate too high: 7.5" in details["error"]["message"]
    assert "checking the learning rate" in _lines(run)


def test_cli_submit_script_to_ray_prints_the_output_and_exits_0(
    on_ray: Experiment, source: Callable[[str], Path], tmp_path: Path
) -> None:
    body = """
        from runyard import Run

        Run.get_context().log("accuracy", 0.9)
        print("hello from a Ray job", flush=True)
    """
    folder = source(body)
    config = on_ray.workspace.write_config(tmp_path)
    assert json.loads(config.read_text())["compute_targets"][TARGET]["type"] == "ray"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "runyard",
            "run",
            "submit-script",
            "-e",
            on_ray.name,
            "-t",
            TARGET,
            "-w",
            str(config),
            "-d",
            str(folder),
            "train.py",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hello from a Ray job" in result.stdout
    (run,) = on_ray.get_runs()
    assert run.get_metrics() == {"accuracy": 0.9}
    assert run.get_details()["runDefinition"]["targetType"] == "ray"


def test_unreachable_ray_cluster_fails_the_run_with_a_clear_error(
    experiment: Experiment, source: Callable[[str], Path]
) -> None:
    address = f"http://127.0.0.1:{free_port()}"
    experiment.workspace.compute_targets["gone"] = {"type": "ray", "address": address}
    run = experiment.submit(
        ScriptRunConfig(
            source_directory=str(source("print('never runs')\n")),
            script="train.py",
            compute_target="gone",
        )
    )
    started = time.monotonic()
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=60)
    assert time.monotonic() - started < 60
    assert details["status"] == "Failed", f"{details}\n{_runner_log(run)}"
    message = details["error"]["message"]
    assert "Ray cluster" in message and address in message, message


@pytest.mark.parametrize("transport", ["local"], indirect=True)
def test_exit_code_of_a_script_on_ray_is_the_scripts_own(
    on_ray: Experiment, source: Callable[[str], Path]
) -> None:
    body = """
        import sys

        print("no data found", flush=True)
        sys.exit(3)
    """
    run = on_ray.submit(
        ScriptRunConfig(
            source_directory=str(source(body)), script="train.py", compute_target=TARGET
        )
    )
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=90)
    assert details["status"] == "Failed", f"{details}\n{_runner_log(run)}"
    assert details["error"]["message"].startswith("exit code 3"), details["error"]


@pytest.mark.parametrize("transport", ["local"], indirect=True)
def test_last_line_without_a_newline_reaches_the_logs_on_ray(
    on_ray: Experiment, source: Callable[[str], Path]
) -> None:
    body = """
        print("first line", flush=True)
        print("last line, no newline", end="", flush=True)
    """
    run = on_ray.submit(
        ScriptRunConfig(
            source_directory=str(source(body)), script="train.py", compute_target=TARGET
        )
    )
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=90)
    assert details["status"] == "Completed", f"{details}\n{_runner_log(run)}"
    assert _lines(run)[-2:] == ["first line", "last line, no newline"]


# Runs last: it takes the head's job API away for good.
def test_system_managed_environment_packages_reach_the_ray_job(
    on_ray: Experiment, source: Callable[[str], Path], transport: str
) -> None:
    if transport != "local":
        pytest.skip("one transport is enough: the packages are the runner's business")
    from runyard import CondaDependencies, Environment

    env = Environment("ray-tomli")
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["azureml-defaults", "tomli"]
    )
    body = """
        import tomli
        print("tomli from", tomli.__file__)
    """
    run = on_ray.submit(
        ScriptRunConfig(
            source_directory=str(source(body)),
            script="train.py",
            compute_target=TARGET,
            environment=env,
        )
    )
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=300)
    assert details["status"] == "Completed", f"{details}\n{_runner_log(run)}"
    assert any(line.startswith("tomli from") for line in _lines(run))


def test_plain_mlflow_log_metric_on_ray_lands_in_the_submitted_run(
    on_ray: Experiment, source: Callable[[str], Path]
) -> None:
    """The job gets MLflow's variables from the run: no set-up, no runyard import."""
    body = """
        import mlflow

        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        """
    run = on_ray.submit(
        ScriptRunConfig(
            source_directory=str(source(body)),
            script="train.py",
            compute_target=TARGET,
            max_run_duration_seconds=120,
        )
    )
    details = run.wait_for_completion(raise_on_error=False, timeout_seconds=120)
    assert details["status"] == "Completed", f"{details}\n{_runner_log(run)}"
    assert run.get_metrics() == {"loss": [1.0, 0.5, 1 / 3]}


# Kills the shared head's dashboard: it stays the last test of this module.
@pytest.mark.parametrize("transport", ["local"], indirect=True)
def test_run_fails_when_the_ray_job_api_goes_away_mid_run(
    on_ray: Experiment, ray_head: RayHead, source: Callable[[str], Path]
) -> None:
    body = """
        import time

        print("training", flush=True)
        time.sleep(60)
    """
    run = on_ray.submit(
        ScriptRunConfig(
            source_directory=str(source(body)), script="train.py", compute_target=TARGET
        )
    )
    _wait_for("the script running", lambda: "training" in _lines(run), run)
    (dashboard,) = (
        pid
        for pid in _head_processes(ray_head.session_id, ray_head.temp_dir)
        if "dashboard/dashboard.py" in _cmdline(pid)
    )
    os.kill(dashboard, signal.SIGKILL)
    _wait_for("the run ended", lambda: run._refresh().status.is_terminal, run, timeout=45)
    details = run.get_details()
    assert details["status"] == "Failed", details
    assert "Ray cluster" in details["error"]["message"], details["error"]

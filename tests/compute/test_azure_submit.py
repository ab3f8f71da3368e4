"""Submitted runs as Azure ML v1 code expects them, end to end with real runner processes:
system-managed environments, run_config set before submit, the show_output frame,
ContentSnapshotId and git provenance.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runyard import (
    CondaDependencies,
    Environment,
    Experiment,
    ScriptRunConfig,
)
from tests.compute.test_local_target import DIAGONAL, SQLITE_LOCAL, write_script
from tests.conftest import poll_until, runner_log, stop_runs

pytestmark = pytest.mark.slow

NO_SUCH_PACKAGE = "runyard-no-such-package-4f2a9c"


@pytest.fixture(autouse=True)
def _runs_stopped_after_the_test(
    experiment: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("RUNYARD_CACHE_DIR", str(tmp_path / "cache"))  # the runners inherit it
    yield
    stop_runs(experiment)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    return folder


def _tomli_env() -> Environment:
    env = Environment("with-tomli")
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["azureml-defaults", "tomli"], conda_packages=[NO_SUCH_PACKAGE + "-conda"]
    )
    env.python.user_managed_dependencies = False
    return env


@DIAGONAL
def test_system_managed_environment_gets_its_packages_built_once(
    experiment: Experiment, source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_script(
        source,
        "train.py",
        """
        import sys
        import tomli
        print("tomli from", tomli.__file__)
        print("python", sys.executable)
        """,
    )
    src = ScriptRunConfig(source_directory=str(source), script="train.py", environment=_tomli_env())
    run = experiment.submit(src, show_output=True)
    out = capsys.readouterr().out
    details = run.get_details()
    assert details["status"] == "Completed", (details["error"], runner_log(run.id))
    cache = tmp_path / "cache" / "environments"
    assert f"tomli from {cache}" in out
    # The build's output was streamed into the run's logs, before the script's.
    assert "Streaming logs/environment.txt" in out
    assert out.index("Successfully installed tomli") < out.index("Streaming logs/stdout.txt")
    assert "azureml-defaults: provided by runyard, not installed" in out
    logs = run.get_details_with_logs()["logFiles"]
    assert "Building environment" in logs["logs/environment.txt"]
    definition = details["runDefinition"]["environment"]["python"]
    assert definition["user_managed_dependencies"] is False
    assert {"pip": ["azureml-defaults", "tomli"]} in definition["conda_dependencies"][
        "dependencies"
    ]

    again = experiment.submit(src)
    assert again.wait_for_completion(timeout_seconds=120)["status"] == "Completed"
    text = again.get_details_with_logs()["logFiles"]["logs/environment.txt"]
    assert "Using the cached environment" in text and "Building" not in text
    assert len([p for p in cache.iterdir() if p.is_dir()]) == 1


@DIAGONAL
def test_a_package_that_cannot_be_installed_fails_the_run_in_preparing(
    experiment: Experiment, source: Path
) -> None:
    write_script(source, "train.py", "print('never runs')\n")
    env = Environment("broken")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=[NO_SUCH_PACKAGE])
    run = experiment.submit(
        ScriptRunConfig(source_directory=str(source), script="train.py", environment=env)
    )
    details = run.wait_for_completion(timeout_seconds=120, raise_on_error=False)
    assert details["status"] == "Failed"
    assert details["error"]["code"] == "EnvironmentBuildError"
    assert "No matching distribution found" in details["error"]["message"]
    assert details["startTimeUtc"] is None  # never Running
    logs = run.get_details_with_logs()["logFiles"]
    assert "ERROR: No matching distribution found" in logs["logs/environment.txt"]
    assert "logs/stdout.txt" not in logs


@DIAGONAL
def test_run_config_changed_before_submit_is_what_the_run_uses(
    experiment: Experiment, source: Path
) -> None:
    write_script(
        source,
        "show.py",
        """
        import os
        print("FLAVOUR", os.environ.get("FLAVOUR"))
        """,
    )
    src = ScriptRunConfig(
        source_directory=str(source),
        script="show.py",
        environment=Environment("first", environment_variables={"FLAVOUR": "first"}),
        compute_target="nowhere-yet",
    )
    src.run_config.environment = Environment("second", environment_variables={"FLAVOUR": "second"})
    src.run_config.target = "local"
    run = experiment.submit(src)
    details = run.wait_for_completion(timeout_seconds=60)
    assert details["target"] == "local"
    assert details["runDefinition"]["environment"]["name"] == "second"
    stdout = run.get_details_with_logs()["logFiles"]["logs/stdout.txt"]
    assert stdout == "FLAVOUR second\n"


@DIAGONAL
def test_show_output_prints_azures_frame_and_the_portal_url(
    experiment: Experiment, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_script(source, "train.py", "print('epoch 1')\nprint('epoch 2')\n")
    run = experiment.submit(
        ScriptRunConfig(source_directory=str(source), script="train.py"), show_output=True
    )
    out = capsys.readouterr().out
    server = experiment.workspace.server_url
    url = None if server is None else f"{server}/?run={run.id}"
    assert run.get_portal_url() == url
    identity = f"RunId: {run.id}\n" + ("" if url is None else f"Web View: {url}\n")
    title = "Streaming logs/stdout.txt"
    assert out == (
        f"{identity}\n{title}\n{'=' * len(title)}\n\nepoch 1\nepoch 2\n"
        f"\nExecution Summary\n=================\n{identity}\n"
    )
    assert ("Web View" in out) == experiment.workspace.is_remote


def _git(folder: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


@SQLITE_LOCAL
def test_submitted_and_interactive_runs_record_snapshot_and_git_provenance(
    experiment: Experiment, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNYARD_NO_GIT_PROVENANCE")
    write_script(source, "train.py", "print('hi')\n")
    _git(source, "init", "-q", "-b", "main")
    _git(source, "remote", "add", "origin", "https://example.invalid/team/project.git")
    _git(source, "add", ".")
    _git(source, "commit", "-q", "-m", "first")
    commit = _git(source, "rev-parse", "HEAD")

    run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="train.py"))
    run.wait_for_completion(timeout_seconds=60)
    properties = run.get_details()["properties"]
    assert properties["ContentSnapshotId"] == run.get_details()["runDefinition"]["snapshotId"]
    expected = {
        "azureml.git.repository_uri": "https://example.invalid/team/project.git",
        "mlflow.source.git.repoURL": "https://example.invalid/team/project.git",
        "azureml.git.branch": "main",
        "mlflow.source.git.branch": "main",
        "azureml.git.commit": commit,
        "mlflow.source.git.commit": commit,
        "azureml.git.dirty": "False",
    }
    assert {k: properties[k] for k in expected} == expected

    (source / "train.py").write_text("print('changed')\n")
    monkeypatch.chdir(source)
    with experiment.start_logging() as interactive:
        pass
    found = interactive.get_details()["properties"]
    assert found["azureml.git.commit"] == commit and found["azureml.git.dirty"] == "True"
    assert "ContentSnapshotId" not in found


@SQLITE_LOCAL
def test_outside_a_git_repository_there_is_no_git_provenance(
    experiment: Experiment, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNYARD_NO_GIT_PROVENANCE")
    write_script(source, "train.py", "print('hi')\n")
    run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="train.py"))
    run.wait_for_completion(timeout_seconds=60)
    properties = run.get_details()["properties"]
    assert not [k for k in properties if "git" in k]
    assert "ContentSnapshotId" in properties


@SQLITE_LOCAL
def test_cancel_while_the_environment_builds_stops_the_build(
    experiment: Experiment, source: Path, tmp_path: Path
) -> None:
    write_script(source, "train.py", "print('never runs')\n")
    env = Environment("slow-to-build")
    # One pip call per conda package: the build takes a while and says so line by line.
    env.python.conda_dependencies = CondaDependencies.create(
        conda_packages=["tabulate", "colorama", "termcolor", "wcwidth", "emoji", "toml"]
    )
    run = experiment.submit(
        ScriptRunConfig(source_directory=str(source), script="train.py", environment=env)
    )
    store = experiment.workspace.transport.store

    def first_package_installed() -> bool:
        lines = store.read_log_lines(run.id, "environment", -1)
        return any("Successfully installed" in line.line for line in lines)

    poll_until(first_package_installed, 120, "the first package of the build")
    run.cancel()
    started = time.monotonic()
    details = run.wait_for_completion(timeout_seconds=60, raise_on_error=False)
    assert details["status"] == "Canceled"
    assert time.monotonic() - started < 15
    cache = tmp_path / "cache" / "environments"
    assert not [p for p in cache.iterdir() if p.is_dir()]  # nothing half-built is kept
    assert "logs/stdout.txt" not in run.get_details_with_logs()["logFiles"]

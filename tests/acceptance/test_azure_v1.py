"""Azure ML v1 code on runyard, as a user moving off Azure would run it.

The notebook part is v1 code with only its imports changed (`azureml.core` -> `runyard`);
the training script it submits is not changed at all (`from azureml.core import Run`), and
the same script also runs through `runyard exec`. Between them they touch every gap of
issue 9 but models: workspace identity, iterables as lists, CondaDependencies and a
system-managed environment, run_config set before submit, Azure's output frame,
properties and provenance, restore_snapshot's ZIP, and the azureml import hook.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# The notebook's imports, changed from azureml.core to runyard: nothing else is.
from runyard import (
    CondaDependencies,
    Environment,
    Experiment,
    Run,
    ScriptRunConfig,
    Workspace,
)

pytestmark = pytest.mark.slow

DIAGONAL = pytest.mark.parametrize(
    ("backend", "transport"), [("sqlite", "local"), ("postgres", "http")], indirect=True
)

#: The training script, exactly as written for Azure ML.
TRAIN_PY = """
import argparse
import os

import tomli
from azureml.core import Run
from azureml.core.run import _OfflineRun

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=0.5)
args = parser.parse_args()

run = Run.get_context()
offline = isinstance(run, _OfflineRun)
run.log("alpha", args.alpha)
run.log_list("errors", (args.alpha * e for e in range(3)))
run.log_row("progress", epoch=range(2), loss=[0.4, 0.2])
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.txt", "w") as f:
    f.write(f"alpha={args.alpha}")
print("trained", "offline" if offline else "online", "tomli" in tomli.__name__)
"""


@pytest.fixture
def project(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with the workspace's config.json and the training script, the cwd."""
    folder = tmp_path / "project"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "train.py").write_text(textwrap.dedent(TRAIN_PY).lstrip())
    workspace.write_config(folder)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("RUNYARD_CACHE_DIR", str(tmp_path / "cache"))
    return folder


@DIAGONAL
def test_v1_notebook_with_only_imports_changed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --- Workspace (configuration notebook) ---
    ws = Workspace.from_config()
    print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep="\n")
    assert capsys.readouterr().out.count("\n") == 4
    assert ws.get_details()["name"] == ws.name
    same = Workspace.get(ws.name, subscription_id=ws.subscription_id)
    assert same.name == ws.name and same.subscription_id == ws.subscription_id

    # --- Logging API notebook: iterables of every kind ---
    exp = Experiment(workspace=ws, name="v1-logging")
    run = exp.start_logging()
    values = [1, 2, 3]
    run.log_list("Fibonacci doubled", (v * 2 for v in values))
    run.log_list("from numpy", np.arange(3))
    run.log_list("from pandas", pd.Series([0.5, 1.5]))
    run.log_table("Sine", {"angle": range(3), "sine": np.sin(np.arange(3))})
    run.complete()
    metrics = run.get_metrics()
    assert metrics["Fibonacci doubled"] == [2, 4, 6]
    assert metrics["from numpy"] == [0, 1, 2]
    assert metrics["from pandas"] == [0.5, 1.5]
    assert metrics["Sine"]["angle"] == [0, 1, 2]
    assert "v1-logging" in ws.experiments

    # --- Train on local compute: environment, ScriptRunConfig, submit ---
    env = Environment("tomli-env")
    cd = CondaDependencies.create(pip_packages=["azureml-defaults", "tomli"])
    env.python.conda_dependencies = cd
    env.python.user_managed_dependencies = False
    cd.save("environment.yml")
    env = Environment.from_conda_specification(name="tomli-env", file_path="environment.yml")

    exp = Experiment(workspace=ws, name="v1-train")
    src = ScriptRunConfig(source_directory="train", script="train.py", arguments=["--alpha", 0.3])
    src.run_config.environment = env
    src.run_config.target = "local"
    run = exp.submit(src)
    assert isinstance(run, Run)
    details = run.wait_for_completion(show_output=True)
    out = capsys.readouterr().out
    assert out.startswith(f"RunId: {run.id}\n")
    assert "trained online True" in out
    assert f"Execution Summary\n=================\nRunId: {run.id}\n" in out
    if ws.is_remote:
        assert f"Web View: {run.get_portal_url()}" in out

    assert details["status"] == "Completed"
    assert details["inputDatasets"] == [] and details["outputDatasets"] == []
    snapshot_id = details["properties"]["ContentSnapshotId"]
    assert run.get_metrics() == {
        "alpha": 0.3,
        "errors": [0.0, 0.3, 0.6],
        "progress": {"epoch": [0, 1], "loss": [0.4, 0.2]},
    }
    assert "outputs/model.txt" in run.get_file_names()

    # --- Manage runs notebook: restore the snapshot, a ZIP users unzip ---
    os.makedirs("restored")
    zipped = run.restore_snapshot(path="restored")
    assert zipped == os.path.join("restored", f"{snapshot_id}.zip")
    with zipfile.ZipFile(zipped) as archive:
        assert archive.namelist() == ["train.py"]


@DIAGONAL
def test_unchanged_script_runs_through_runyard_exec_and_submit(
    project: Path, workspace: Workspace
) -> None:
    # runyard exec: the script as it is, here, with an offline run. tomli is not in this
    # interpreter, so the exec'd copy gets a stand-in module beside it.
    (project / "train" / "tomli.py").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "runyard", "exec", "train/train.py", "--alpha", "0.7"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Attempted to log list metric errors:\n[0.0, 0.7, 1.4]" in done.stdout
    assert "trained offline True" in done.stdout

    # exp.submit: the runner starts it with the hook (no packages asked for: the runner's
    # interpreter, where the stand-in serves).
    exp = Experiment(workspace, "v1-unchanged")
    run = exp.submit(ScriptRunConfig(source_directory="train", script="train.py"))
    details = run.wait_for_completion(timeout_seconds=120)
    assert details["status"] == "Completed"
    assert run.get_metrics()["alpha"] == 0.5
    stdout = run.get_details_with_logs()["logFiles"]["logs/stdout.txt"]
    assert stdout == "trained online True\n"

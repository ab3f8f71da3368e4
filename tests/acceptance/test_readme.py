"""The README's Python examples run as written, in a fresh folder (the local workspace)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)

pytestmark = pytest.mark.slow


def _run(code: str, folder: Path) -> subprocess.CompletedProcess[str]:
    script = folder / "example.py"
    script.write_text(code)
    return subprocess.run(
        [sys.executable, str(script)], cwd=folder, capture_output=True, text=True, timeout=120
    )


def test_readme_has_the_examples_these_tests_run() -> None:
    assert len(BLOCKS) == 5


def test_tour_example_logs_into_the_local_workspace(tmp_path: Path) -> None:
    code = (
        BLOCKS[0] + "\nassert run.get_status() == 'Completed'\nprint(sorted(run.get_metrics()))\n"
    )
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "['Cosine Wave', 'Fibonacci', 'Sigmoid', 'Sine Wave', 'message']" in done.stdout
    assert (tmp_path / ".runyard" / "runyard.db").is_file()


def test_submit_example_runs_a_script_and_shows_its_output(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        "import sys\nfrom runyard import Run\n"
        "run = Run.get_context()\nrun.log('lr', float(sys.argv[2]))\n"
        "print('trained', sys.argv[1:])\n"
    )
    code = BLOCKS[1] + "\nprint('final', run.get_status(), run.get_metrics())\n"
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "trained ['--lr', '0.01']" in done.stdout
    assert "final Completed {'lr': 0.01}" in done.stdout


def test_models_example_registers_finds_and_downloads_versions(tmp_path: Path) -> None:
    code = BLOCKS[2] + (
        "\nassert [m.id for m in Model.list(ws)] == ['sklearn-clf:2', 'sklearn-clf:1']"
        "\nassert Model(ws, 'sklearn-clf').tags == {'stage': 'prod'}"
        "\nassert Model(ws, id='sklearn-clf:2').files == ['outputs/model.pkl']\n"
    )
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("sklearn-clf:1 1 ")
    assert lines[1] == "['sklearn-clf:1']"
    assert lines[2] == "deploy/model.pkl"
    assert (tmp_path / "deploy" / "model.pkl").read_bytes() == b"trained weights"


def test_unchanged_v1_script_runs_with_runyard_exec_and_as_a_submitted_run(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BLOCKS[3])
    assert "from azureml.core import Run" in BLOCKS[3]
    done = subprocess.run(
        [sys.executable, "-m", "runyard", "exec", "train.py", "--lr", "0.01"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "done {'accuracy': 0.91, 'losses': [1.0, 0.5" in done.stdout

    command = ["run", "submit-script", "-e", "explore-runs", "--query", "status", "train.py"]
    submitted = subprocess.run(
        [sys.executable, "-m", "runyard", *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert submitted.returncode == 0, submitted.stderr
    assert "done {'accuracy': 0.91, 'losses': [1.0, 0.5" in submitted.stdout
    assert submitted.stdout.rstrip().endswith('"Completed"')


def test_mlflow_example_logs_into_the_local_workspace_with_no_server(tmp_path: Path) -> None:
    assert "get_mlflow_tracking_uri()" in BLOCKS[4]
    code = BLOCKS[4] + (
        "\nfrom runyard import Experiment"
        "\n[run] = Experiment(Workspace.from_config(), 'explore-runs').get_runs()"
        "\nprint('seen', run.get_params(), run.get_metrics(), run.get_status())\n"
    )
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "seen {'lr': '0.01'} {'loss': 0.25} Completed" in done.stdout
    assert (tmp_path / ".runyard" / "runyard.db").is_file()

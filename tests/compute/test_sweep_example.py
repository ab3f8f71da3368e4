"""examples/sweep, run with the command its README gives: the parent tags the best trial."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runyard import Experiment, Run, Workspace
from tests.conftest import stop_runs

pytestmark = pytest.mark.slow

SWEEP = Path(__file__).resolve().parents[2] / "examples" / "sweep"
TERMINAL = ("Completed", "Failed", "Canceled")


def final(metric: object) -> float:
    """Last value of a metric logged once or many times."""
    return float(metric[-1] if isinstance(metric, list) else metric)  # type: ignore[arg-type,index]


@pytest.fixture
def config(workspace: Workspace, tmp_path: Path) -> Iterator[Path]:
    """The test workspace's config.json; afterwards every sweep run is stopped and waited for."""
    yield workspace.write_config(tmp_path / "project")
    stop_runs(Experiment(workspace, "sweep"))


def test_readme_gives_the_command_the_test_runs() -> None:
    readme = (SWEEP / "README.md").read_text()
    assert "runyard run submit-script -e sweep -d examples/sweep sweep.py\n" in readme


@pytest.mark.parametrize(("backend", "transport"), [("sqlite", "local")], indirect=True)
def test_sweep_tags_the_parent_with_the_trial_of_lowest_loss(
    workspace: Workspace, config: Path, tmp_path: Path
) -> None:
    # The README's command, with the test workspace's config.
    command = ["run", "submit-script", "-e", "sweep", "-d", str(SWEEP), "-w", str(config)]
    done = subprocess.run(
        [sys.executable, "-m", "runyard", *command, "sweep.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    parent = next(Experiment(workspace, "sweep").get_runs())
    assert parent.get_status() == "Completed"
    trials = list(parent.get_children())
    assert len(trials) == 3
    assert [t.get_status() for t in trials] == ["Completed"] * 3
    assert sorted(float(t.get_tags()["lr"] or "nan") for t in trials) == [0.01, 0.1, 1.0]
    for trial in trials:
        metrics = trial.get_metrics()
        assert len(metrics["loss"]) == len(metrics["accuracy"]) == 20

    losses = {t.id: final(t.get_metrics("loss")["loss"]) for t in trials}
    best: Run = min(trials, key=lambda t: losses[t.id])
    tags = parent.get_tags()
    assert tags["best_run_id"] == best.id
    assert tags["best_lr"] == best.get_tags()["lr"]
    assert float(tags["best_loss"] or "nan") == pytest.approx(losses[best.id], abs=1e-6)
    assert parent.get_metrics()["best_loss"] == pytest.approx(losses[best.id])
    assert f"best: {best.id}" in done.stdout

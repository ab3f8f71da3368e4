"""A hyperparameter sweep: one child run of train.py per learning rate; the parent keeps the best.

Submitted as a run (`runyard run submit-script -e sweep -d examples/sweep sweep.py`), this
script is the parent: it submits each trial with `run.submit_child`, waits for them, and
tags itself with the trial of lowest final loss. Started with plain `python sweep.py`, it
makes an interactive parent run in the nearest workspace instead.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from runyard import Experiment, Run, ScriptRunConfig, Workspace

HERE = Path(__file__).resolve().parent
TERMINAL = ("Completed", "Failed", "Canceled")


def parent_run(experiment_name: str) -> tuple[Run, bool]:
    """The run this script was submitted as, else a new interactive one (and True)."""
    run = Run.get_context()
    if isinstance(run, Run):
        return run, False
    experiment = Experiment(Workspace.from_config(), experiment_name)
    return experiment.start_logging(display_name="sweep"), True


def final_value(metric: Any) -> float:
    """The last value of a metric logged once (a bare value) or many times (a list)."""
    return float(metric[-1] if isinstance(metric, list) else metric)


def sweep(parent: Run, learning_rates: list[float], epochs: int, timeout: float) -> Run:
    """Run one trial per learning rate as children of `parent`; returns the best trial."""
    trials: dict[str, tuple[float, Run]] = {}
    try:
        for lr in learning_rates:
            config = ScriptRunConfig(
                source_directory=str(HERE),
                script="train.py",
                arguments=["--lr", lr, "--epochs", epochs],
            )
            trial = parent.submit_child(config, tags={"lr": str(lr)})
            trials[trial.id] = (lr, trial)
            print(f"submitted trial {trial.id} (lr={lr})", flush=True)
        results = []
        for lr, trial in trials.values():
            details = trial.wait_for_completion(raise_on_error=False, timeout_seconds=timeout)
            if details["status"] != "Completed":
                print(f"trial {trial.id} (lr={lr}) ended {details['status']}", flush=True)
                continue
            loss = final_value(trial.get_metrics("loss")["loss"])
            print(f"trial {trial.id} (lr={lr}): final loss {loss:.4f}", flush=True)
            results.append((loss, lr, trial))
    finally:  # the sweep was stopped: stop its trials too
        for _, trial in trials.values():
            if trial.get_status() not in TERMINAL:
                trial.cancel()
    if not results:
        raise SystemExit("no trial completed")
    loss, lr, best = min(results, key=lambda r: r[0])
    parent.set_tags({"best_run_id": best.id, "best_lr": str(lr), "best_loss": f"{loss:.6f}"})
    parent.log("best_loss", loss)
    print(f"best: {best.id} with lr={lr} (final loss {loss:.4f})", flush=True)
    return best


def main() -> None:
    """Parse the sweep's options and run it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--learning-rates", type=float, nargs="+", default=[0.01, 0.1, 1.0], metavar="LR"
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--experiment", default="sweep", help="for an interactive parent")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per trial")
    args = parser.parse_args()
    # A canceled parent gets SIGTERM: exit through the `finally` that cancels the trials.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parent, interactive = parent_run(args.experiment)
    with parent if interactive else contextlib.nullcontext():
        sweep(parent, args.learning_rates, args.epochs, args.timeout)


if __name__ == "__main__":
    main()

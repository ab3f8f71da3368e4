"""MLflow inside a submitted run: the runner hands the script MLflow's variables, so plain
`mlflow.log_metric` and PyTorch Lightning's MLFlowLogger (the seed's code, verbatim) log
into the submitted run, and ending the MLflow run leaves the final status to the runner."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

from runyard import Experiment, ScriptRunConfig
from tests.compute.test_local_target import TERMINAL, wait_for_runner_end, wait_for_status
from tests.conftest import stop_runs

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("mlflow_plugin_installed")]

DIAGONAL = pytest.mark.parametrize(
    ("backend", "transport"), [("sqlite", "local"), ("postgres", "http")], indirect=True
)
SQLITE_LOCAL = pytest.mark.parametrize(
    ("backend", "transport"), [("sqlite", "local")], indirect=True
)


def _write(folder: Path, name: str, source: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(source).lstrip())


def _missing_torch() -> str | None:
    for module in ("torch", "pytorch_lightning"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[torch]')"
    return None


@DIAGONAL
def test_plain_mlflow_log_metric_with_no_set_up_lands_in_the_submitted_run(
    experiment: Experiment, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    _write(
        source,
        "train.py",
        """
        import os

        import mlflow

        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_param("lr", "0.01")
        assert mlflow.active_run().info.run_id == os.environ["RUNYARD_RUN_ID"]
        print("experiment", os.environ["MLFLOW_EXPERIMENT_NAME"])
        print("scheme", os.environ["MLFLOW_TRACKING_URI"].split(":")[0])
        # Named, not defaulted: mlflow then spares each fluent call its Spark-session probe.
        assert os.environ["MLFLOW_REGISTRY_URI"] == mlflow.get_tracking_uri()
        assert mlflow.get_registry_uri() == mlflow.get_tracking_uri()
        """,
    )
    try:
        run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="train.py"))
        ended = wait_for_status(run, TERMINAL, 120)
        assert ended == "Completed", run.get_details_with_logs()["logFiles"]
        wait_for_runner_end(run.id, 60)
        history = experiment.workspace.transport.store.get_metric_series(run.id, ["loss"])
        assert [(s.steps, s.values) for s in history] == [([0, 1, 2], [1.0, 0.5, 1 / 3])]
        assert run.get_params() == {"lr": "0.01"}
        stdout = run.get_details_with_logs()["logFiles"]["logs/stdout.txt"]
        assert f"experiment {experiment.name}" in stdout
        assert "scheme runyard" in stdout  # the plugin, on a server too: metrics ride the spool
    finally:
        stop_runs(experiment)


@SQLITE_LOCAL
def test_mlflow_start_run_continues_the_submitted_run_and_ending_it_leaves_it_running(
    experiment: Experiment, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    _write(
        source,
        "train.py",
        """
        import os

        import mlflow
        from runyard import Run

        with mlflow.start_run() as active:  # continues the submitted run (MLFLOW_RUN_ID)
            assert active.info.run_id == os.environ["RUNYARD_RUN_ID"]
            mlflow.log_metric("loss", 0.25, step=1)
            mlflow.set_tag("framework", "plain-mlflow")
        # mlflow marked it FINISHED: the runyard run goes on, the runner still follows it
        run = Run.get_context()
        assert run.get_status() == "Running", run.get_status()
        assert mlflow.MlflowClient().get_run(run.id).info.status == "RUNNING"
        run.log("after_end_run", 1.0)
        """,
    )
    try:
        run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="train.py"))
        ended = wait_for_status(run, TERMINAL, 120)
        assert ended == "Completed", run.get_details_with_logs()["logFiles"]
        wait_for_runner_end(run.id, 60)
        assert run.get_metrics() == {"loss": 0.25, "after_end_run": 1.0}
        assert run.get_tags()["framework"] == "plain-mlflow"
    finally:
        stop_runs(experiment)


@SQLITE_LOCAL
def test_the_seeds_lightning_mlflow_logger_logs_every_step_into_the_submitted_run(
    experiment: Experiment, tmp_path: Path
) -> None:
    missing = _missing_torch()
    if missing:
        print(f"SKIPPED: {missing}")
        pytest.skip(missing)
    source = tmp_path / "src"
    _write(
        source,
        "train.py",
        """
        import torch
        from torch.utils.data import DataLoader, TensorDataset
        import pytorch_lightning as pl

        from azureml.core import Run
        # connect to the workspace from within your running code
        run = Run.get_context()
        ws = run.experiment.workspace

        # workspace has associated ml-flow-tracking-uri
        mlflow_url = ws.get_mlflow_tracking_uri()

        #Example: PyTorch Lightning
        from pytorch_lightning.loggers import MLFlowLogger

        mlf_logger = MLFlowLogger(experiment_name=run.experiment.name, tracking_uri=mlflow_url)
        mlf_logger._run_id = run.id


        class Tiny(pl.LightningModule):
            def __init__(self):
                super().__init__()
                self.save_hyperparameters({"lr": 0.1, "hidden": 4})
                self.net = torch.nn.Sequential(
                    torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)
                )

            def training_step(self, batch, batch_idx):
                x, y = batch
                loss = torch.nn.functional.mse_loss(self.net(x), y)
                self.log("train_loss", loss, on_step=True, on_epoch=True)
                return loss

            def configure_optimizers(self):
                return torch.optim.SGD(self.parameters(), lr=0.1)


        torch.manual_seed(0)
        x = torch.randn(64, 3)
        data = DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=8)
        trainer = pl.Trainer(
            max_epochs=2,
            accelerator="cpu",
            logger=mlf_logger,
            log_every_n_steps=1,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(Tiny(), data)
        """,
    )
    try:
        run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="train.py"))
        ended = wait_for_status(run, TERMINAL, 300)
        assert ended == "Completed", run.get_details_with_logs()["logFiles"]
        wait_for_runner_end(run.id, 60)
        store = experiment.workspace.transport.store
        [steps] = store.get_metric_series(run.id, ["train_loss_step"])
        assert steps.steps == list(range(16))  # 8 batches x 2 epochs, every one logged
        [epochs] = store.get_metric_series(run.id, ["train_loss_epoch"])
        assert epochs.steps == [7, 15]
        assert run.get_params() == {"lr": "0.1", "hidden": "4"}
    finally:
        stop_runs(experiment)

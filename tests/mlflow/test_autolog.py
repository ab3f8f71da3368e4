"""`mlflow.sklearn.autolog()` and `mlflow.pytorch.autolog()` logging into a real runyard
server: what they log is the runyard run's, and their logged model is stored with its files."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest

from runyard import Experiment, Run
from tests.mlflow.conftest import Door


@pytest.fixture
def tracking(door: Door, monkeypatch: pytest.MonkeyPatch) -> Iterator[Door]:
    """The fluent API pointed at the door's workspace (tracking and registry), then reset."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", door.url)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    mlflow.set_tracking_uri(door.url)
    mlflow.set_registry_uri(door.url)
    try:
        yield door
    finally:
        if mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri("")
        mlflow.set_registry_uri("")


def test_sklearn_autolog_logs_into_the_runyard_run(tracking: Door, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    door = tracking
    name = f"sk-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(name)
    mlflow.sklearn.autolog(log_datasets=False)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(120, 4))
    labels = (features[:, 0] + 0.5 * features[:, 1] > 0).astype(int)
    try:
        with mlflow.start_run() as active:
            model = LogisticRegression(C=0.5, max_iter=200).fit(features, labels)
    finally:
        mlflow.sklearn.autolog(disable=True)
    run_id = active.info.run_id

    run = Run(Experiment(door.workspace, name), run_id)
    assert run.get_details()["status"] == "Completed"
    params = run.get_params()
    assert params["C"] == "0.5" and params["max_iter"] == "200"
    metrics = run.get_metrics()
    assert metrics["training_accuracy_score"] == pytest.approx(model.score(features, labels))
    assert run.get_tags()["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"

    client = door.mlflow
    seen = client.get_run(run_id)
    assert seen.data.params["C"] == "0.5"
    assert seen.data.metrics["training_accuracy_score"] == metrics["training_accuracy_score"]
    [logged] = client.search_logged_models(
        [seen.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"
    )
    assert logged.status.to_int() == 2  # READY
    names = {f.path for f in client.list_logged_model_artifacts(logged.model_id)}
    assert {"MLmodel", "model.pkl"} <= names
    assert [o.model_id for o in seen.outputs.model_outputs] == [logged.model_id]
    # The model's files are the run's, so runyard's SDK sees them.
    files = run.get_file_names()
    assert f"logged-models/{logged.model_id}/model.pkl" in files
    run.download_file(f"logged-models/{logged.model_id}/MLmodel", tmp_path / "MLmodel")
    assert "sklearn" in (tmp_path / "MLmodel").read_text()
    back = mlflow.sklearn.load_model(f"models:/{logged.model_id}")
    assert (back.predict(features) == model.predict(features)).all()


def test_pytorch_autolog_logs_metrics_and_its_logged_model(tracking: Door) -> None:
    torch = pytest.importorskip(
        "torch", reason="torch is not installed (pip install -e '.[torch]' to run this test)"
    )
    lightning = pytest.importorskip(
        "lightning", reason="lightning is not installed (pip install -e '.[torch]')"
    )

    class Tiny(lightning.LightningModule):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(3, 1)

        def forward(self, x: object) -> object:
            return self.layer(x)

        def training_step(self, batch: tuple[object, object], _index: int) -> object:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self(x), y)
            self.log("train_loss", loss, on_step=False, on_epoch=True)
            return loss

        def configure_optimizers(self) -> object:
            return torch.optim.SGD(self.parameters(), lr=0.05)

    door = tracking
    name = f"pt-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(name)
    mlflow.pytorch.autolog(log_datasets=False)
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    data = torch.utils.data.TensorDataset(x, x.sum(dim=1, keepdim=True))
    loader = torch.utils.data.DataLoader(data, batch_size=16)
    trainer = lightning.Trainer(
        max_epochs=2,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    try:
        with mlflow.start_run() as active:
            trainer.fit(Tiny(), loader)
    finally:
        mlflow.pytorch.autolog(disable=True)
    run_id = active.info.run_id

    run = Run(Experiment(door.workspace, name), run_id)
    [loss] = door.workspace.transport.store.get_metric_series(run_id, ["train_loss"])
    assert sorted(set(loss.steps)) == [0, 1]  # one epoch-end value per epoch (and a final one)
    assert run.get_params()["epochs"] == "2"
    assert run.get_params()["optimizer_name"] == "SGD"
    assert "model_summary.txt" in run.get_file_names()

    client = door.mlflow
    seen = client.get_run(run_id)
    history = client.get_metric_history(run_id, "train_loss")
    assert [(m.step, m.value) for m in history] == list(zip(loss.steps, loss.values, strict=True))
    [logged] = client.search_logged_models(
        [seen.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"
    )
    names = {f.path for f in client.list_logged_model_artifacts(logged.model_id)}
    assert "MLmodel" in names and "data" in names
    assert f"logged-models/{logged.model_id}/MLmodel" in run.get_file_names()
    back = mlflow.pytorch.load_model(f"models:/{logged.model_id}")
    assert back(x[:2]).shape == (2, 1)

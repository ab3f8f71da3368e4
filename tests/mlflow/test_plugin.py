"""The real `mlflow` client writing into a local workspace in-process (`runyard://` URIs):
no server, the same store and folder the SDK uses, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.tracking import fluent
from mlflow.tracking._tracking_service import utils as tracking_utils

from runyard import Experiment, Run, Workspace
from runyard.core.errors import ValidationError
from runyard.core.mlflow_uri import parse_mlflow_uri, server_tracking_uri
from runyard.sdk.workspace import close_all
from tests.conftest import ServerProcess

pytestmark = pytest.mark.usefixtures("mlflow_plugin_installed")


@dataclass
class Local:
    """A workspace and the mlflow client pointed at it through the in-process plugin."""

    workspace: Workspace
    uri: str
    client: MlflowClient


@pytest.fixture
def local(
    backend: str,
    transport: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Local]:
    """mlflow's process-wide tracking URI set to a fresh workspace's `runyard://` URI (restored
    after): a local one (its store and folder), or one on a real server (its transport)."""
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setattr(tracking_utils, "_tracking_uri", None)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    for name in (
        "MLFLOW_TRACKING_URI",
        "MLFLOW_RUN_ID",
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_TRACKING_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    if transport == "local":
        store = request.getfixturevalue("store_url")
        ws = Workspace("test", store_url=store, artifacts_url=str(tmp_path / "artifacts"))
        uri = ws.get_mlflow_tracking_uri()
    else:
        server = request.getfixturevalue("shared_server")(backend)
        ws = Workspace(f"p{uuid.uuid4().hex[:12]}", server_url=server)
        uri = server_tracking_uri(ws.name, server)
    mlflow.set_tracking_uri(uri)
    yield Local(ws, uri, MlflowClient())
    while mlflow.active_run() is not None:
        mlflow.end_run()
    close_all()


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(exc.value.error_code)


def test_a_local_workspace_gives_a_runyard_uri_naming_its_store_and_folder(
    tmp_path: Path,
) -> None:
    store = f"sqlite:///{tmp_path / 'r.db'}"
    ws = Workspace("team-a", store_url=store, artifacts_url=str(tmp_path / "a"))
    uri = ws.get_mlflow_tracking_uri()
    assert uri.startswith("runyard://team-a?")
    location = parse_mlflow_uri(uri)
    assert (location.workspace, location.store_url, location.artifacts_url) == (
        "team-a",
        store,
        str(tmp_path / "a"),
    )
    with pytest.raises(ValidationError, match="store="):
        parse_mlflow_uri("runyard://team-a")
    on_server = parse_mlflow_uri(server_tracking_uri("team-a", "http://127.0.0.1:8000/"))
    assert (on_server.workspace, on_server.server_url) == ("team-a", "http://127.0.0.1:8000")
    with pytest.raises(ValidationError, match="server="):
        parse_mlflow_uri("runyard://team-a?server=ftp%3A%2F%2Fhost")
    with pytest.raises(ValidationError, match="workspace name"):
        parse_mlflow_uri("runyard://bad%20name?store=x&artifacts=y")


def test_the_fluent_api_writes_runs_params_tags_and_metrics_the_sdk_reads(local: Local) -> None:
    mlflow.set_experiment("fluent-exp")
    with mlflow.start_run(run_name="first") as active:
        run_id = active.info.run_id
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"optimizer": "adam", "epochs": 3})
        mlflow.set_tag("team", "vision")
        for step in range(300):
            mlflow.log_metric(
                "loss", 1.0 / (step + 1), step=step, timestamp=1_700_000_000_000 + step
            )
        mlflow.log_metrics({"nan": math.nan, "inf": math.inf, "ninf": -math.inf}, step=7)
        seen = local.client.get_run(run_id)  # a read right after the writes sees them
        assert seen.data.metrics["loss"] == pytest.approx(1 / 300)
        assert seen.data.params == {"lr": "0.01", "optimizer": "adam", "epochs": "3"}
        assert seen.data.tags["team"] == "vision"
        assert seen.info.status == "RUNNING"
    assert local.client.get_run(run_id).info.status == "FINISHED"

    run = Run(Experiment(local.workspace, "fluent-exp"), run_id)
    assert run.get_status() == "Completed"
    assert run.display_name == "first"
    assert run.get_params() == {"lr": "0.01", "optimizer": "adam", "epochs": "3"}
    assert run.get_tags()["team"] == "vision"
    [series] = local.workspace.transport.store.get_metric_series(run_id, ["loss"])
    assert series.steps == list(range(300))
    assert series.values == [1.0 / (s + 1) for s in range(300)]
    assert [round(t * 1000) for t in series.times] == [1_700_000_000_000 + s for s in range(300)]
    specials = run.get_metrics()
    assert math.isnan(specials["nan"]) and specials["inf"] == math.inf
    assert specials["ninf"] == -math.inf
    history = local.client.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp) for m in history] == [
        (s, 1_700_000_000_000 + s) for s in range(300)
    ]


def test_what_the_sdk_logs_the_mlflow_client_reads(local: Local) -> None:
    run = Experiment(local.workspace, "sdk-side").start_logging(display_name="from-sdk")
    run.log("acc", 0.5)
    run.log("acc", 0.75)
    run.log_param("depth", 4)
    run.flush()
    seen = local.client.get_run(run.id)
    assert seen.info.run_name == "from-sdk"
    assert seen.data.metrics == {"acc": 0.75}
    assert seen.data.params == {"depth": "4"}
    experiment = local.client.get_experiment_by_name("sdk-side")
    assert experiment is not None
    found = local.client.search_runs([experiment.experiment_id], "metrics.acc > 0.7")
    assert [r.info.run_id for r in found] == [run.id]
    run.complete()


def test_errors_are_mlflows_and_nothing_is_written(local: Local) -> None:
    experiment_id = local.client.create_experiment("errors")
    with pytest.raises(MlflowException) as exc:
        local.client.create_experiment("errors")
    assert _code(exc) == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as exc:
        local.client.get_run("0123456789abcdef0123456789abcdef")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as exc:
        local.client.log_metric("0123456789abcdef0123456789abcdef", "loss", 1.0)
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    run_id = local.client.create_run(experiment_id).info.run_id
    local.client.log_param(run_id, "lr", "0.1")
    with pytest.raises(MlflowException) as exc:
        local.client.log_param(run_id, "lr", "0.2")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        local.client.log_metric(run_id, "loss", "not a number")  # type: ignore[arg-type]
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    assert local.client.get_run(run_id).data.params == {"lr": "0.1"}
    assert local.client.get_run(run_id).data.metrics == {}


def test_a_name_already_logged_skips_no_check_of_a_later_point(local: Local) -> None:
    """The store's hot path passes a float under a checked name at once; anything else
    under that name is still checked as mlflow checks it (refused, or stored as a float)."""
    experiment_id = local.client.create_experiment("checked-names")
    run_id = local.client.create_run(experiment_id).info.run_id
    local.client.log_metric(run_id, "acc", 0.5, timestamp=1_000, step=0)
    with pytest.raises(MlflowException) as exc:
        local.client.log_metric(run_id, "acc", "high", timestamp=2_000, step=1)  # type: ignore[arg-type]
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        local.client.log_metric(run_id, "acc", 0.7, timestamp=-1, step=2)
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    local.client.log_metric(run_id, "acc", True, timestamp=3_000, step=3)
    good, bad = Metric("acc", 0.9, 4_000, 4), Metric("acc", 0.8, -5, 5)
    with pytest.raises(MlflowException) as exc:
        local.client.log_batch(run_id, metrics=[good, bad], params=[Param("lr", "0.1")])
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    local.client.log_batch(run_id, metrics=[good, Metric("acc", 1, 5_000, 5)])
    history = local.client.get_metric_history(run_id, "acc")
    assert [(m.value, m.timestamp, m.step) for m in history] == [
        (0.5, 1_000, 0),
        (1.0, 3_000, 3),
        (0.9, 4_000, 4),
        (1.0, 5_000, 5),
    ]
    assert local.client.get_run(run_id).data.params == {}


def test_artifacts_are_the_runs_files_both_ways(local: Local, tmp_path: Path) -> None:
    mlflow.set_experiment("files")
    source = tmp_path / "model.txt"
    source.write_text("weights")
    folder = tmp_path / "plots"
    (folder / "deep").mkdir(parents=True)
    (folder / "deep" / "a.csv").write_text("1,2")
    with mlflow.start_run() as active:
        mlflow.log_artifact(str(source), "outputs")
        mlflow.log_artifacts(str(folder), "plots")
        mlflow.log_text("hello", "notes/readme.txt")
        artifact_uri = active.info.artifact_uri
    assert artifact_uri.startswith(f"runyard://{local.workspace.name}/")
    run = Run(Experiment(local.workspace, "files"), active.info.run_id)
    assert run.get_file_names() == ["notes/readme.txt", "outputs/model.txt", "plots/deep/a.csv"]

    run.upload_file("from_sdk/b.txt", str(source))
    repo = get_artifact_repository(artifact_uri)
    listed = [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts()]
    assert listed == [
        ("from_sdk", True, None),
        ("notes", True, None),
        ("outputs", True, None),
        ("plots", True, None),
    ]
    # runyard's files API lists names only: through a server MLflow gets no sizes
    size = None if local.workspace.is_remote else 7
    assert [(f.path, f.file_size) for f in repo.list_artifacts("outputs")] == [
        ("outputs/model.txt", size)
    ]
    fetched = mlflow.artifacts.download_artifacts(
        artifact_uri=f"{artifact_uri.split('?')[0]}/from_sdk/b.txt?{artifact_uri.split('?')[1]}",
        dst_path=str(tmp_path / "down"),
    )
    assert Path(fetched).read_text() == "weights"
    assert (
        mlflow.artifacts.load_text(
            f"{artifact_uri.split('?')[0]}/notes/readme.txt?{artifact_uri.split('?')[1]}"
        )
        == "hello"
    )


@pytest.mark.parametrize(("backend", "transport"), [("sqlite", "local")], indirect=True)
def test_log_metric_does_not_wait_on_the_database(local: Local, store_url: str) -> None:
    """With the SQLite file locked by another writer, mlflow.log_metric still returns at
    once: points wait in the pipeline (spooled), and are stored when the lock goes."""
    run_id = local.client.create_run(local.client.create_experiment("locked")).info.run_id
    local.client.log_metric(run_id, "warm", 1.0)  # the run is known, the store open
    local.client.get_run(run_id)
    blocker = sqlite3.connect(store_url.removeprefix("sqlite:///"), timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        for step in range(500):
            local.client.log_metric(run_id, "loss", float(step), step=step)
        took = time.monotonic() - started
        assert took < 5.0  # a database wait would be 500 x the lock timeout at least
    finally:
        blocker.rollback()
        blocker.close()
    history = local.client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(500))


@pytest.mark.slow
def test_metrics_logged_while_the_server_is_down_are_delivered_after_its_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through a server, mlflow.log_metric rides runyard's spool: the calls made while the
    server is killed neither fail nor wait, and every point is there once it is back."""
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    server = ServerProcess(f"sqlite:///{tmp_path / 's.db'}", tmp_path / "files").start()
    try:
        client = MlflowClient(tracking_uri=server_tracking_uri("default", server.url))
        run_id = client.create_run(client.create_experiment("restart")).info.run_id
        client.log_metric(run_id, "loss", 0.0, step=0)
        server.kill()
        started = time.monotonic()
        for step in range(1, 200):
            client.log_metric(run_id, "loss", float(step), step=step)
        assert time.monotonic() - started < 5.0
        server.start()
        history = client.get_metric_history(run_id, "loss")
        assert [(m.step, m.value) for m in history] == [(s, float(s)) for s in range(200)]
    finally:
        server.stop()
        close_all()

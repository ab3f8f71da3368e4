"""MLflow's tracking REST API: the real MlflowClient against a real runyard server."""

from __future__ import annotations

import math
import time
from pathlib import Path

import httpx
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from runyard import Experiment, Run, Workspace
from tests.mlflow.conftest import Door


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(exc.value.error_code)


def test_experiments_create_get_search_delete_restore(door: Door) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("mnist")
    assert experiment_id.isdigit()
    got = client.get_experiment(experiment_id)
    assert (got.name, got.lifecycle_stage) == ("mnist", "active")
    assert client.get_experiment_by_name("mnist").experiment_id == experiment_id
    assert client.get_experiment_by_name("nothing-here") is None
    with pytest.raises(MlflowException) as exc:
        client.create_experiment("mnist")
    assert _code(exc) == "RESOURCE_ALREADY_EXISTS"
    client.create_experiment("cifar")
    assert {e.name for e in client.search_experiments()} == {"mnist", "cifar"}
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert {e.name for e in client.search_experiments()} == {"cifar"}
    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"
    # The experiment is runyard's: same name, same id.
    assert Experiment(door.workspace, "mnist").id == int(experiment_id)


def test_a_missing_run_or_experiment_is_resource_does_not_exist(door: Door) -> None:
    with pytest.raises(MlflowException) as exc:
        door.mlflow.get_run("0123456789abcdef0123456789abcdef")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as exc:
        door.mlflow.get_experiment("987654")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"


def test_what_mlflow_logs_is_what_runyard_reads(door: Door) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("exchange")
    run = client.create_run(experiment_id, run_name="first try", tags={"team": "vision"})
    run_id = run.info.run_id
    t0 = int(time.time() * 1000)
    client.log_metric(run_id, "loss", 0.5, timestamp=t0, step=0)
    client.log_metric(run_id, "loss", 0.25, timestamp=t0 + 1000, step=1)
    client.log_metric(run_id, "odd", float("nan"), timestamp=t0, step=0)
    client.log_metric(run_id, "odd", float("inf"), timestamp=t0, step=1)
    client.log_metric(run_id, "odd", float("-inf"), timestamp=t0, step=2)
    client.log_param(run_id, "lr", 0.01)
    client.set_tag(run_id, "stage", "dev")
    client.set_tag(run_id, "mlflow.note.content", "a first look")
    client.set_terminated(run_id)

    mine = Run(Experiment(door.workspace, "exchange"), run_id)
    assert mine.id == run_id
    details = mine.get_details()
    assert details["displayName"] == "first try"
    assert details["description"] == "a first look"
    assert details["status"] == "Completed"
    assert mine.get_params() == {"lr": "0.01"}
    assert mine.get_tags() == {"team": "vision", "stage": "dev"}
    [loss] = door.workspace.transport.store.get_metric_series(run_id, ["loss"])
    assert loss.steps == [0, 1] and loss.values == [0.5, 0.25]
    assert [round(t * 1000) for t in loss.times] == [t0, t0 + 1000]
    odd = mine.get_metrics()["odd"]
    assert math.isnan(odd[0]) and odd[1:] == [math.inf, -math.inf]
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value, m.timestamp) for m in history] == [
        (0, 0.5, t0),
        (1, 0.25, t0 + 1000),
    ]

    got = client.get_run(run_id)
    assert got.info.status == "FINISHED"
    assert got.info.run_name == "first try"
    assert got.data.params == {"lr": "0.01"}
    assert got.data.tags["mlflow.runName"] == "first try"
    assert got.data.tags["stage"] == "dev"
    assert got.data.metrics["loss"] == 0.25
    assert got.info.end_time is not None and got.info.end_time >= got.info.start_time


def test_what_runyard_logs_is_what_mlflow_reads(door: Door) -> None:
    experiment = Experiment(door.workspace, "other-way")
    run = experiment.start_logging(display_name="from runyard")
    for step, value in enumerate([3.0, float("nan"), float("-inf")]):
        run.log("acc", value, step=step)
    run.log_params({"epochs": 3})
    run.tag("origin", "sdk")
    run.complete()
    got = door.mlflow.get_run(run.id)
    assert got.info.experiment_id == str(experiment.id)
    assert got.info.run_name == "from runyard"
    assert got.info.status == "FINISHED"
    assert got.data.params == {"epochs": "3"}
    assert got.data.tags["origin"] == "sdk"
    values = [m.value for m in door.mlflow.get_metric_history(run.id, "acc")]
    assert values[0] == 3.0 and math.isnan(values[1]) and values[2] == -math.inf


def test_log_batch_and_its_limits(door: Door) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("batch")
    run_id = client.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric("m", float(i), now + i, i) for i in range(500)],
        params=[Param("p", "1")],
        tags=[RunTag("t", "x")],
    )
    assert len(client.get_metric_history(run_id, "m")) == 500

    # The client splits big batches itself; the server's own limits are checked raw.
    url = f"{door.url}/api/2.0/mlflow/runs/log-batch"
    metric = {"key": "late", "value": 1.0, "timestamp": now, "step": 0}
    for bad in (
        {"metrics": [metric] * 1001},
        {"params": [{"key": f"p{i}", "value": "v"} for i in range(101)]},
        {
            "params": [{"key": f"p{i}", "value": "v"} for i in range(60)],
            "tags": [{"key": f"t{i}", "value": "v"} for i in range(41)],
        },
        {"metrics": [metric] * 950, "params": [{"key": f"p{i}", "value": "v"} for i in range(51)]},
        {"params": [{"key": "long", "value": "v" * 6001}]},
        {"tags": [{"key": "long", "value": "v" * 8001}]},
        {"params": [{"key": "p", "value": "changed"}], "metrics": [metric]},
        {"metrics": [{"key": "late", "value": "lots", "timestamp": now}]},
    ):
        answer = httpx.post(url, json={"run_id": run_id, **bad})
        assert answer.status_code == 400, (bad.keys(), answer.text)
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        client.log_batch(run_id, params=[Param("p", "changed")])
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    got = client.get_run(run_id)
    assert got.data.params == {"p": "1"}
    assert "late" not in got.data.metrics
    assert len(client.get_metric_history(run_id, "m")) == 500


def test_changing_a_param_is_invalid_and_keeps_the_first_value(door: Door) -> None:
    client = door.mlflow
    run_id = client.create_run(client.create_experiment("params")).info.run_id
    client.log_param(run_id, "lr", "0.1")
    with pytest.raises(MlflowException) as exc:
        client.log_param(run_id, "lr", "0.2")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run_id).data.params == {"lr": "0.1"}


def test_delete_tag(door: Door) -> None:
    client = door.mlflow
    run_id = client.create_run(client.create_experiment("tags")).info.run_id
    client.set_tag(run_id, "a", "1")
    client.delete_tag(run_id, "a")
    assert "a" not in client.get_run(run_id).data.tags
    with pytest.raises(MlflowException) as exc:
        client.delete_tag(run_id, "a")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"


def test_search_runs_filters_order_and_pages(door: Door) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("search")
    now = int(time.time() * 1000)
    ids = {}
    for i, (loss, lr, kind) in enumerate(
        [(0.9, "0.1", "a"), (0.5, "0.01", "b"), (0.1, "0.001", "a")]
    ):
        run_id = client.create_run(experiment_id, run_name=f"run-{i}").info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("loss", loss, now, 0)],
            params=[Param("lr", lr)],
            tags=[RunTag("kind", kind)],
        )
        ids[i] = run_id

    def names(filter_string: str = "", order_by: list[str] | None = None) -> list[str]:
        found = client.search_runs([experiment_id], filter_string, order_by=order_by)
        return [r.info.run_name for r in found]

    assert names("metrics.loss < 0.6", ["metrics.loss ASC"]) == ["run-2", "run-1"]
    assert names("metrics.loss >= 0.5", ["metrics.loss DESC"]) == ["run-0", "run-1"]
    assert names("params.lr = '0.01'") == ["run-1"]
    assert names("params.lr != '0.01'", ["params.lr"]) == ["run-2", "run-0"]
    assert names("tags.kind = 'a' AND metrics.loss > 0.5") == ["run-0"]
    assert names("attributes.run_name LIKE 'run-%'", ["attributes.run_name DESC"]) == [
        "run-2",
        "run-1",
        "run-0",
    ]
    assert names("metrics.loss <= 0.1") == ["run-2"]
    first = client.search_runs([experiment_id], max_results=2, order_by=["metrics.loss"])
    assert [r.info.run_name for r in first] == ["run-2", "run-1"] and first.token
    rest = client.search_runs(
        [experiment_id], max_results=2, order_by=["metrics.loss"], page_token=first.token
    )
    assert [r.info.run_name for r in rest] == ["run-0"] and not rest.token
    with pytest.raises(MlflowException) as exc:
        client.search_runs([experiment_id], "metrics.loss < 'x'")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"


def test_metric_history_pages_over_rest(door: Door) -> None:
    client = door.mlflow
    run_id = client.create_run(client.create_experiment("history")).info.run_id
    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric("x", float(i), now, i) for i in range(30)])
    url = f"{door.url}/api/2.0/mlflow/metrics/get-history"
    first = httpx.get(url, params={"run_id": run_id, "metric_key": "x", "max_results": 20}).json()
    assert [m["step"] for m in first["metrics"]] == list(range(20))
    second = httpx.get(
        url,
        params={
            "run_id": run_id,
            "metric_key": "x",
            "max_results": 20,
            "page_token": first["next_page_token"],
        },
    ).json()
    assert [m["step"] for m in second["metrics"]] == list(range(20, 30))
    assert "next_page_token" not in second


def test_bad_input_answers_4xx_in_mlflows_shape_and_keeps_data(door: Door) -> None:
    client = door.mlflow
    run_id = client.create_run(client.create_experiment("bad")).info.run_id
    client.log_metric(run_id, "ok", 1.0, step=0)
    base = f"{door.url}/api/2.0/mlflow"
    for path, body in (
        ("runs/log-metric", {"run_id": run_id, "key": "ok", "value": "lots", "timestamp": 1}),
        ("runs/log-metric", {"run_id": run_id, "key": "ok", "value": 1.0}),
        ("runs/log-parameter", {"run_id": run_id, "key": "p"}),
        ("runs/update", {"run_id": run_id, "status": "DONE"}),
        ("runs/search", {"experiment_ids": ["1"], "filter": "metrics.ok <<< 1"}),
        ("runs/log-batch", {"run_id": run_id, "metrics": "not a list"}),
    ):
        answer = httpx.post(f"{base}/{path}", json=body)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE", answer.text
        assert answer.json()["message"]
    unknown = httpx.post(f"{base}/traces/search", json={})
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    got = client.get_run(run_id)
    assert got.data.metrics == {"ok": 1.0} and got.data.params == {}
    assert got.info.status == "RUNNING"


def test_the_default_workspace_answers_at_the_root_and_workspaces_stay_apart(
    door: Door,
) -> None:
    from mlflow import MlflowClient

    door.mlflow.create_experiment("only-here")
    root = MlflowClient(tracking_uri=door.server)
    assert "only-here" not in {e.name for e in root.search_experiments()}
    ajax = httpx.get(
        f"{door.url}/ajax-api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": "only-here"},
    )
    assert ajax.status_code == 200 and ajax.json()["experiment"]["name"] == "only-here"


def test_the_workspace_gives_its_mlflow_tracking_uri(door: Door, tmp_path: Path) -> None:
    assert door.workspace.get_mlflow_tracking_uri() == door.url
    default = Workspace("default", server_url=door.server + "/")
    assert default.get_mlflow_tracking_uri() == door.server
    local = Workspace(
        "local", store_url=f"sqlite:///{tmp_path / 'r.db'}", artifacts_url=str(tmp_path / "a")
    )
    assert local.get_mlflow_tracking_uri().startswith("runyard://local?store=")


def test_update_experiment_renames_the_runyard_experiment(door: Door) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("old-name")
    run_id = client.create_run(experiment_id).info.run_id
    client.create_experiment("taken")
    with pytest.raises(MlflowException) as exc:
        client.rename_experiment(experiment_id, "taken")
    assert _code(exc) == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as exc:
        client.rename_experiment(experiment_id, "not a valid name!")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    client.rename_experiment(experiment_id, "new-name")
    assert client.get_experiment(experiment_id).name == "new-name"
    renamed = Experiment(door.workspace, "new-name")
    assert renamed.id == int(experiment_id)
    assert [r.id for r in renamed.get_runs()] == [run_id]

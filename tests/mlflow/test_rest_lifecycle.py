"""Runs delete/restore, experiment tags, log-inputs, experiment search, the bulk-interval
history, /api/3.0 server-info and unimplemented endpoints, through the real MlflowClient."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, ViewType
from mlflow.exceptions import MlflowException

from runyard import Experiment
from runyard.cli.main import cli
from tests.mlflow.conftest import Door


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(exc.value.error_code)


def test_a_deleted_run_is_kept_hidden_read_only_and_restorable(door: Door, tmp_path: Path) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("lifecycle")
    keep = client.create_run(experiment_id, run_name="keep").info.run_id
    gone = client.create_run(experiment_id, run_name="gone").info.run_id
    client.log_metric(gone, "loss", 0.5, step=1)
    client.delete_run(gone)

    got = client.get_run(gone)
    assert got.info.lifecycle_stage == "deleted" and got.data.metrics == {"loss": 0.5}
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [keep]
    deleted = client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [gone]
    with pytest.raises(MlflowException) as exc:
        client.log_metric(gone, "loss", 0.1, step=2)
    assert _code(exc) == "INVALID_PARAMETER_VALUE" and "active" in exc.value.message
    # runyard's SDK and CLI leave it out unless asked
    experiment = Experiment(door.workspace, "lifecycle")
    assert [r.id for r in experiment.get_runs()] == [keep]
    assert {r.id for r in experiment.get_runs(include_deleted=True)} == {keep, gone}
    config = str(door.workspace.write_config(tmp_path))
    base = ["run", "list", "-e", "lifecycle", "-w", config, "--query", "[].runId"]
    listed = CliRunner().invoke(cli, base)
    assert listed.exit_code == 0 and json.loads(listed.stdout) == [keep]
    listed = CliRunner().invoke(cli, [*base, "--include-deleted"])
    assert listed.exit_code == 0 and set(json.loads(listed.stdout)) == {keep, gone}

    client.restore_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "active"
    client.log_metric(gone, "loss", 0.1, step=2)
    assert {r.info.run_id for r in client.search_runs([experiment_id])} == {keep, gone}
    with pytest.raises(MlflowException) as exc:
        client.delete_run("0123456789abcdef0123456789abcdef")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"


def test_experiment_tags_set_read_delete_and_refuse_bad_input(door: Door) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("tagged")
    client.set_experiment_tag(experiment_id, "owner", "vision team")
    client.set_experiment_tag(experiment_id, "owner", "nlp team")
    client.set_experiment_tag(experiment_id, "stage", "dev")
    assert client.get_experiment(experiment_id).tags == {"owner": "nlp team", "stage": "dev"}
    assert door.workspace.transport.store.get_experiment("tagged").tags["owner"] == "nlp team"
    client.delete_experiment_tag(experiment_id, "stage")
    assert client.get_experiment(experiment_id).tags == {"owner": "nlp team"}
    with pytest.raises(MlflowException) as exc:
        client.delete_experiment_tag(experiment_id, "stage")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as exc:
        client.set_experiment_tag(experiment_id, "big", "x" * 20_001)
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        client.set_experiment_tag("424242", "k", "v")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    client.delete_experiment(experiment_id)
    with pytest.raises(MlflowException) as exc:
        client.set_experiment_tag(experiment_id, "k", "v")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    assert client.get_experiment(experiment_id).tags == {"owner": "nlp team"}


def test_search_experiments_filters_orders_and_pages(door: Door) -> None:
    client = door.mlflow
    for name, team in (("alpha", "vision"), ("beta", "nlp"), ("gamma", "vision")):
        experiment_id = client.create_experiment(name)
        client.set_experiment_tag(experiment_id, "team", team)

    def names(filter_string: str | None = None, order_by: list[str] | None = None) -> list[str]:
        found = client.search_experiments(filter_string=filter_string, order_by=order_by)
        return [e.name for e in found]

    assert names(order_by=["name DESC"]) == ["gamma", "beta", "alpha"]
    assert names() == ["gamma", "beta", "alpha"]  # MLflow's default: newest first
    assert names("tags.team = 'vision'", ["name"]) == ["alpha", "gamma"]
    assert names("name LIKE '%a' AND tags.team != 'nlp'", ["name"]) == ["alpha", "gamma"]
    assert names("attributes.name ILIKE 'B%'") == ["beta"]
    assert names("creation_time > 0 AND tags.missing IS NULL", ["experiment_id"]) == [
        "alpha",
        "beta",
        "gamma",
    ]
    first = client.search_experiments(max_results=2, order_by=["name"])
    assert [e.name for e in first] == ["alpha", "beta"] and first.token
    rest = client.search_experiments(max_results=2, order_by=["name"], page_token=first.token)
    assert [e.name for e in rest] == ["gamma"] and not rest.token
    for bad in ("metrics.x > 1", "name = alpha", "creation_time LIKE '1%'"):
        with pytest.raises(MlflowException) as exc:
            client.search_experiments(filter_string=bad)
        assert _code(exc) == "INVALID_PARAMETER_VALUE", bad
    with pytest.raises(MlflowException) as exc:
        client.search_experiments(order_by=["tags.team"])
    assert _code(exc) == "INVALID_PARAMETER_VALUE"


def test_log_inputs_are_kept_shown_and_searchable(door: Door) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("datasets")
    train = client.create_run(experiment_id, run_name="train").info.run_id
    other = client.create_run(experiment_id, run_name="other").info.run_id
    mnist = Dataset("mnist", "d1g35t", "local", '{"uri": "/data/mnist"}', '{"x": "int"}')
    cifar = Dataset("cifar", "c1f4r", "local", '{"uri": "/data/cifar"}')
    client.log_inputs(train, [DatasetInput(mnist, [InputTag("mlflow.data.context", "training")])])
    client.log_inputs(other, [DatasetInput(cifar, [InputTag("mlflow.data.context", "eval")])])
    [logged] = client.get_run(train).inputs.dataset_inputs
    assert (logged.dataset.name, logged.dataset.digest) == ("mnist", "d1g35t")
    assert logged.dataset.source == '{"uri": "/data/mnist"}' and logged.dataset.schema
    assert [(t.key, t.value) for t in logged.tags] == [("mlflow.data.context", "training")]

    def names(filter_string: str) -> list[str]:
        found = client.search_runs([experiment_id], filter_string, order_by=["run_name"])
        return [r.info.run_name for r in found]

    assert names("datasets.name = 'mnist'") == ["train"]
    assert names("datasets.context = 'eval'") == ["other"]
    assert names("datasets.digest IN ('d1g35t', 'c1f4r')") == ["other", "train"]
    assert names("datasets.name LIKE '%i%' AND datasets.context != 'training'") == ["other"]
    with pytest.raises(MlflowException) as exc:
        client.log_inputs(train, [DatasetInput(Dataset("x" * 501, "d", "local", "s"))])
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    assert len(client.get_run(train).inputs.dataset_inputs) == 1


def test_history_bulk_interval_samples_steps_like_mlflow(door: Door) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("bulk")
    now = int(time.time() * 1000)
    a = client.create_run(experiment_id).info.run_id
    b = client.create_run(experiment_id).info.run_id
    client.log_batch(a, metrics=[Metric("loss", 1.0 / (i + 1), now + i, i) for i in range(100)])
    client.log_batch(b, metrics=[Metric("loss", float(i), now + i, i) for i in range(0, 50, 5)])
    url = f"{door.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
    answer = httpx.get(url, params={"run_ids": [a, b], "metric_key": "loss", "max_results": 10})
    assert answer.status_code == 200, answer.text
    points = answer.json()["metrics"]
    steps_a = [p["step"] for p in points if p["run_id"] == a]
    assert steps_a == [0, 10, 20, 30, 40, 45, 50, 60, 70, 80, 90, 99]
    steps_b = [p["step"] for p in points if p["run_id"] == b]
    assert steps_b == [0, 10, 20, 30, 40, 45]
    ranged = httpx.get(
        url,
        params={"run_ids": [a], "metric_key": "loss", "start_step": 5, "end_step": 8},
    ).json()["metrics"]
    assert [p["step"] for p in ranged] == [5, 6, 7, 8]
    assert ranged[0]["value"] == pytest.approx(1 / 6) and ranged[0]["timestamp"] == now + 5
    for params in (
        {"run_ids": [a], "metric_key": "loss", "start_step": 5},
        {"run_ids": [a], "metric_key": "loss", "start_step": 9, "end_step": 1},
        {"run_ids": [a], "metric_key": "loss", "max_results": 2501},
        {"run_ids": [a] * 101, "metric_key": "loss"},
        {"metric_key": "loss"},
    ):
        bad = httpx.get(url, params=params)
        assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_server_info_answers_under_api_3_and_unimplemented_endpoints_are_404(
    door: Door,
) -> None:
    info = httpx.get(f"{door.url}/api/3.0/mlflow/server-info")
    assert info.status_code == 200 and info.json()["store_type"] == "SqlStore"
    root_info = httpx.get(f"{door.server}/ajax-api/3.0/mlflow/server-info")
    assert root_info.status_code == 200 and root_info.json()["workspaces_enabled"] is False
    for method, path in (
        ("POST", "/api/3.0/mlflow/traces"),
        ("GET", "/api/2.0/mlflow/gateway/routes"),
        ("POST", "/api/3.0/mlflow/scorers/register"),
        ("POST", "/api/2.0/mlflow/webhooks"),
        ("GET", "/api/3.0/mlflow/experiments/get"),
    ):
        answer = httpx.request(method, door.url + path, json={})
        assert answer.status_code == 404, path
        assert answer.json()["error_code"] == "ENDPOINT_NOT_FOUND", path
    with pytest.raises(MlflowException) as exc:
        door.mlflow.search_traces(locations=[door.mlflow.create_experiment("t")])
    assert "ENDPOINT_NOT_FOUND" in str(exc.value) or "404" in str(exc.value)


@pytest.mark.parametrize("path", ["experiments/search", "runs/search", "logged-models/search"])
def test_a_page_token_of_non_ascii_digits_is_a_400_not_a_crash(door: Door, path: str) -> None:
    """'²' passes str.isdigit() but not int(): every offset-paged search refuses it cleanly."""
    experiment_id = door.mlflow.create_experiment("tokens")
    answer = httpx.post(
        f"{door.url}/api/2.0/mlflow/{path}",
        json={"experiment_ids": [experiment_id], "page_token": "²"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"

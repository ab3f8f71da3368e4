"""MLflow 3's logged models: the real MlflowClient against a real runyard server."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from mlflow.entities import LoggedModelOutput, LoggedModelStatus
from mlflow.exceptions import MlflowException

from runyard import Experiment, Run
from tests.mlflow.conftest import Door


def _experiment(door: Door) -> str:
    return door.mlflow.create_experiment(f"lm-{uuid.uuid4().hex[:8]}")


def test_logged_model_lifecycle_create_finalize_tag_search_delete(door: Door) -> None:
    client = door.mlflow
    experiment_id = _experiment(door)
    run_id = client.create_run(experiment_id).info.run_id
    model = client.create_logged_model(
        experiment_id,
        name="classifier",
        source_run_id=run_id,
        tags={"team": "vision"},
        params={"C": "1.0"},
        model_type="sklearn",
    )
    assert model.model_id.startswith("m-")
    assert model.status == LoggedModelStatus.PENDING
    assert (model.name, model.source_run_id, model.model_type) == ("classifier", run_id, "sklearn")
    assert model.artifact_location == f"mlflow-artifacts:/logged-models/{model.model_id}/artifacts"
    assert model.tags == {"team": "vision"} and model.params == {"C": "1.0"}

    ready = client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert ready.status == LoggedModelStatus.READY
    client.set_logged_model_tags(model.model_id, {"stage": "candidate"})
    client.delete_logged_model_tag(model.model_id, "team")
    client.log_model_params(model.model_id, {"penalty": "l2"})
    got = client.get_logged_model(model.model_id)
    assert got.tags == {"stage": "candidate"}
    assert got.params == {"C": "1.0", "penalty": "l2"}
    assert got.status == LoggedModelStatus.READY

    other = client.create_logged_model(experiment_id, name="regressor")
    found = client.search_logged_models([experiment_id])
    assert [m.model_id for m in found] == [other.model_id, model.model_id]
    by_name = client.search_logged_models([experiment_id], filter_string="name = 'classifier'")
    assert [m.model_id for m in by_name] == [model.model_id]
    tagged = client.search_logged_models(
        [experiment_id], filter_string="tags.stage = 'candidate' AND params.C = '1.0'"
    )
    assert [m.model_id for m in tagged] == [model.model_id]
    ordered = client.search_logged_models(
        [experiment_id], order_by=[{"field_name": "name", "ascending": True}]
    )
    assert [m.name for m in ordered] == ["classifier", "regressor"]
    first = client.search_logged_models([experiment_id], max_results=1)
    assert len(first) == 1 and first.token
    rest = client.search_logged_models([experiment_id], max_results=1, page_token=first.token)
    assert [m.model_id for m in rest] == [model.model_id]

    client.delete_logged_model(other.model_id)
    assert [m.model_id for m in client.search_logged_models([experiment_id])] == [model.model_id]
    with pytest.raises(MlflowException) as exc:
        client.get_logged_model(other.model_id)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("from_a_run", [True, False])
def test_logged_model_files_go_up_and_come_back_through_the_proxy(
    door: Door, tmp_path: Path, from_a_run: bool
) -> None:
    client = door.mlflow
    experiment_id = _experiment(door)
    run_id = client.create_run(experiment_id).info.run_id if from_a_run else None
    model = client.create_logged_model(experiment_id, name="net", source_run_id=run_id)
    folder = tmp_path / "model"
    (folder / "data").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "data" / "weights.bin").write_bytes(b"\x00\x01\x02" * 100)
    client.log_model_artifacts(model.model_id, str(folder))
    listed = client.list_logged_model_artifacts(model.model_id)
    assert [(f.path, f.is_dir) for f in listed] == [("MLmodel", False), ("data", True)]
    proxy = f"{door.url}/api/2.0/mlflow-artifacts/artifacts/logged-models/{model.model_id}"
    got = httpx.get(f"{proxy}/artifacts/data/weights.bin")
    assert got.content == b"\x00\x01\x02" * 100
    import mlflow.artifacts

    local = mlflow.artifacts.download_artifacts(
        artifact_uri=model.artifact_location,
        dst_path=str(tmp_path / "back"),
        tracking_uri=door.url,
    )
    assert (Path(local) / "data" / "weights.bin").read_bytes() == b"\x00\x01\x02" * 100
    if run_id is not None:  # a run's model is among the run's files, for runyard's SDK too
        name = client.get_experiment(experiment_id).name
        run = Run(Experiment(door.workspace, name), run_id)
        assert run.get_file_names() == [
            f"logged-models/{model.model_id}/MLmodel",
            f"logged-models/{model.model_id}/data/weights.bin",
        ]


def test_run_outputs_link_the_model_to_the_run(door: Door) -> None:
    client = door.mlflow
    experiment_id = _experiment(door)
    run_id = client.create_run(experiment_id).info.run_id
    model = client.create_logged_model(experiment_id, name="m", source_run_id=run_id)
    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=3)])
    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=3)])
    outputs = client.get_run(run_id).outputs
    assert outputs is not None
    assert [(o.model_id, o.step) for o in outputs.model_outputs] == [(model.model_id, 3)]
    with pytest.raises(MlflowException) as exc:
        client.log_outputs(run_id, [LoggedModelOutput(f"m-{uuid.uuid4().hex}", step=0)])
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_bad_logged_model_requests_answer_in_mlflows_shape(door: Door) -> None:
    client = door.mlflow
    experiment_id = _experiment(door)
    model = client.create_logged_model(experiment_id, name="m")
    api = f"{door.url}/api/2.0/mlflow/logged-models"
    cases = [
        ("GET", f"{api}/m-nothing", None, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("GET", f"{api}/{'m-' + uuid.uuid4().hex}", None, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("POST", api, {"experiment_id": "999999", "name": "x"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("POST", api, {"experiment_id": "abc"}, 400, "INVALID_PARAMETER_VALUE"),
        ("POST", api, {"name": "x"}, 400, "INVALID_PARAMETER_VALUE"),
        (
            "POST",
            api,
            {"experiment_id": experiment_id, "source_run_id": uuid.uuid4().hex},
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        ("PATCH", f"{api}/{model.model_id}", {"status": "DONE"}, 400, "INVALID_PARAMETER_VALUE"),
        (
            "POST",
            f"{api}/search",
            {"experiment_ids": [experiment_id], "filter": "colour = 'red'"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        ("POST", f"{api}/search", {"experiment_ids": []}, 400, "INVALID_PARAMETER_VALUE"),
        (
            "DELETE",
            f"{api}/{model.model_id}/tags/absent",
            None,
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
    ]
    for method, url, body, status, code in cases:
        answer = httpx.request(method, url, json=body)
        assert (answer.status_code, answer.json()["error_code"]) == (status, code), (url, body)
    client.log_model_params(model.model_id, {"lr": "0.1"})
    with pytest.raises(MlflowException) as exc:
        client.log_model_params(model.model_id, {"lr": "0.2"})
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.get_logged_model(model.model_id).params == {"lr": "0.1"}
    assert client.get_logged_model(model.model_id).status == LoggedModelStatus.PENDING


def test_another_workspace_cannot_reach_a_logged_model(door: Door) -> None:
    experiment_id = _experiment(door)
    model = door.mlflow.create_logged_model(experiment_id, name="private")
    other = f"{door.server}/mlflow/o{uuid.uuid4().hex[:10]}/api/2.0/mlflow/logged-models"
    assert httpx.get(f"{other}/{model.model_id}").status_code == 404
    finalize = httpx.patch(f"{other}/{model.model_id}", json={"status": "LOGGED_MODEL_READY"})
    assert finalize.status_code == 404
    deleted = httpx.delete(f"{other}/{model.model_id}")
    assert deleted.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    found = httpx.post(f"{other}/search", json={"experiment_ids": [experiment_id]})
    assert found.status_code == 404
    assert door.mlflow.get_logged_model(model.model_id).status == LoggedModelStatus.PENDING

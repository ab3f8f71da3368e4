"""MLflow's model registry over runyard's models: the real MlflowClient against a real
runyard server, on SQLite and PostgreSQL. A version registered either way is the same
version seen from the other side."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from mlflow.exceptions import MlflowException

from runyard import Experiment, Model, Run
from runyard.cli.main import cli
from tests.mlflow.conftest import Door


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(exc.value.error_code)


def _run_with_model(door: Door, tmp_path: Path, experiment: str = "iris") -> str:
    """An MLflow run holding `model/MLmodel` and `model/model.pkl` (put there by runyard)."""
    experiment_id = door.mlflow.create_experiment(experiment)
    run_id = door.mlflow.create_run(experiment_id).info.run_id
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "model.pkl").write_bytes(b"weights-1")
    run = Run(Experiment(door.workspace, experiment), run_id)
    run.upload_file("model/MLmodel", str(tmp_path / "MLmodel"))
    run.upload_file("model/model.pkl", str(tmp_path / "model.pkl"))
    return run_id


def _names(door: Door) -> list[str]:
    return sorted(m.name for m in door.mlflow.search_registered_models())


def test_a_version_created_through_mlflow_is_a_runyard_model_version(
    door: Door, tmp_path: Path
) -> None:
    client = door.mlflow
    run_id = _run_with_model(door, tmp_path)
    created = client.create_registered_model("iris", tags={"team": "vision"}, description="irises")
    assert (created.name, created.description, created.tags) == (
        "iris",
        "irises",
        {"team": "vision"},
    )
    mv = client.create_model_version(
        "iris", f"runs:/{run_id}/model", run_id, tags={"quality": "good"}, description="first"
    )
    assert (mv.name, mv.version, mv.status, mv.current_stage) == ("iris", "1", "READY", "None")
    assert (mv.run_id, mv.source, mv.description) == (run_id, f"runs:/{run_id}/model", "first")
    assert mv.tags == {"quality": "good"}
    # The run's mlflow-artifacts URI works as a source too (what mlflow.register_model sends).
    artifact_uri = client.get_run(run_id).info.artifact_uri
    second = client.create_model_version("iris", f"{artifact_uri}/model", run_id)
    assert second.version == "2"

    [newest, oldest] = Model.list(door.workspace, name="iris")
    assert (oldest.version, oldest.run_id, oldest.description) == (1, run_id, "first")
    assert oldest.tags == {"quality": "good"}
    assert oldest.files == ["model/MLmodel", "model/model.pkl"]
    assert newest.version == 2
    target = Path(oldest.download(tmp_path / "down"))
    assert (target / "model.pkl").read_bytes() == b"weights-1"
    # The version holds its own copy: the run's files changing later leave it as it was.
    (tmp_path / "model.pkl").write_bytes(b"weights-2")
    Run(Experiment(door.workspace, "iris"), run_id).upload_file(
        "model/model.pkl", str(tmp_path / "model.pkl")
    )
    again = Path(Model(door.workspace, "iris", version=1).download(tmp_path / "again"))
    assert (again / "model.pkl").read_bytes() == b"weights-1"
    assert client.get_model_version_download_uri("iris", "1") == (
        "mlflow-artifacts:/models/iris/versions/1/model"
    )
    latest = client.get_registered_model("iris").latest_versions
    assert [v.version for v in latest] == ["2"]
    # `runyard model list` shows them, with their tags.
    config = str(door.workspace.write_config(tmp_path / "ws"))
    listed = CliRunner().invoke(cli, ["model", "list", "-w", config, "-o", "json"])
    assert listed.exit_code == 0, listed.stderr
    assert [(m["id"], m["tags"]) for m in json.loads(listed.stdout)] == [
        ("iris:2", {}),
        ("iris:1", {"quality": "good"}),
    ]


def test_a_model_registered_through_runyard_is_seen_by_mlflow(door: Door, tmp_path: Path) -> None:
    run = Experiment(door.workspace, "digits").start_logging()
    model_file = tmp_path / "model.pkl"
    model_file.write_bytes(b"digits")
    run.upload_file("outputs/model.pkl", str(model_file))
    run.register_model("digits", "outputs/model.pkl", tags={"k": "v"}, description="a digit net")
    run.complete()
    Model.register(door.workspace, str(model_file), "local-model", tags={"origin": "laptop"})

    client = door.mlflow
    assert _names(door) == ["digits", "local-model"]
    mv = client.get_model_version("digits", "1")
    assert (mv.run_id, mv.description, mv.tags) == (run.id, "a digit net", {"k": "v"})
    # A single file: the download URI is the version's root, which holds it.
    assert mv.source == "mlflow-artifacts:/models/digits/versions/1"
    assert client.get_model_version_download_uri("digits", "1") == mv.source
    local = client.get_model_version("local-model", "1")
    assert (local.run_id, local.tags) == ("", {"origin": "laptop"})
    found = client.search_model_versions("tags.origin = 'laptop'")
    assert [(v.name, v.version) for v in found] == [("local-model", "1")]
    # What MLflow changes, runyard reads.
    client.set_model_version_tag("digits", "1", "reviewed", "yes")
    client.update_model_version("digits", "1", description="better words")
    model = Model(door.workspace, "digits", version=1)
    assert model.tags == {"k": "v", "reviewed": "yes"}
    assert model.description == "better words"
    client.delete_model_version_tag("digits", "1", "k")
    assert Model(door.workspace, "digits").tags == {"reviewed": "yes"}


def test_registered_model_update_tags_rename_and_delete(door: Door, tmp_path: Path) -> None:
    client = door.mlflow
    run_id = _run_with_model(door, tmp_path)
    client.create_registered_model("iris")
    client.create_model_version("iris", f"runs:/{run_id}/model", run_id)
    client.create_model_version("iris", f"runs:/{run_id}/model", run_id)
    client.update_registered_model("iris", description="now described")
    client.set_registered_model_tag("iris", "owner", "ana")
    client.set_registered_model_tag("iris", "drop", "me")
    client.delete_registered_model_tag("iris", "drop")
    got = client.get_registered_model("iris")
    assert (got.description, got.tags) == ("now described", {"owner": "ana"})
    # The registered model's tags are its own, not its versions'.
    assert Model(door.workspace, "iris", version=1).tags == {}

    client.rename_registered_model("iris", "iris-v2")
    assert client.get_registered_model("iris-v2").description == "now described"
    with pytest.raises(MlflowException) as exc:
        client.get_registered_model("iris")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_model_version("iris-v2", "2").name == "iris-v2"
    # The versions' files followed the rename.
    target = Path(Model(door.workspace, "iris-v2", version=1).download(tmp_path / "down"))
    assert (target / "model.pkl").read_bytes() == b"weights-1"

    client.delete_model_version("iris-v2", "1")
    assert [m.version for m in Model.list(door.workspace, name="iris-v2")] == [2]
    with pytest.raises(MlflowException) as exc:
        client.get_model_version("iris-v2", "1")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    # A deleted version's number is never given again.
    assert client.create_model_version("iris-v2", f"runs:/{run_id}/model", run_id).version == "3"

    client.delete_registered_model("iris-v2")
    assert _names(door) == []
    assert Model.list(door.workspace) == []
    client.create_registered_model("iris-v2")  # the name is free again, numbering restarts
    assert client.create_model_version("iris-v2", f"runs:/{run_id}/model", run_id).version == "1"


def test_aliases_name_one_version_and_resolve_models_uris(
    door: Door, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = door.mlflow
    run_id = _run_with_model(door, tmp_path)
    client.create_registered_model("iris")
    for _ in range(2):
        client.create_model_version("iris", f"runs:/{run_id}/model", run_id)
    client.set_registered_model_alias("iris", "champion", "1")
    client.set_registered_model_alias("iris", "challenger", "2")
    by_alias = client.get_model_version_by_alias("iris", "champion")
    assert (by_alias.version, by_alias.aliases) == ("1", ["champion"])
    assert client.get_registered_model("iris").aliases == {"champion": "1", "challenger": "2"}
    assert Model(door.workspace, "iris", version=1).serialize()["aliases"] == ["champion"]
    # Moving an alias: it names one version at a time.
    client.set_registered_model_alias("iris", "champion", "2")
    assert client.get_model_version("iris", "1").aliases == []
    assert client.get_model_version("iris", "2").aliases == ["challenger", "champion"]

    # The client resolves models:/name@alias and models:/name/version through them.
    from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository

    monkeypatch.setenv("MLFLOW_TRACKING_URI", door.url)
    uri = ModelsArtifactRepository.get_underlying_uri("models:/iris@champion")
    assert uri == "mlflow-artifacts:/models/iris/versions/2/model"
    assert ModelsArtifactRepository.get_underlying_uri("models:/iris/1") == (
        "mlflow-artifacts:/models/iris/versions/1/model"
    )
    assert ModelsArtifactRepository.get_underlying_uri("models:/iris/latest").endswith("/2/model")

    client.delete_registered_model_alias("iris", "challenger")
    with pytest.raises(MlflowException) as exc:
        client.get_model_version_by_alias("iris", "challenger")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    for reserved in ("latest", "v3", "bad alias"):
        with pytest.raises(MlflowException) as exc:
            client.set_registered_model_alias("iris", reserved, "1")
        assert _code(exc) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        client.set_registered_model_alias("iris", "ghost", "9")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    # Deleting a version drops its aliases.
    client.delete_model_version("iris", "2")
    assert client.get_registered_model("iris").aliases == {}


@pytest.mark.filterwarnings("ignore:.*deprecated:FutureWarning")
def test_stages_and_latest_versions(door: Door, tmp_path: Path) -> None:
    client = door.mlflow
    run_id = _run_with_model(door, tmp_path)
    client.create_registered_model("iris")
    for _ in range(3):
        client.create_model_version("iris", f"runs:/{run_id}/model", run_id)
    staged = client.transition_model_version_stage("iris", "1", "staging")
    assert staged.current_stage == "Staging"
    client.transition_model_version_stage("iris", "2", "Production")
    latest = client.get_latest_versions("iris", stages=["Staging"])
    assert [(v.version, v.current_stage) for v in latest] == [("1", "Staging")]
    everything = client.get_latest_versions("iris")
    assert [(v.version, v.current_stage) for v in everything] == [
        ("3", "None"),
        ("1", "Staging"),
        ("2", "Production"),
    ]
    client.transition_model_version_stage("iris", "3", "Staging", archive_existing_versions=True)
    assert client.get_model_version("iris", "1").current_stage == "Archived"
    assert client.get_model_version("iris", "2").current_stage == "Production"
    with pytest.raises(MlflowException) as exc:
        client.transition_model_version_stage("iris", "1", "Shipping")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        client.transition_model_version_stage("iris", "1", "None", archive_existing_versions=True)
    assert _code(exc) == "INVALID_PARAMETER_VALUE"


def test_search_filters_order_and_pages(door: Door, tmp_path: Path) -> None:
    client = door.mlflow
    run_id = _run_with_model(door, tmp_path)
    other_run = client.create_run(client.get_experiment_by_name("iris").experiment_id)
    for name, team in (("iris", "vision"), ("irises", "vision"), ("wine", "taste")):
        client.create_registered_model(name, tags={"team": team})
        client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    client.create_model_version("iris", f"runs:/{run_id}/model", run_id, tags={"best": "yes"})

    assert _names(door) == ["iris", "irises", "wine"]
    assert [m.name for m in client.search_registered_models("name LIKE 'iri%'")] == [
        "iris",
        "irises",
    ]
    assert [m.name for m in client.search_registered_models("name ILIKE 'WINE'")] == ["wine"]
    assert [m.name for m in client.search_registered_models("tags.team = 'taste'")] == ["wine"]
    assert [m.name for m in client.search_registered_models(order_by=["name DESC"])] == [
        "wine",
        "irises",
        "iris",
    ]
    first = client.search_registered_models(max_results=2)
    assert [m.name for m in first] == ["iris", "irises"] and first.token
    rest = client.search_registered_models(max_results=2, page_token=first.token)
    assert [m.name for m in rest] == ["wine"] and not rest.token

    versions = client.search_model_versions("name = 'iris'")
    assert [v.version for v in versions] == ["2", "1"]
    assert len(client.search_model_versions(f"run_id = '{run_id}'")) == 4
    assert client.search_model_versions(f"run_id = '{other_run.info.run_id}'") == []
    assert [v.name for v in client.search_model_versions("name IN ('wine', 'irises')")] == [
        "irises",
        "wine",
    ]
    assert [v.version for v in client.search_model_versions("version_number > 1")] == ["2"]
    assert [v.version for v in client.search_model_versions("tags.best = 'yes'")] == ["2"]
    ordered = client.search_model_versions("name = 'iris'", order_by=["version_number ASC"])
    assert [v.version for v in ordered] == ["1", "2"]
    for bad in ("name = iris", "colour = 'red'", "version_number = 'one'", "name IN 'a'"):
        with pytest.raises(MlflowException) as exc:
            client.search_model_versions(bad)
        assert _code(exc) == "INVALID_PARAMETER_VALUE", bad
    with pytest.raises(MlflowException) as exc:
        client.search_registered_models(order_by=["colour"])
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        client.search_registered_models(max_results=1001)
    assert _code(exc) == "INVALID_PARAMETER_VALUE"


def test_error_codes_and_bad_input_leave_the_registry_intact(door: Door, tmp_path: Path) -> None:
    client = door.mlflow
    run_id = _run_with_model(door, tmp_path)
    other = client.create_run(client.get_experiment_by_name("iris").experiment_id).info.run_id
    client.create_registered_model("iris")
    client.create_model_version("iris", f"runs:/{run_id}/model", run_id)

    def refused(call: object, code: str) -> None:
        assert callable(call)
        with pytest.raises(MlflowException) as exc:
            call()
        assert _code(exc) == code

    refused(lambda: client.create_registered_model("iris"), "RESOURCE_ALREADY_EXISTS")
    refused(lambda: client.get_registered_model("nothing"), "RESOURCE_DOES_NOT_EXIST")
    refused(lambda: client.get_model_version("iris", "7"), "RESOURCE_DOES_NOT_EXIST")
    refused(
        lambda: client.create_model_version("nothing", f"runs:/{run_id}/model", run_id),
        "RESOURCE_DOES_NOT_EXIST",
    )
    refused(lambda: client.create_registered_model("has space"), "INVALID_PARAMETER_VALUE")
    refused(lambda: client.create_registered_model("a/b"), "INVALID_PARAMETER_VALUE")
    # Sources: the run must be named and hold the files; other schemes are refused.
    for source, given_run in (
        (f"runs:/{run_id}/model", other),
        (f"runs:/{run_id}/model", None),
        (f"runs:/{run_id}/no-such-folder", run_id),
        (f"runs:/{run_id}/../escape", run_id),
        (f"{client.get_run(other).info.artifact_uri}/model", run_id),
        ("mlflow-artifacts:/1/abc/artifacts/model", None),
        ("s3://bucket/model", run_id),
        ("/etc/passwd", None),
        ("models:/m-0123456789abcdef", None),
    ):
        refused(
            lambda s=source, r=given_run: client.create_model_version("iris", s, r),
            "INVALID_PARAMETER_VALUE",
        )
    refused(lambda: client.rename_registered_model("iris", "iris"), "RESOURCE_ALREADY_EXISTS")
    refused(lambda: client.rename_registered_model("iris", "bad name"), "INVALID_PARAMETER_VALUE")
    refused(lambda: client.rename_registered_model("ghost", "ghost2"), "RESOURCE_DOES_NOT_EXIST")
    refused(lambda: client.delete_model_version("iris", "5"), "RESOURCE_DOES_NOT_EXIST")
    refused(lambda: client.delete_registered_model("ghost"), "RESOURCE_DOES_NOT_EXIST")
    refused(lambda: client.update_model_version("iris", "5", "x"), "RESOURCE_DOES_NOT_EXIST")
    # Nothing of that reached the registry.
    assert [(m.name, m.version) for m in Model.list(door.workspace)] == [("iris", 1)]
    assert [v.version for v in client.search_model_versions("name = 'iris'")] == ["1"]

    # MLflow's error shape and HTTP statuses, as a non-Python client sees them.
    api = f"{door.url}/api/2.0/mlflow"
    for version in ("x", "²", "-1", "0", "1.5"):
        params = {"name": "iris", "version": version}
        answer = httpx.get(f"{api}/model-versions/get", params=params)
        assert answer.status_code == 400, version
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "version" in answer.json()["message"]
    answer = httpx.get(f"{api}/registered-models/search", params={"page_token": "²"})
    assert (answer.status_code, answer.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    answer = httpx.get(f"{api}/registered-models/get", params={"name": "ghost"})
    assert (answer.status_code, answer.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    answer = httpx.post(f"{api}/registered-models/create", json={"name": "x", "tags": "nope"})
    assert (answer.status_code, answer.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    answer = httpx.post(f"{api}/registered-models/create", json={})
    assert answer.status_code == 400 and "name" in answer.json()["message"]
    answer = httpx.post(
        f"{api}/model-versions/set-tag",
        json={"name": "iris", "version": "1", "key": "k", "value": "v" * 100_000},
    )
    assert (answer.status_code, answer.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert client.get_model_version("iris", "1").tags == {}


def test_models_uris_download_a_versions_files_end_to_end(
    door: Door, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Needs the artifact proxy (/api/2.0/mlflow-artifacts/…) to consult registry.py's
    root for `models/…` paths; skipped only while no proxy answers at all."""
    import mlflow

    probe = httpx.get(f"{door.url}/api/2.0/mlflow-artifacts/artifacts", params={"path": ""})
    if "json" not in probe.headers.get("content-type", ""):  # the studio's page answers
        pytest.skip("no MLflow artifact proxy in this build (/api/2.0/mlflow-artifacts/…)")
    client = door.mlflow
    run_id = _run_with_model(door, tmp_path)
    client.create_registered_model("iris")
    client.create_model_version("iris", f"runs:/{run_id}/model", run_id)
    client.set_registered_model_alias("iris", "champion", "1")
    single = tmp_path / "single.pkl"
    single.write_bytes(b"one file")
    Model.register(door.workspace, str(single), "digits")

    monkeypatch.setenv("MLFLOW_TRACKING_URI", door.url)
    for uri in ("models:/iris/1", "models:/iris@champion"):
        local = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / uri[8:])))
        assert (local / "MLmodel").read_text() == "flavors: {}\n"
        assert (local / "model.pkl").read_bytes() == b"weights-1"
    local = Path(mlflow.artifacts.download_artifacts("models:/digits/1", dst_path=str(tmp_path)))
    assert (local / "single.pkl").read_bytes() == b"one file"
    # mlflow.register_model lists the run's files, then registers their mlflow-artifacts URI.
    registered = mlflow.register_model(f"runs:/{run_id}/model", "iris")
    assert registered.version == "2"
    assert registered.source.endswith(f"/{run_id}/artifacts/model")
    assert Model(door.workspace, "iris").files == ["model/MLmodel", "model/model.pkl"]


_BAD_VALUES: list[object] = [None, "", 7, True, [], {}, ["x"], "²", "a/b", "x" * 300, "models:/"]


def test_no_registry_endpoint_answers_malformed_input_with_a_server_error(
    door: Door, tmp_path: Path
) -> None:
    from runyard.mlflow import registry  # noqa: F401  (its routes are loaded)
    from runyard.mlflow.endpoints import ROUTES

    client = door.mlflow
    run_id = _run_with_model(door, tmp_path)
    client.create_registered_model("iris")
    client.create_model_version("iris", f"runs:/{run_id}/model", run_id)
    valid = {
        "name": "iris",
        "version": "1",
        "alias": "champion",
        "key": "k",
        "value": "v",
        "new_name": "iris2",
        "source": f"runs:/{run_id}/model",
        "run_id": run_id,
        "stage": "Staging",
    }
    api = f"{door.url}/api/2.0/mlflow"
    registry_routes = [
        (method, path)
        for _, method, path in ROUTES
        if path.startswith(("registered-models/", "model-versions/"))
    ]
    assert len(registry_routes) == 21
    with httpx.Client(timeout=30) as http:
        for method, path in registry_routes:
            for field in ("name", "version", "source", "tags", "filter", "order_by", "stages"):
                for bad in _BAD_VALUES:
                    # Deletes and renames aim at a model that does not exist: they never
                    # go through, whatever else is wrong.
                    aim = "ghost" if path.endswith(("delete", "rename")) else "iris"
                    body = {**valid, "name": aim, field: bad}
                    if method == "GET":
                        params = {k: v for k, v in body.items() if isinstance(v, (str, int))}
                        answer = http.get(f"{api}/{path}", params=params)
                    else:
                        answer = http.request(method, f"{api}/{path}", json=body)
                    assert answer.status_code < 500, (method, path, field, bad, answer.text)
                    if answer.status_code >= 400:
                        assert set(answer.json()) == {"error_code", "message"}
    # The model is still whole.
    assert client.get_model_version("iris", "1").run_id == run_id

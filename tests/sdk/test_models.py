"""The model registry as Azure ML's `azureml.core.Model` and `Run.register_model` behave, on
both backends and both transports."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runyard import (
    Experiment,
    ImmutablePropertyError,
    Model,
    ModelNotFoundError,
    NotFoundError,
    Run,
    RunyardError,
    ValidationError,
    Workspace,
)
from runyard.core.errors import ConflictError
from runyard.sdk.workspace import close_all


def trained_run(experiment: Experiment, tmp_path: Path, weights: bytes = b"weights-1") -> Run:
    """A completed run that uploaded outputs/model.pkl and outputs/vocab.txt."""
    run = experiment.start_logging()
    model = tmp_path / f"model-{uuid.uuid4().hex}.pkl"
    model.write_bytes(weights)
    run.upload_file("outputs/model.pkl", str(model))
    run.upload_file("outputs/vocab.txt", str(_text(tmp_path, "a b c")))
    run.complete()
    return run


def _text(tmp_path: Path, text: str) -> Path:
    path = tmp_path / f"text-{uuid.uuid4().hex}.txt"
    path.write_text(text)
    return path


def test_run_register_model_returns_a_model_with_azures_attributes(
    experiment: Experiment, tmp_path: Path
) -> None:
    run = trained_run(experiment, tmp_path)
    before = datetime.now(UTC) - timedelta(seconds=5)

    model = run.register_model(
        "sklearn-clf",
        "outputs/model.pkl",
        tags={"area": "vision"},
        properties={"accuracy": 0.91},
        model_framework="ScikitLearn",
        model_framework_version="1.5.0",
        description="a classifier",
    )

    assert (model.name, model.version, model.id) == ("sklearn-clf", 1, "sklearn-clf:1")
    assert model.run_id == run.id
    assert model.experiment_name == experiment.name
    assert model.tags == {"area": "vision"}
    assert model.properties == {"accuracy": "0.91"}
    assert model.description == "a classifier"
    assert model.model_framework == model.framework == "ScikitLearn"
    assert model.model_framework_version == "1.5.0"
    assert before <= model.created_time <= datetime.now(UTC) + timedelta(seconds=5)
    assert model.created_time.tzinfo is not None
    assert model.url.startswith("_models/") and "sklearn-clf" in model.url
    assert (model.path, model.files) == ("model.pkl", ["model.pkl"])
    assert model.workspace is experiment.workspace


def test_each_registration_of_a_name_is_the_next_version(
    experiment: Experiment, tmp_path: Path
) -> None:
    run = trained_run(experiment, tmp_path)

    versions = [run.register_model("clf", "outputs/model.pkl").version for _ in range(3)]
    other = run.register_model("other", "outputs/model.pkl")

    assert versions == [1, 2, 3]
    assert other.version == 1


def test_a_folder_is_registered_under_its_own_name(experiment: Experiment, tmp_path: Path) -> None:
    run = trained_run(experiment, tmp_path)

    model = run.register_model("bundle", "outputs/")

    assert model.path == "outputs"
    assert model.files == ["outputs/model.pkl", "outputs/vocab.txt"]
    target = Path(model.download(tmp_path / "dl"))
    assert target == tmp_path / "dl" / "outputs"
    assert (target / "model.pkl").read_bytes() == b"weights-1"
    assert (target / "vocab.txt").read_text() == "a b c"


def test_model_path_defaults_to_the_models_name(experiment: Experiment, tmp_path: Path) -> None:
    run = experiment.start_logging()
    run.upload_file("model.onnx", str(_text(tmp_path, "onnx")))

    model = run.register_model("model.onnx")

    assert model.files == ["model.onnx"]


def test_a_path_the_run_does_not_hold_is_refused_and_registers_nothing(
    experiment: Experiment, tmp_path: Path
) -> None:
    run = trained_run(experiment, tmp_path)

    with pytest.raises(NotFoundError, match=r"outputs/missing\.pkl"):
        run.register_model("clf", "outputs/missing.pkl")
    with pytest.raises(NotFoundError):
        run.register_model("clf", "outputs/mod")  # a prefix of a name is not a folder

    assert Model.list(experiment.workspace) == []
    assert run.register_model("clf", "outputs/model.pkl").version == 1


def test_model_constructor_finds_latest_or_a_given_version(
    experiment: Experiment, tmp_path: Path
) -> None:
    ws = experiment.workspace
    run = trained_run(experiment, tmp_path)
    for _ in range(3):
        run.register_model("clf", "outputs/model.pkl")

    assert Model(ws, "clf").version == 3
    assert Model(ws, "clf", version=2).id == "clf:2"
    assert Model(ws, id="clf:1").version == 1
    assert Model(ws, name="clf", run_id=run.id).version == 3
    assert Model(ws, "clf", version=2) == Model(ws, id="clf:2")


def test_model_constructor_filters_by_tags_properties_and_framework(
    experiment: Experiment, tmp_path: Path
) -> None:
    ws = experiment.workspace
    run = trained_run(experiment, tmp_path)
    run.register_model("clf", "outputs/model.pkl", tags={"stage": "prod"}, model_framework="A")
    run.register_model("clf", "outputs/model.pkl", tags={"stage": "dev"}, properties={"p": "1"})

    assert Model(ws, "clf", tags=[["stage", "prod"]]).version == 1
    assert Model(ws, "clf", tags=["stage"]).version == 2
    assert Model(ws, "clf", properties=["p"]).version == 2
    assert Model(ws, "clf", model_framework="A").version == 1
    with pytest.raises(ModelNotFoundError):
        Model(ws, "clf", tags={"stage": "qa"})


def test_unknown_models_and_versions_are_not_found(experiment: Experiment, tmp_path: Path) -> None:
    ws = experiment.workspace
    with pytest.raises(ModelNotFoundError, match="nothing-here"):
        Model(ws, "nothing-here")
    trained_run(experiment, tmp_path).register_model("clf", "outputs/model.pkl")
    with pytest.raises(ModelNotFoundError, match="version 7"):
        Model(ws, "clf", version=7)
    with pytest.raises(NotFoundError):  # ModelNotFoundError is a NotFoundError
        Model(ws, id="clf:9")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a name or an id"),
        ({"name": "bad name"}, "invalid model name"),
        ({"name": "-dash"}, "invalid model name"),
        ({"name": "x" * 256}, "limit is 255"),
        ({"name": "clf", "version": 0}, "whole number from 1"),
        ({"id": "clf:latest"}, "whole number from 1"),
        ({"name": "a", "id": "b:1"}, "different models"),
    ],
)
def test_bad_model_references_say_what_is_allowed(
    workspace: Workspace, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Model(workspace, **kwargs)  # type: ignore[arg-type]


def test_model_list_filters_as_azure_does(experiment: Experiment, tmp_path: Path) -> None:
    ws = experiment.workspace
    first = trained_run(experiment, tmp_path)
    second = trained_run(experiment, tmp_path)
    first.register_model("clf", "outputs/model.pkl", tags={"stage": "prod", "team": "a"})
    first.register_model("clf", "outputs/model.pkl", tags={"stage": "dev"}, properties={"k": "v"})
    second.register_model("reg", "outputs/model.pkl", tags={"stage": "prod"})

    def ids(**kwargs: object) -> list[str]:
        return [m.id for m in Model.list(ws, **kwargs)]  # type: ignore[arg-type]

    assert ids() == ["clf:2", "clf:1", "reg:1"]
    assert ids(name="clf") == ["clf:2", "clf:1"]
    assert ids(latest=True) == ["clf:2", "reg:1"]
    assert ids(tags=[["stage", "prod"]]) == ["clf:1", "reg:1"]
    assert ids(tags=["team"]) == ["clf:1"]
    assert ids(tags={"stage": "prod"}, latest=True) == ["clf:1", "reg:1"]
    assert ids(properties=[["k", "v"]]) == ["clf:2"]
    assert ids(properties=["k", ["k", "other"]]) == []
    assert ids(run_id=second.id) == ["reg:1"]
    assert ids(name="none") == []
    with pytest.raises(ValidationError, match="key or a \\[key, value\\] pair"):
        Model.list(ws, tags=[["a", "b", "c"]])
    with pytest.raises(ValidationError, match="list of keys"):
        Model.list(ws, tags="stage")


def test_model_register_takes_a_local_file_or_folder(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model.pkl").write_bytes(b"local weights")
    folder = tmp_path / "my_model"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "sub" / "weights.bin").write_bytes(b"\x00\x01")

    single = Model.register(workspace, str(tmp_path / "model.pkl"), "local", tags={"a": "1"})
    many = Model.register(workspace, folder, "local", description="a folder")
    monkeypatch.chdir(folder)
    dot = Model.register(workspace, ".", "local")

    assert (single.version, single.run_id, single.path) == (1, None, "model.pkl")
    assert single.tags == {"a": "1"}
    assert (many.version, many.path, many.description) == (2, "my_model", "a folder")
    assert many.files == ["my_model/config.json", "my_model/sub/weights.bin"]
    assert (dot.version, dot.path) == (3, "my_model")
    downloaded = Path(Model(workspace, "local", version=2).download(tmp_path / "out"))
    assert (downloaded / "sub" / "weights.bin").read_bytes() == b"\x00\x01"
    assert Path(single.download(tmp_path / "out")).read_bytes() == b"local weights"


def test_model_register_refuses_what_it_cannot_register(
    workspace: Workspace, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFoundError, match="not a local file or folder"):
        Model.register(workspace, tmp_path / "missing.pkl", "clf")
    with pytest.raises(ValidationError, match="holds no files"):
        Model.register(workspace, tmp_path / "empty", "clf")
    with pytest.raises(ValidationError, match="invalid model name"):
        Model.register(workspace, tmp_path / "empty", "no/slash")
    with pytest.raises(ValidationError, match="tag"):
        Model.register(workspace, tmp_path, "clf", tags={"": "x"})
    assert Model.list(workspace) == []


def test_a_registered_version_keeps_its_files_when_the_runs_files_change(
    experiment: Experiment, tmp_path: Path
) -> None:
    run = trained_run(experiment, tmp_path, b"first weights")
    model = run.register_model("clf", "outputs/model.pkl")
    folder = run.register_model("bundle", "outputs")

    run.upload_file("outputs/model.pkl", str(_text(tmp_path, "retrained")))
    run.upload_file("outputs/extra.txt", str(_text(tmp_path, "new file")))

    assert Path(model.download(tmp_path / "a")).read_bytes() == b"first weights"
    bundle = Path(Model(experiment.workspace, "bundle").download(tmp_path / "b"))
    assert sorted(p.name for p in bundle.iterdir()) == ["model.pkl", "vocab.txt"]
    assert (bundle / "model.pkl").read_bytes() == b"first weights"
    assert folder.files == ["outputs/model.pkl", "outputs/vocab.txt"]
    newer = run.register_model("clf", "outputs/model.pkl")
    assert Path(newer.download(tmp_path / "c")).read_text() == "retrained"


@pytest.mark.parametrize("transport", ["local"])
def test_a_registered_version_survives_deleting_the_runs_files(
    experiment: Experiment, tmp_path: Path
) -> None:
    run = trained_run(experiment, tmp_path, b"kept")
    model = run.register_model("clf", "outputs/model.pkl")

    shutil.rmtree(tmp_path / "artifacts" / experiment.name / run.id)

    assert run.get_file_names() == []
    assert Path(model.download(tmp_path / "x")).read_bytes() == b"kept"


def test_download_refuses_to_overwrite_unless_exist_ok(
    experiment: Experiment, tmp_path: Path
) -> None:
    model = trained_run(experiment, tmp_path, b"registered").register_model(
        "clf", "outputs/model.pkl"
    )
    target_dir = tmp_path / "target"

    path = Path(model.download(target_dir))
    path.write_bytes(b"changed locally")

    assert path == target_dir / "model.pkl"
    with pytest.raises(ConflictError, match="exist_ok=True"):
        model.download(target_dir)
    assert path.read_bytes() == b"changed locally"
    assert model.download(target_dir, exist_ok=True) == str(path)
    assert path.read_bytes() == b"registered"
    assert sorted(p.name for p in target_dir.iterdir()) == ["model.pkl"]  # no partial files


def test_download_replaces_a_whole_folder_with_exist_ok(
    experiment: Experiment, tmp_path: Path
) -> None:
    model = trained_run(experiment, tmp_path).register_model("bundle", "outputs")
    stale = tmp_path / "t" / "outputs" / "stale.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")

    with pytest.raises(ConflictError):
        model.download(tmp_path / "t")
    model.download(tmp_path / "t", exist_ok=True)

    assert sorted(p.name for p in stale.parent.iterdir()) == ["model.pkl", "vocab.txt"]


def test_tags_are_mutable_and_stored(experiment: Experiment, tmp_path: Path) -> None:
    model = trained_run(experiment, tmp_path).register_model(
        "clf", "outputs/model.pkl", tags={"stage": "dev", "keep": "yes"}
    )

    model.add_tags({"stage": "prod", "owner": "me"})
    model.remove_tags(["keep", "missing"])

    expected = {"stage": "prod", "owner": "me"}
    assert model.tags == expected
    assert Model(experiment.workspace, "clf").tags == expected
    model.remove_tags("owner")
    assert Model(experiment.workspace, id="clf:1").tags == {"stage": "prod"}
    with pytest.raises(ValidationError):
        model.add_tags({"stage": ["not", "text"]})


def test_properties_are_write_once(experiment: Experiment, tmp_path: Path) -> None:
    model = trained_run(experiment, tmp_path).register_model(
        "clf", "outputs/model.pkl", properties={"accuracy": "0.9"}
    )

    model.add_properties({"accuracy": "0.9", "dataset": "mnist"})
    with pytest.raises(ImmutablePropertyError, match="accuracy"):
        model.add_properties({"accuracy": "0.99"})
    with pytest.raises(ImmutablePropertyError):
        model.add_properties({"new": "x", "dataset": "cifar"})

    expected = {"accuracy": "0.9", "dataset": "mnist"}
    assert model.properties == expected
    assert Model(experiment.workspace, "clf").properties == expected


def test_versions_have_their_own_tags_and_properties(
    experiment: Experiment, tmp_path: Path
) -> None:
    run = trained_run(experiment, tmp_path)
    one = run.register_model("clf", "outputs/model.pkl", properties={"p": "1"})
    two = run.register_model("clf", "outputs/model.pkl", properties={"p": "2"})

    one.add_tags({"only": "one"})

    assert Model(experiment.workspace, "clf", version=2).tags == {}
    assert (one.properties, two.properties) == ({"p": "1"}, {"p": "2"})


def test_get_model_path_downloads_once_then_finds_it_locally(
    experiment: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = trained_run(experiment, tmp_path, b"v1")
    run.register_model("clf", "outputs/model.pkl")
    run.register_model("clf", "outputs")
    monkeypatch.chdir(tmp_path)

    first = Model.get_model_path("clf", version=1, _workspace=experiment.workspace)
    latest = Model.get_model_path("clf", _workspace=experiment.workspace)

    assert first == str(Path("azureml-models") / "clf" / "1" / "model.pkl")
    assert Path(first).read_bytes() == b"v1"
    assert latest == str(Path("azureml-models") / "clf" / "2" / "outputs")
    assert Model.get_model_path("clf", version=1) == first
    assert Model.get_model_path("clf") == latest
    with pytest.raises(ModelNotFoundError, match="_workspace"):
        Model.get_model_path("clf", version=5)
    with pytest.raises(ModelNotFoundError, match="_workspace"):
        Model.get_model_path("other")


def test_serialize_and_deserialize_round_trip(experiment: Experiment, tmp_path: Path) -> None:
    model = trained_run(experiment, tmp_path).register_model(
        "clf", "outputs/model.pkl", tags={"t": None}, description="d"
    )

    payload = model.serialize()
    again = Model.deserialize(experiment.workspace, payload)

    assert payload["id"] == "clf:1"
    assert payload["runId"] == model.run_id
    assert payload["createdTime"].endswith("Z") or "+00:00" in payload["createdTime"]
    assert payload["modelFramework"] is None
    assert again == model
    assert (again.tags, again.description, again.files) == ({"t": None}, "d", ["model.pkl"])


def test_models_of_one_workspace_are_invisible_to_another(
    backend: str, transport: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if transport == "local":
        store = request.getfixturevalue("store_url")
        artifacts = str(tmp_path / "artifacts")
        mine = Workspace("mine", store_url=store, artifacts_url=artifacts)
        theirs = Workspace("theirs", store_url=store, artifacts_url=artifacts)
    else:
        server = request.getfixturevalue("shared_server")(backend)
        mine = Workspace(f"m{uuid.uuid4().hex[:12]}", server_url=server)
        theirs = Workspace(f"t{uuid.uuid4().hex[:12]}", server_url=server)
    try:
        (tmp_path / "model.pkl").write_bytes(b"mine")
        Model.register(mine, tmp_path / "model.pkl", "shared-name")

        assert Model.list(theirs) == []
        with pytest.raises(ModelNotFoundError):
            Model(theirs, "shared-name")
        (tmp_path / "model.pkl").write_bytes(b"theirs")
        assert Model.register(theirs, tmp_path / "model.pkl", "shared-name").version == 1
        assert Path(Model(mine, "shared-name").download(tmp_path / "m")).read_bytes() == b"mine"
    finally:
        close_all()


def test_offline_mode_says_models_need_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.client.offline import OfflineError

    monkeypatch.setenv("RUNYARD_MODE", "offline")
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    ws = Workspace("w", server_url="http://127.0.0.1:9")
    try:
        run = Experiment(ws, "offline").start_logging()
        (tmp_path / "m.pkl").write_bytes(b"x")
        run.upload_file("outputs/m.pkl", str(tmp_path / "m.pkl"))
        with pytest.raises(OfflineError, match="registering a model needs the server"):
            run.register_model("clf", "outputs/m.pkl")
        with pytest.raises(OfflineError, match="runyard sync"):
            Model.register(ws, tmp_path / "m.pkl", "clf")
        with pytest.raises(OfflineError):
            Model.list(ws)
        run.complete()
    finally:
        close_all()


def test_an_offline_run_says_how_to_register_instead() -> None:
    offline = Run.get_context()

    with pytest.raises(RunyardError, match=r"Model\.register\(workspace, model_path"):
        offline.register_model("clf", "outputs/model.pkl")

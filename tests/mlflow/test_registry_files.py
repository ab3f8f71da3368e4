"""Where the files of an MLflow model version are: the artifact proxy's
`models/<name>/versions/<n>/…` paths and the sources versions copy from, on a real store
(SQLite and PostgreSQL) and a real artifact folder, called in-process."""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runyard.artifacts import ArtifactStore
from runyard.core.entities import NewRun
from runyard.core.paths import run_prefix
from runyard.core.roles import Role
from runyard.mlflow import artifact_paths, logged_models, registry
from runyard.mlflow.errors import MlflowError
from runyard.store.base import ModelStore, TrackingStore
from runyard.store.sql import SqlTrackingStore


@dataclass
class _Access:
    workspace: str
    role: Role
    store: TrackingStore
    files: ArtifactStore
    models: ModelStore


@pytest.fixture
def access(store_url: str, tmp_path: Path) -> Iterator[_Access]:
    store = SqlTrackingStore(store_url)
    yield _Access("default", Role.OWNER, store, ArtifactStore(str(tmp_path / "files")), store)
    store.close()


def _run_with_model(access: _Access) -> str:
    run_id = uuid.uuid4().hex
    access.store.create_runs([NewRun(run_id=run_id, experiment_name="iris")])
    prefix = run_prefix("iris", run_id)
    access.files.put_bytes(prefix, "model/MLmodel", b"flavors: {}\n")
    access.files.put_bytes(prefix, "model/model.pkl", b"weights")
    return run_id


def _version(access: _Access, name: str, source: str, **more: Any) -> dict[str, Any]:
    body = {"name": name, "source": source, **more}
    answer: dict[str, Any] = registry.create_model_version(access, body)
    return answer


def test_proxy_paths_of_a_version_resolve_to_its_own_copy_even_after_a_rename(
    access: _Access,
) -> None:
    run_id = _run_with_model(access)
    registry.create_registered_model(access, {"name": "iris"})
    _version(access, "iris", f"runs:/{run_id}/model", run_id=run_id)
    # A later write to the run does not reach the version.
    access.files.put_bytes(run_prefix("iris", run_id), "model/model.pkl", b"changed")

    prefix, name = registry.resolve_model_version_files(access, "iris/versions/1/model/model.pkl")
    assert name == "model/model.pkl"
    assert access.files.read_bytes(prefix, name) == b"weights"
    prefix, folder = registry.resolve_model_version_files(access, "iris/versions/1")
    assert folder == ""
    assert sorted(access.files.list_files(prefix)) == ["model/MLmodel", "model/model.pkl"]
    located = artifact_paths.locate(access, "models/iris/versions/1/model/MLmodel")
    assert (located.prefix, located.name, located.write_role) == (prefix, "model/MLmodel", None)

    registry.rename_registered_model(access, {"name": "iris", "new_name": "setosa"})
    prefix, name = registry.resolve_model_version_files(access, "setosa/versions/1/model/MLmodel")
    assert access.files.read_bytes(prefix, name) == b"flavors: {}\n"
    with pytest.raises(MlflowError) as exc:
        registry.resolve_model_version_files(access, "iris/versions/1/model/MLmodel")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(
    ("rest", "code"),
    [
        ("setosa/versions/9/model", "RESOURCE_DOES_NOT_EXIST"),
        ("setosa/version/1", "RESOURCE_DOES_NOT_EXIST"),
        ("setosa/versions/one", "RESOURCE_DOES_NOT_EXIST"),
        ("setosa", "RESOURCE_DOES_NOT_EXIST"),
        ("bad name/versions/1", "INVALID_PARAMETER_VALUE"),
    ],
)
def test_paths_that_are_no_version_are_refused(access: _Access, rest: str, code: str) -> None:
    run_id = _run_with_model(access)
    registry.create_registered_model(access, {"name": "setosa"})
    _version(access, "setosa", f"runs:/{run_id}/model", run_id=run_id)
    with pytest.raises(MlflowError) as exc:
        registry.resolve_model_version_files(access, rest)
    assert exc.value.error_code == code


def test_a_deleted_version_takes_its_files_with_it(access: _Access) -> None:
    run_id = _run_with_model(access)
    registry.create_registered_model(access, {"name": "iris"})
    _version(access, "iris", f"runs:/{run_id}/model", run_id=run_id)
    prefix, _ = registry.resolve_model_version_files(access, "iris/versions/1")
    registry.delete_model_version(access, {"name": "iris", "version": "1"})
    assert access.files.list_files(prefix) == []
    # The run's own files stay.
    assert len(access.files.list_files(run_prefix("iris", run_id))) == 2


def test_a_version_copies_another_version_or_a_logged_models_whole_location(
    access: _Access,
) -> None:
    run_id = _run_with_model(access)
    registry.create_registered_model(access, {"name": "iris"})
    _version(access, "iris", f"runs:/{run_id}/model", run_id=run_id)
    registry.set_registered_model_alias(access, {"name": "iris", "alias": "best", "version": "1"})
    copy = _version(access, "iris", "models:/iris@best")["model_version"]
    # MLflow records another version as a source by its number.
    assert (copy["version"], copy["run_id"], copy["source"]) == ("2", run_id, "models:/iris/1")
    registry.transition_model_version_stage(
        access, {"name": "iris", "version": "1", "stage": "Production"}
    )
    assert _version(access, "iris", "models:/iris/production")["model_version"]["source"] == (
        "models:/iris/1"
    )
    assert _version(access, "iris", "models:/iris/latest")["model_version"]["source"] == (
        "models:/iris/3"
    )
    for missing in ("models:/iris@nobody", "models:/iris/Staging", "models:/iris/Shipped"):
        with pytest.raises(MlflowError) as exc:
            _version(access, "iris", missing)
        assert exc.value.error_code == "INVALID_PARAMETER_VALUE"

    # A logged model's files are found where the artifact proxy's table puts them.
    created = logged_models.create_logged_model(
        access, {"experiment_id": "1", "name": "net", "source_run_id": run_id}
    )["model"]["info"]
    model_id = created["model_id"]
    location = artifact_paths.locate(access, f"logged-models/{model_id}/artifacts")
    for name, data in (("MLmodel", b"logged"), ("data/model.pt", b"tensor")):
        access.files.put_bytes(location.prefix, posixpath.join(location.name, name), data)
    logged = _version(access, "iris", f"models:/{model_id}", model_id=model_id)["model_version"]
    assert (logged["version"], logged["model_id"], logged["run_id"]) == ("5", model_id, run_id)
    prefix, _ = registry.resolve_model_version_files(access, "iris/versions/5")
    assert sorted(access.files.list_files(prefix)) == ["model/MLmodel", "model/data/model.pt"]
    assert registry.get_model_version_download_uri(access, {"name": "iris", "version": "5"}) == {
        "artifact_uri": "mlflow-artifacts:/models/iris/versions/5/model"
    }
    with pytest.raises(MlflowError) as exc:
        _version(access, "iris", "models:/m-zzz", model_id="m-zzz")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    assert [v.version for v in access.models.list_model_versions()] == [5, 4, 3, 2, 1]

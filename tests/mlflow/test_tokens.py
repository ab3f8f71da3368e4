"""The MLflow door keeps the native API's token rules and workspace isolation."""

from __future__ import annotations

import uuid

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from runyard import Workspace
from tests.server.access_control.conftest import secured  # noqa: F401  (the fixture)
from tests.server.access_control.secured import TEAM_A, TEAM_B, Secured


def _client(url: str, monkeypatch: pytest.MonkeyPatch, **env: str) -> MlflowClient:
    """A client whose credentials are `env` (MLflow reads them at each request)."""
    for name in (
        "MLFLOW_TRACKING_TOKEN",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return MlflowClient(tracking_uri=url)


def test_tracking_token_and_basic_auth_are_accepted(
    secured: Secured,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws = Workspace(TEAM_A, server_url=secured.url, token=secured.tokens[(TEAM_A, "contributor")])
    url = ws.get_mlflow_tracking_uri()
    assert url == f"{secured.url}/mlflow/{TEAM_A}"
    token = secured.tokens[(TEAM_A, "contributor")]
    bearer = _client(url, monkeypatch, MLFLOW_TRACKING_TOKEN=token)
    name = f"tok-{uuid.uuid4().hex[:8]}"
    experiment_id = bearer.create_experiment(name)
    run_id = bearer.create_run(experiment_id).info.run_id
    bearer.log_metric(run_id, "loss", 0.5)
    basic = _client(
        url, monkeypatch, MLFLOW_TRACKING_USERNAME="anyone", MLFLOW_TRACKING_PASSWORD=token
    )
    assert basic.get_run(run_id).data.metrics == {"loss": 0.5}


def test_no_token_a_reader_token_and_another_workspaces_token_are_refused(
    secured: Secured,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"{secured.url}/mlflow/{TEAM_A}"
    writer = _client(url, monkeypatch, MLFLOW_TRACKING_TOKEN=secured.tokens[(TEAM_A, "owner")])
    name = f"iso-{uuid.uuid4().hex[:8]}"
    experiment_id = writer.create_experiment(name)
    assert writer.search_runs([experiment_id]) == []
    # MLflow reads the token from the environment at each request: one client at a time.

    with pytest.raises(MlflowException) as exc:
        _client(url, monkeypatch).get_experiment(experiment_id)
    assert exc.value.error_code == "UNAUTHENTICATED"

    reader = _client(url, monkeypatch, MLFLOW_TRACKING_TOKEN=secured.tokens[(TEAM_A, "reader")])
    assert reader.get_experiment(experiment_id).name == name
    with pytest.raises(MlflowException) as exc:
        reader.create_run(experiment_id)
    assert exc.value.error_code == "PERMISSION_DENIED"

    foreign = _client(url, monkeypatch, MLFLOW_TRACKING_TOKEN=secured.tokens[(TEAM_B, "owner")])
    with pytest.raises(MlflowException) as exc:
        foreign.get_experiment(experiment_id)
    assert exc.value.error_code == "PERMISSION_DENIED"
    # Team B's own door does not see team A's experiment.
    own = _client(
        f"{secured.url}/mlflow/{TEAM_B}",
        monkeypatch,
        MLFLOW_TRACKING_TOKEN=secured.tokens[(TEAM_B, "owner")],
    )
    assert own.get_experiment_by_name(name) is None


def test_registry_readers_cannot_write_contributors_cannot_delete_other_teams_see_nothing(
    secured: Secured,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"{secured.url}/mlflow/{TEAM_A}"
    name = f"reg-{uuid.uuid4().hex[:8]}"
    owner = _client(url, monkeypatch, MLFLOW_TRACKING_TOKEN=secured.tokens[(TEAM_A, "owner")])
    owner.create_registered_model(name, tags={"team": "a"})

    reader = _client(url, monkeypatch, MLFLOW_TRACKING_TOKEN=secured.tokens[(TEAM_A, "reader")])
    assert reader.get_registered_model(name).tags == {"team": "a"}
    assert name in [m.name for m in reader.search_registered_models()]
    for write in (
        lambda: reader.create_registered_model(f"{name}-2"),
        lambda: reader.set_registered_model_tag(name, "team", "b"),
        lambda: reader.update_registered_model(name, description="mine"),
        lambda: reader.delete_registered_model(name),
    ):
        with pytest.raises(MlflowException) as exc:
            write()
        assert exc.value.error_code == "PERMISSION_DENIED"

    contributor = _client(
        url, monkeypatch, MLFLOW_TRACKING_TOKEN=secured.tokens[(TEAM_A, "contributor")]
    )
    contributor.set_registered_model_tag(name, "reviewed", "yes")
    for destroy in (
        lambda: contributor.delete_registered_model(name),
        lambda: contributor.rename_registered_model(name, f"{name}-renamed"),
    ):
        with pytest.raises(MlflowException) as exc:
            destroy()
        assert exc.value.error_code == "PERMISSION_DENIED"

    foreign = _client(url, monkeypatch, MLFLOW_TRACKING_TOKEN=secured.tokens[(TEAM_B, "owner")])
    with pytest.raises(MlflowException) as exc:
        foreign.get_registered_model(name)
    assert exc.value.error_code == "PERMISSION_DENIED"
    own = _client(
        f"{secured.url}/mlflow/{TEAM_B}",
        monkeypatch,
        MLFLOW_TRACKING_TOKEN=secured.tokens[(TEAM_B, "owner")],
    )
    assert name not in [m.name for m in own.search_registered_models()]
    with pytest.raises(MlflowException) as exc:
        own.get_registered_model(name)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as exc:
        own.delete_registered_model(name)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    # Nothing of that changed the model (the client reads its token from the environment).
    owner = _client(url, monkeypatch, MLFLOW_TRACKING_TOKEN=secured.tokens[(TEAM_A, "owner")])
    got = owner.get_registered_model(name)
    assert (got.tags, got.description) == ({"team": "a", "reviewed": "yes"}, "")

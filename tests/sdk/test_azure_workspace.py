"""Workspace identity as Azure ML v1 has it: name, resource_group, location,
subscription_id, get_details(), Workspace.get, experiments, compute_targets, write_config.

Reference: azureml.core.Workspace (v1): the four identity attributes are strings that
notebooks print and join; `experiments` and `compute_targets` map names to objects.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runyard import ComputeTarget, Experiment, ValidationError, Workspace

IDENTITY = ("name", "resource_group", "location", "subscription_id")


def test_identity_attributes_are_strings_on_every_workspace(workspace: Workspace) -> None:
    values = [getattr(workspace, attribute) for attribute in IDENTITY]
    assert all(isinstance(v, str) and v for v in values)
    # What the v1 notebooks do with them.
    assert "\n".join(values).count("\n") == 3
    expected_place = "127.0.0.1" if workspace.is_remote else "local"
    assert workspace.location == expected_place
    assert workspace.resource_group == expected_place


def test_subscription_id_is_stable_for_one_place_and_differs_between_places(
    tmp_path: Path,
) -> None:
    one = Workspace("a", store_url=f"sqlite:///{tmp_path}/1.db", artifacts_url=str(tmp_path))
    again = Workspace("a", store_url=f"sqlite:///{tmp_path}/1.db", artifacts_url=str(tmp_path))
    other = Workspace("a", store_url=f"sqlite:///{tmp_path}/2.db", artifacts_url=str(tmp_path))
    assert one.subscription_id == again.subscription_id != other.subscription_id
    assert len(one.subscription_id) == 36  # shaped like Azure's GUIDs


def test_identity_from_an_azure_config_json_is_kept(tmp_path: Path) -> None:
    config = {
        "subscription_id": "0000-sub",
        "resource_group": "rg-ml",
        "workspace_name": "team",
        "location": "westeurope",
        "store": "sqlite:///runs.db",
        "artifacts": "files",
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    ws = Workspace.from_config(tmp_path / "config.json")
    assert (ws.name, ws.subscription_id, ws.resource_group, ws.location) == (
        "team",
        "0000-sub",
        "rg-ml",
        "westeurope",
    )
    written = ws.write_config(tmp_path / "copy", file_name="ws.json")
    assert written == tmp_path / "copy" / ".runyard" / "ws.json"
    again = Workspace.from_config(written)
    assert (again.subscription_id, again.resource_group, again.location) == (
        "0000-sub",
        "rg-ml",
        "westeurope",
    )
    assert repr(ws) == (
        "Workspace.create(name='team', subscription_id='0000-sub', resource_group='rg-ml')"
    )


def test_identity_values_must_be_strings(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"resource_group": 5, "store": "sqlite:///x.db", "artifacts": "a"})
    )
    with pytest.raises(ValidationError, match="resource_group"):
        Workspace.from_config(tmp_path / "config.json")


def test_get_details_has_azures_keys(workspace: Workspace) -> None:
    details = workspace.get_details()
    assert details["name"] == workspace.name
    assert details["location"] == workspace.location
    assert details["type"] == "Microsoft.MachineLearningServices/workspaces"
    assert details["id"] == (
        f"/subscriptions/{workspace.subscription_id}/resourceGroups/"
        f"{workspace.resource_group}/providers/Microsoft.MachineLearningServices/"
        f"workspaces/{workspace.name}"
    )
    if workspace.is_remote:
        assert details["discoveryUrl"] == workspace.server_url == details["server"]
    else:
        assert details["store"] == workspace.store_url


def test_workspace_get_finds_the_named_workspace_where_the_config_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    Workspace("first", store_url=store, artifacts_url=str(tmp_path / "files")).write_config(
        tmp_path
    )
    monkeypatch.chdir(tmp_path)
    ws = Workspace.get("second", subscription_id="sub-1", resource_group="rg-1")
    assert (ws.name, ws.store_url, ws.subscription_id, ws.resource_group) == (
        "second",
        store,
        "sub-1",
        "rg-1",
    )
    with Experiment(ws, "in-second").start_logging() as run:
        run.log("x", 1)
    first = Workspace.get("first")
    assert "in-second" not in first.experiments
    assert list(Workspace.get("second").experiments) == ["in-second"]


def test_experiments_maps_names_to_experiments(workspace: Workspace) -> None:
    for name in ("alpha", "beta"):
        with Experiment(workspace, name).start_logging():
            pass
    experiments = workspace.experiments
    assert sorted(experiments) == ["alpha", "beta"]
    assert experiments["alpha"] == Experiment(workspace, "alpha")


def test_compute_targets_are_objects_with_name_and_type(tmp_path: Path) -> None:
    config = {
        "store": "sqlite:///x.db",
        "artifacts": "a",
        "compute_targets": {"cluster": {"type": "ray", "address": "http://127.0.0.1:8265"}},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    ws = Workspace.from_config(tmp_path / "config.json")
    target = ws.compute_targets["cluster"]
    assert isinstance(target, ComputeTarget)
    assert (target.name, target.type, target.address) == (
        "cluster",
        "ray",
        "http://127.0.0.1:8265",
    )
    assert target.provisioning_state == "Succeeded"
    ws.compute_targets["box"] = {"type": "local"}
    assert ws.compute_targets["box"].type == "local"
    assert ws.to_dict()["compute_targets"] == {
        "cluster": {"type": "ray", "address": "http://127.0.0.1:8265"},
        "box": {"type": "local"},
    }


def test_a_compute_target_must_be_an_object(tmp_path: Path) -> None:
    ws = Workspace("x", store_url=f"sqlite:///{tmp_path}/x.db", artifacts_url=str(tmp_path))
    with pytest.raises(ValidationError, match="compute target 'bad' must be an object"):
        ws.compute_targets["bad"] = "ray"  # type: ignore[assignment]

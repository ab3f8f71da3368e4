import json
from pathlib import Path

import pytest

from runyard import Experiment, ValidationError, Workspace


def test_no_config_means_a_local_workspace_in_dot_runyard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ws = Workspace.from_config()
    assert ws.store_url == f"sqlite:///{tmp_path / '.runyard' / 'runyard.db'}"
    with Experiment(ws, "local").start_logging() as run:
        run.log("x", 1)
    assert (tmp_path / ".runyard" / "runyard.db").is_file()


def test_config_is_found_in_a_parent_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".runyard").mkdir()
    (tmp_path / ".runyard" / "config.json").write_text(
        json.dumps(
            {"workspace_name": "team", "store": "sqlite:///db/runs.db", "artifacts": "files"}
        )
    )
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    ws = Workspace.from_config()
    assert ws.name == "team"
    # Relative paths in a config are relative to the config's folder.
    assert ws.store_url == f"sqlite:///{tmp_path / '.runyard' / 'db' / 'runs.db'}"
    assert ws.artifacts_url == str(tmp_path / ".runyard" / "files")


def test_azureml_folder_config_is_found_too(tmp_path: Path) -> None:
    (tmp_path / ".azureml").mkdir()
    (tmp_path / ".azureml" / "config.json").write_text(
        json.dumps({"store": f"sqlite:///{tmp_path}/x.db", "artifacts": str(tmp_path / "a")})
    )
    assert Workspace.from_config(tmp_path).store_url == f"sqlite:///{tmp_path}/x.db"


def test_config_without_a_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"workspace_name": "x"}))
    with pytest.raises(ValidationError, match="store"):
        Workspace.from_config(path)


def test_unsupported_store_url_is_a_clear_error(tmp_path: Path) -> None:
    from runyard.core.errors import StoreError

    ws = Workspace("x", store_url="mysql://localhost/x", artifacts_url=str(tmp_path))
    with pytest.raises(StoreError, match="SQLite or PostgreSQL"):
        Experiment(ws, "e").start_logging()


def test_write_config_round_trips(workspace: Workspace, tmp_path: Path) -> None:
    path = workspace.write_config(tmp_path / "project")
    again = Workspace.from_config(path)
    assert (again.store_url, again.artifacts_url) == (workspace.store_url, workspace.artifacts_url)


def test_config_holding_a_token_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    ws = Workspace("team-a", server_url="http://127.0.0.1:1", token="ryt_secret")
    existing = tmp_path / "project" / ".runyard" / "config.json"
    existing.parent.mkdir(parents=True)
    existing.write_text("{}")
    existing.chmod(0o644)

    path = ws.write_config(tmp_path / "project")

    assert path == existing
    assert path.stat().st_mode & 0o777 == 0o600
    assert Workspace.from_config(path).token == "ryt_secret"
    tokenless = Workspace("team-a", server_url="http://127.0.0.1:1").write_config(tmp_path / "b")
    assert "token" not in tokenless.read_text()

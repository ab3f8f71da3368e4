"""`runyard model list|show|download`: JSON output, JMESPath queries, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runyard import Experiment, Model, Run, Workspace
from runyard.cli.main import EXIT_ERROR, EXIT_NOT_FOUND, cli


@pytest.fixture
def config(workspace: Workspace, tmp_path: Path) -> str:
    """The workspace's config.json, for `-w`."""
    return str(workspace.write_config(tmp_path / "ws"))


@pytest.fixture
def registered(experiment: Experiment, tmp_path: Path) -> Run:
    """A run whose outputs/model.pkl is registered as clf:1 (tag stage=dev) and clf:2
    (stage=prod), and whose outputs folder is registered as bundle:1."""
    run = experiment.start_logging()
    (tmp_path / "model.pkl").write_bytes(b"weights")
    run.upload_file("outputs/model.pkl", str(tmp_path / "model.pkl"))
    run.register_model("clf", "outputs/model.pkl", tags={"stage": "dev"})
    run.register_model("clf", "outputs/model.pkl", tags={"stage": "prod"}, description="best")
    run.register_model("bundle", "outputs")
    run.complete()
    return run


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_model_list_prints_every_version_as_json(registered: Run, config: str) -> None:
    code, out, err = invoke("model", "list", "-w", config)

    assert code == 0, err
    listed = json.loads(out)
    assert [m["id"] for m in listed] == ["bundle:1", "clf:2", "clf:1"]
    assert listed[1]["runId"] == registered.id
    assert listed[1]["description"] == "best"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--name", "clf"], ["clf:2", "clf:1"]),
        (["--latest"], ["bundle:1", "clf:2"]),
        (["--tag", "stage=dev"], ["clf:1"]),
        (["--tag", "stage", "--name", "clf", "--latest"], ["clf:2"]),
        (["--property", "missing"], []),
    ],
)
def test_model_list_filters(
    registered: Run, config: str, args: list[str], expected: list[str]
) -> None:
    code, out, err = invoke("model", "list", "-w", config, *args, "--query", "[].id")

    assert code == 0, err
    assert json.loads(out) == expected


def test_model_list_by_run_and_query(registered: Run, config: str) -> None:
    query = "[?tags.stage=='prod'].{id: id, files: files}"
    code, out, err = invoke("model", "list", "-r", registered.id, "-w", config, "--query", query)

    assert code == 0, err
    assert json.loads(out) == [{"id": "clf:2", "files": ["model.pkl"]}]


def test_model_show_takes_name_or_name_and_version(registered: Run, config: str) -> None:
    code, out, _ = invoke("model", "show", "clf", "-w", config)
    assert code == 0 and json.loads(out)["version"] == 2

    code, out, _ = invoke("model", "show", "clf:1", "-w", config, "--query", "tags")
    assert code == 0 and json.loads(out) == {"stage": "dev"}

    code, out, _ = invoke("model", "show", "bundle", "-w", config, "-o", "table")
    assert code == 0 and "bundle:1" in out


def test_model_download_writes_the_files_and_prints_where(
    registered: Run, config: str, tmp_path: Path
) -> None:
    target = tmp_path / "downloaded"

    code, out, err = invoke("model", "download", "bundle:1", "-t", str(target), "-w", config)

    assert code == 0, err
    answer = json.loads(out)
    assert answer == {
        "id": "bundle:1",
        "path": str(target / "outputs"),
        "files": ["outputs/model.pkl"],
    }
    assert (target / "outputs" / "model.pkl").read_bytes() == b"weights"
    code, _, err = invoke("model", "download", "bundle:1", "-t", str(target), "-w", config)
    assert code == EXIT_ERROR and "exist_ok" in err
    code, _, err = invoke(
        "model", "download", "bundle", "-t", str(target), "--exist-ok", "-w", config
    )
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["show", "nope"], EXIT_NOT_FOUND, "error: no model named 'nope'"),
        (["show", "clf:7"], EXIT_NOT_FOUND, "version 7"),
        (["show", "clf:x"], EXIT_ERROR, "whole number from 1"),
        (["show", "bad name"], EXIT_ERROR, "invalid model name"),
        (["download", "nope", "-t", "."], EXIT_NOT_FOUND, "no model named 'nope'"),
        (["list", "--tag", "=x"], EXIT_ERROR, "--tag takes key=value"),
    ],
)
def test_model_errors_are_one_line_with_an_exit_code(
    registered: Run, config: str, args: list[str], code: int, message: str
) -> None:
    got, out, err = invoke("model", *args, "-w", config)

    assert got == code
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_model_list_of_an_empty_registry_is_an_empty_list(
    workspace: Workspace, config: str
) -> None:
    code, out, _ = invoke("model", "list", "-w", config)

    assert code == 0 and json.loads(out) == []
    assert Model.list(workspace) == []

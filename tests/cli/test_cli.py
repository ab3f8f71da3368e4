import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runyard import Experiment, Workspace
from runyard.cli.main import EXIT_NOT_FOUND, cli


@pytest.fixture
def config(workspace: Workspace, tmp_path: Path) -> str:
    return str(workspace.write_config(tmp_path))


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_run_list_query_on_tags_and_properties_from_the_seed(
    experiment: Experiment, config: str
) -> None:
    wanted = experiment.start_logging()
    wanted.add_properties({"author": "azureml-user"})
    wanted.tag("quality", "fantastic run")
    other = experiment.start_logging()
    other.tag("worth another look")
    query = "[?properties.author=='azureml-user' && tags.quality=='fantastic run'].runId"
    code, out, _ = _run("run", "list", "-e", experiment.name, "-w", config, "--query", query)
    assert code == 0 and json.loads(out) == [wanted.id]
    query = "[?tags.keys(@)[?starts_with(@, 'worth another look')]].runId"
    code, out, _ = _run(
        "run", "list", "--experiment-name", experiment.name, "-w", config, "--query", query
    )
    assert code == 0 and json.loads(out) == [other.id]


def test_run_update_adds_a_tag(experiment: Experiment, config: str) -> None:
    run = experiment.start_logging()
    code, out, _ = _run(
        "run", "update", "-r", run.id, "--add-tag", "quality=fantastic run", "-w", config
    )
    assert code == 0
    assert json.loads(out)["tags"] == {"quality": "fantastic run"}
    assert run.get_tags() == {"quality": "fantastic run"}


def test_run_show_of_an_unknown_run_is_one_line_and_exit_code_3(config: str) -> None:
    code, out, err = _run("run", "show", "-r", "no-such-run", "-w", config)
    assert code == EXIT_NOT_FOUND
    assert err.strip() == "error: no run with id 'no-such-run'"
    assert "Traceback" not in err + out


def test_run_cancel_marks_an_interactive_run_canceled(experiment: Experiment, config: str) -> None:
    run = experiment.start_logging()
    code, out, _ = _run("run", "cancel", "-r", run.id, "-w", config, "--query", "status")
    assert code == 0 and json.loads(out) == "Canceled"


def test_experiment_list_as_a_table_prints_hostile_names_verbatim(
    workspace: Workspace, config: str
) -> None:
    with Experiment(workspace, "exp-1").start_logging() as run:
        run.tag("[bold]x[/bold]", "<b>")
    code, out, _ = _run("experiment", "list", "-w", config, "-o", "table")
    assert code == 0 and "exp-1" in out
    code, out, _ = _run(
        "run",
        "list",
        "-e",
        "exp-1",
        "-w",
        config,
        "-o",
        "table",
        "--query",
        "[].{run: runId, tags: tags}",
    )
    assert code == 0 and "[bold]x[/bold]=<b>" in out


def test_bad_query_is_a_clear_error(config: str, experiment: Experiment) -> None:
    experiment.start_logging()
    code, _, err = _run("run", "list", "-e", experiment.name, "-w", config, "--query", "[?")
    assert code == 1 and "invalid --query" in err


def test_folder_attach_writes_a_config_that_from_config_finds(tmp_path: Path) -> None:
    code, out, _ = _run("folder", "attach", "-w", "mine", "--path", str(tmp_path))
    assert code == 0
    written = json.loads(out)["configPath"]
    assert Path(written) == tmp_path / ".runyard" / "config.json"
    ws = Workspace.from_config(tmp_path / "sub" / "folder")
    assert ws.name == "mine" and str(tmp_path) in ws.store_url


def test_version() -> None:
    code, out, _ = _run("--version")
    assert code == 0 and "runyard" in out

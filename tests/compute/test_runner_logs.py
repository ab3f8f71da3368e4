"""What a script prints reaches its run's logs faithfully, and log shipping never fails a run.

Real submitted scripts (a runner process each) on real SQLite and PostgreSQL stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from runyard import Experiment, ScriptRunConfig, Workspace
from runyard.core.log_lines import NUL_SYMBOL, original_line
from tests.compute.test_local_target import wait_for_runner_end, wait_for_status, write_script
from tests.conftest import runner_log, stop_runs

pytestmark = pytest.mark.slow

TERMINAL = {"Completed", "Failed", "Canceled"}
PRINTS_NUL = """
import sys

sys.stdout.write("before\\x00after\\n")
sys.stdout.write("plain line\\n")
"""


@pytest.fixture(autouse=True)
def _runs_stopped_after_the_test(experiment: Experiment) -> Iterator[None]:
    yield
    stop_runs(experiment)


@pytest.mark.parametrize(
    ("backend", "transport"),
    [("sqlite", "local"), ("postgres", "local"), ("postgres", "http")],
    indirect=True,
)
def test_script_printing_nul_completes_and_its_line_is_stored_the_same_everywhere(
    experiment: Experiment, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    write_script(source, "nul.py", PRINTS_NUL)

    run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="nul.py"))
    status = wait_for_status(run, TERMINAL, 90)
    wait_for_runner_end(run.id, 30)

    assert status == "Completed", (run.get_details()["error"], runner_log(run.id))
    store = experiment.workspace.transport.store
    live = [line.line for line in store.read_log_lines(run.id, "stdout")]
    assert live == [f"before{NUL_SYMBOL}after", "plain line"]
    assert original_line(live[0]) == "before\x00after"
    # The uploaded log file keeps the bytes exactly as printed.
    kept = run.get_details_with_logs()["logFiles"]["logs/stdout.txt"]
    assert kept == "before\x00after\nplain line\n"


def _refuse_log_lines(store_url: str) -> None:
    """A trigger that makes the database refuse every new log line (a real failure)."""
    engine = create_engine(store_url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_log_lines BEFORE INSERT ON run_log_lines "
                    "BEGIN SELECT RAISE(ABORT, 'log lines refused by the test'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_log_line() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'log lines refused by the test'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_log_lines BEFORE INSERT ON run_log_lines "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_log_line()"
                )
            )
    engine.dispose()


@pytest.mark.parametrize(
    ("backend", "transport"), [("sqlite", "local"), ("postgres", "local")], indirect=True
)
def test_log_lines_the_store_refuses_do_not_fail_the_run_and_are_reported(
    workspace: Workspace, experiment: Experiment, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    write_script(source, "train.py", "print('epoch 1')\nprint('epoch 2')\n")
    assert workspace.store_url is not None
    Experiment.list(workspace)  # the store exists (and is migrated) before the trigger
    _refuse_log_lines(workspace.store_url)

    run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="train.py"))
    status = wait_for_status(run, TERMINAL, 90)
    own_log = wait_for_runner_end(run.id, 30)

    assert status == "Completed", (run.get_details()["error"], own_log)
    assert "could not be stored live" in own_log
    assert "log lines refused by the test" in own_log
    logs = run.get_details_with_logs()["logFiles"]
    assert logs["logs/stdout.txt"] == "epoch 1\nepoch 2\n"
    assert "line(s) of stdout could not be stored live" in logs["logs/runyard.txt"]
    assert "logs/stdout.txt" in logs["logs/runyard.txt"]

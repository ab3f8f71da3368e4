import re

import pytest

from runyard import Experiment, InvalidStatusTransitionError, Run, Status
from runyard.sdk.offline import OfflineRun


def test_interactive_run_is_running_then_completed(experiment: Experiment) -> None:
    run = experiment.start_logging()
    assert run.get_status() == "Running"
    run.complete()
    assert run.get_status() == "Completed"
    details = run.get_details()
    assert details["startTimeUtc"] <= details["endTimeUtc"]


def test_interactive_run_id_is_a_uuid(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        pass
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", run.id)


def test_runs_are_numbered_within_their_experiment(experiment: Experiment) -> None:
    numbers = []
    for _ in range(3):
        with experiment.start_logging() as run:
            numbers.append(run.number)
    assert numbers == [1, 2, 3]


def test_with_block_marks_the_run_failed_with_the_error(experiment: Experiment) -> None:
    with pytest.raises(ZeroDivisionError), experiment.start_logging() as run:
        run.log("before", 1)
        _ = 1 / 0
    assert run.get_status() == "Failed"
    details = run.get_details()
    assert "ZeroDivisionError" in details["error"]["message"]
    assert run.get_metrics() == {"before": 1}


def test_completing_a_canceled_run_is_an_error(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.cancel()
    assert run.get_status() == "Canceled"
    with pytest.raises(InvalidStatusTransitionError, match="Canceled to Completed"):
        run.complete()
    assert run.get_status() == "Canceled"


def test_fail_records_code_and_message(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.fail(error_details="bad data", error_code="DataError")
    details = run.get_details()
    assert details["status"] == "Failed"
    assert details["error"] == {"code": "DataError", "message": "bad data"}


def test_fail_without_set_status_writes_the_points_and_leaves_the_status(
    experiment: Experiment,
) -> None:
    run = experiment.start_logging()
    run.log("loss", 0.5)
    run.fail(error_details="not yet", _set_status=False)
    assert run.get_status() == "Running"
    assert run.get_metrics() == {"loss": 0.5}
    run.fail(error_details="now")
    assert run.get_details()["error"]["message"] == "now"


def test_complete_inside_with_block_does_not_fail_on_exit(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        run.complete()
    assert run.get_status() == "Completed"


def test_get_details_has_the_azure_field_names(experiment: Experiment) -> None:
    with experiment.start_logging(display_name="first try") as run:
        run.tag("k", "v")
        run.add_properties({"p": "1"})
    details = run.get_details()
    for field in (
        "runId",
        "target",
        "status",
        "startTimeUtc",
        "endTimeUtc",
        "properties",
        "tags",
        "runDefinition",
        "logFiles",
        "submittedBy",
        "displayName",
    ):
        assert field in details
    assert details["runId"] == run.id
    assert details["displayName"] == "first try"
    assert details["tags"] == {"k": "v"} and details["properties"] == {"p": "1"}


def test_logs_folder_files_are_listed_and_read_with_get_details_with_logs(
    experiment: Experiment, tmp_path
) -> None:
    log_file = tmp_path / "driver.txt"
    log_file.write_text("epoch 1 done\n")
    with experiment.start_logging() as run:
        run.upload_file("logs/driver.txt", str(log_file))
    assert list(run.get_details()["logFiles"]) == ["logs/driver.txt"]
    assert run.get_details_with_logs()["logFiles"]["logs/driver.txt"] == "epoch 1 done\n"


def test_display_name_and_description_can_be_changed(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.display_name = "renamed"
    run.description = "what this run tried"
    again = Run(experiment, run.id)
    assert again.display_name == "renamed"
    assert again.description == "what this run tried"


def test_run_can_be_found_again_by_id(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        run.log("acc", 0.9)
    found = Run.get(experiment.workspace, run.id)
    assert found == run
    assert found.experiment.name == experiment.name
    assert found.get_metrics() == {"acc": 0.9}


def test_unknown_run_id_is_not_found(experiment: Experiment) -> None:
    from runyard import NotFoundError

    with pytest.raises(NotFoundError, match="nope"):
        Run(experiment, "nope")


def test_wait_for_completion_returns_details_of_an_ended_run(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        pass
    assert run.wait_for_completion(timeout_seconds=5)["status"] == "Completed"


def test_get_context_outside_a_submitted_script_is_an_offline_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RUNYARD_RUN_ID", raising=False)
    run = Run.get_context()
    assert isinstance(run, OfflineRun)
    run.log("loss", 0.25)
    assert "Attempted to log scalar metric loss:\n0.25" in capsys.readouterr().out
    assert run.get_metrics() == {"loss": 0.25}


def test_get_context_inside_a_submitted_script_finds_its_run(
    experiment: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    run = experiment.start_logging()
    monkeypatch.setenv("RUNYARD_RUN_ID", run.id)
    monkeypatch.setenv("RUNYARD_WORKSPACE_CONFIG", json.dumps(experiment.workspace.to_dict()))
    context = Run.get_context()
    assert isinstance(context, Run) and context.id == run.id
    context.log("from script", 3)
    assert run.get_metrics() == {"from script": 3}


def test_status_enum_values_are_the_azure_names() -> None:
    assert [s.value for s in Status][:3] == ["NotStarted", "Queued", "Preparing"]


def test_wait_for_completion_shows_the_log_lines(
    experiment: Experiment, capsys: pytest.CaptureFixture[str]
) -> None:
    run = experiment.start_logging()
    store = experiment.workspace.transport.store
    store.append_log_lines(run.id, "stdout", ["epoch 1", "epoch 2"])
    store.append_log_lines(run.id, "stderr", ["warning: slow"])
    run.complete()
    details = run.wait_for_completion(show_output=True, timeout_seconds=10)
    out = capsys.readouterr().out
    assert "epoch 1\nepoch 2\n" in out and "warning: slow" in out
    assert f"Run {run.id} ended: Completed" in out
    assert details["status"] == "Completed"


def test_wait_for_completion_raises_for_a_failed_run(experiment: Experiment) -> None:
    from runyard import RunyardError

    run = experiment.start_logging()
    run.fail(error_details="diverged")
    with pytest.raises(RunyardError, match="diverged"):
        run.wait_for_completion(timeout_seconds=5)
    assert run.wait_for_completion(raise_on_error=False)["status"] == "Failed"


def test_wait_for_completion_gives_up_at_its_timeout(experiment: Experiment) -> None:
    import time

    from runyard import RunyardError

    run = experiment.start_logging()
    started = time.monotonic()
    with pytest.raises(RunyardError, match="still Running after 1"):
        run.wait_for_completion(show_output=True, timeout_seconds=1)
    assert time.monotonic() - started < 5
    run.complete()

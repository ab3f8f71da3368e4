import pytest

from runyard import Experiment, NotFoundError, ValidationError, Workspace
from runyard.core.errors import ConflictError


def test_experiments_are_listed_with_run_counts(workspace: Workspace) -> None:
    for name, runs in (("a", 2), ("b", 1)):
        for _ in range(runs):
            Experiment(workspace, name).start_logging()
    infos = {e.name: e for e in workspace.transport.store.list_experiments()}
    assert (infos["a"].run_count, infos["a"].active_run_count) == (2, 2)
    assert infos["b"].run_count == 1
    assert [e.name for e in Experiment.list(workspace)] == ["a", "b"]
    assert set(workspace.experiments) == {"a", "b"}


def test_archived_experiment_is_hidden_until_reactivated(workspace: Workspace) -> None:
    exp = Experiment(workspace, "old")
    exp.start_logging().complete()
    exp.archive()
    assert Experiment.list(workspace) == []
    assert [e.name for e in Experiment.list(workspace, view_type="ArchivedOnly")] == ["old"]
    assert len(list(exp.get_runs())) == 1
    exp.reactivate()
    assert [e.name for e in Experiment.list(workspace)] == ["old"]


@pytest.mark.parametrize("name", ["", "has space", "-leading-dash", "a/b", "x" * 256, "ü"])
def test_invalid_experiment_names_are_refused(workspace: Workspace, name: str) -> None:
    with pytest.raises(ValidationError):
        Experiment(workspace, name)


def test_unknown_view_type_is_refused(workspace: Workspace) -> None:
    with pytest.raises(ValidationError, match="ActiveOnly"):
        Experiment.list(workspace, view_type="Everything")


def test_archiving_an_experiment_that_was_never_used_creates_then_archives_it(
    workspace: Workspace,
) -> None:
    Experiment(workspace, "fresh").archive()
    assert [e.name for e in Experiment.list(workspace, view_type="All")] == ["fresh"]


def test_get_experiment_of_unknown_name_is_not_found(workspace: Workspace) -> None:
    with pytest.raises(NotFoundError, match="ghost"):
        workspace.transport.store.get_experiment("ghost")


def test_unknown_status_filter_is_bad_input_not_a_conflict(workspace: Workspace) -> None:
    exp = Experiment(workspace, "filtered")
    exp.start_logging().complete()
    with pytest.raises(ValidationError, match="unknown run status 'Done'") as refused:
        list(exp.get_runs(status="Done"))
    assert refused.value.http_status == 400
    assert [r.get_status() for r in exp.get_runs(status="Completed")] == ["Completed"]


def test_the_store_renames_an_experiment_and_refuses_a_taken_name(workspace: Workspace) -> None:
    store = workspace.transport.store
    first = Experiment(workspace, "before")
    run = first.start_logging()
    first_id = first.id
    Experiment(workspace, "taken").start_logging().complete()
    with pytest.raises(ConflictError, match="taken"):
        store.rename_experiment("before", "taken")
    with pytest.raises(NotFoundError):
        store.rename_experiment("nothing-here", "whatever")
    store.rename_experiment("before", "after")
    after = Experiment(workspace, "after")
    assert after.id == first_id
    assert [r.id for r in after.get_runs()] == [run.id]

import pytest

from runyard import Experiment, ImmutablePropertyError, LimitExceededError, ValidationError


def test_tags_are_mutable_and_a_bare_tag_has_value_none(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.tag("quality", "great run")
    run.tag("quality", "fantastic run")
    run.tag("worth another look")
    assert run.get_tags() == {"quality": "fantastic run", "worth another look": None}


def test_set_and_remove_tags(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.set_tags({"a": "1", "b": "2", "c": "3"})
    run.remove_tags(["a", "c", "missing"])
    assert run.get_tags() == {"b": "2"}


def test_property_cannot_change_value(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.add_properties({"author": "azureml-user"})
    with pytest.raises(ImmutablePropertyError, match="author"):
        run.add_properties({"author": "different-user"})
    assert run.get_properties() == {"author": "azureml-user"}


def test_adding_the_same_property_value_again_is_allowed(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.add_properties({"author": "me"})
    run.add_properties({"author": "me", "team": "vision"})
    assert run.get_properties() == {"author": "me", "team": "vision"}


def test_a_refused_property_batch_adds_nothing(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.add_properties({"author": "me"})
    with pytest.raises(ImmutablePropertyError):
        run.add_properties({"new": "x", "author": "other"})
    assert run.get_properties() == {"author": "me"}


def test_fifty_tags_allowed_fifty_first_refused(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.set_tags({f"t{i}": "v" for i in range(50)})
    with pytest.raises(LimitExceededError, match="50"):
        run.tag("one-too-many", "v")
    assert len(run.get_tags()) == 50


def test_tag_key_and_value_lengths_are_limited(experiment: Experiment) -> None:
    run = experiment.start_logging()
    with pytest.raises(LimitExceededError, match="100"):
        run.tag("k" * 101, "v")
    with pytest.raises(LimitExceededError, match="1000"):
        run.tag("k", "v" * 1001)
    assert run.get_tags() == {}


def test_non_string_tag_values_are_refused_or_stringified(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.tag("epochs", 10)
    assert run.get_tags() == {"epochs": "10"}
    with pytest.raises(ValidationError, match="dict"):
        run.tag("bad", {"a": 1})  # type: ignore[arg-type]


def test_hostile_tag_text_is_stored_exactly_as_given(experiment: Experiment) -> None:
    run = experiment.start_logging()
    hostile = "<script>alert('x')</script> ' OR 1=1 --"
    run.tag(hostile, hostile)
    assert run.get_tags() == {hostile: hostile}


def test_get_runs_filters_by_properties_and_tags(experiment: Experiment) -> None:
    a = experiment.start_logging()
    a.add_properties({"author": "azureml-user"})
    a.tag("quality", "fantastic run")
    b = experiment.start_logging()
    b.add_properties({"author": "azureml-user"})
    b.tag("worth another look")
    c = experiment.start_logging()
    c.tag("quality", "fantastic run")
    found = list(
        experiment.get_runs(
            properties={"author": "azureml-user"}, tags={"quality": "fantastic run"}
        )
    )
    assert [r.id for r in found] == [a.id]
    found = list(
        experiment.get_runs(properties={"author": "azureml-user"}, tags="worth another look")
    )
    assert [r.id for r in found] == [b.id]
    assert [r.id for r in experiment.get_runs()] == [c.id, b.id, a.id]


def test_get_runs_pages_through_many_runs_newest_first(experiment: Experiment) -> None:
    from runyard.core.entities import NewRun

    store = experiment.workspace.transport.store
    store.create_runs(
        [NewRun(run_id=f"bulk-{i:04d}", experiment_name=experiment.name) for i in range(250)]
    )
    ids = [r.id for r in experiment.get_runs()]
    assert ids == [f"bulk-{i:04d}" for i in reversed(range(250))]


def test_get_runs_filters_by_status(experiment: Experiment) -> None:
    done = experiment.start_logging()
    done.complete()
    running = experiment.start_logging()
    assert [r.id for r in experiment.get_runs(status="Running")] == [running.id]
    assert [r.id for r in experiment.get_runs(status="Completed")] == [done.id]

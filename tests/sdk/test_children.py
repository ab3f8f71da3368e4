import pytest

from runyard import Experiment, LimitExceededError


def test_child_run_completes_on_exit_and_knows_its_parent(experiment: Experiment) -> None:
    with experiment.start_logging() as parent:
        for c in range(5):
            with parent.child_run() as child:
                child.log(name="Hello from child run", value=c)
    children = list(parent.get_children())
    assert len(children) == 5
    assert {c.get_status() for c in children} == {"Completed"}
    assert all(c.parent is not None and c.parent.id == parent.id for c in children)
    assert sorted(c.get_metrics()["Hello from child run"] for c in children) == [0, 1, 2, 3, 4]


def test_children_are_not_listed_as_top_level_runs(experiment: Experiment) -> None:
    with experiment.start_logging() as parent, parent.child_run():
        pass
    assert [r.id for r in experiment.get_runs()] == [parent.id]
    assert len(list(experiment.get_runs(include_children=True))) == 2


def test_create_children_makes_tagged_children_in_one_call(experiment: Experiment) -> None:
    parent = experiment.start_logging()
    children = parent.create_children(tag_key="lr", tag_values=["0.1", "0.01", "0.001"])
    assert [c.get_tags() for c in children] == [{"lr": "0.1"}, {"lr": "0.01"}, {"lr": "0.001"}]
    found = list(parent.get_children(tags={"lr": "0.01"}))
    assert [c.id for c in found] == [children[1].id]


def test_create_children_is_limited_to_a_hundred_per_call(experiment: Experiment) -> None:
    parent = experiment.start_logging()
    assert len(parent.create_children(count=100)) == 100
    with pytest.raises(LimitExceededError, match="100"):
        parent.create_children(count=101)
    assert len(list(parent.get_children())) == 100


def test_recursive_children_and_metrics(experiment: Experiment) -> None:
    with experiment.start_logging() as root:
        root.log("level", 0)
        with root.child_run() as child:
            child.log("level", 1)
            with child.child_run() as grandchild:
                grandchild.log("level", 2)
    assert [c.id for c in root.get_children()] == [child.id]
    assert {c.id for c in root.get_children(recursive=True)} == {child.id, grandchild.id}
    assert root.get_metrics(recursive=True) == {
        root.id: {"level": 0},
        child.id: {"level": 1},
        grandchild.id: {"level": 2},
    }


def test_get_children_filters_by_status_and_properties(experiment: Experiment) -> None:
    parent = experiment.start_logging()
    a, b = parent.create_children(count=2)
    a.add_properties({"arm": "A"})
    a.complete()
    assert [c.id for c in parent.get_children(status="Completed")] == [a.id]
    assert [c.id for c in parent.get_children(status="Running")] == [b.id]
    assert [c.id for c in parent.get_children(properties={"arm": "A"})] == [a.id]


def test_child_with_a_given_id(experiment: Experiment) -> None:
    parent = experiment.start_logging()
    child = parent.child_run(name="trial", run_id="trial-1")
    assert child.id == "trial-1"
    assert child.display_name == "trial"

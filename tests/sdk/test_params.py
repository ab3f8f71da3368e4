"""Params: MLflow-style write-once key/values, their own section beside properties."""

import pytest

from runyard import Experiment, ImmutablePropertyError, LimitExceededError, Run, ValidationError


def test_params_are_logged_read_back_and_kept_apart_from_properties(
    experiment: Experiment,
) -> None:
    run = experiment.start_logging()
    run.log_param("lr", 0.01)
    run.log_params({"optimizer": "adam", "epochs": 3, "nesterov": True})
    run.add_properties({"author": "me"})
    assert run.get_params() == {
        "lr": "0.01",
        "optimizer": "adam",
        "epochs": "3",
        "nesterov": "True",
    }
    assert run.get_properties() == {"author": "me"}
    details = run.get_details()
    assert details["params"] == run.get_params()
    assert "lr" not in details["properties"]


def test_a_param_cannot_change_value_and_a_refused_batch_adds_nothing(
    experiment: Experiment,
) -> None:
    run = experiment.start_logging()
    run.log_param("lr", "0.01")
    run.log_param("lr", "0.01")  # the same value again is fine, as in MLflow
    with pytest.raises(ImmutablePropertyError, match="lr"):
        run.log_params({"batch": "32", "lr": "0.1"})
    assert run.get_params() == {"lr": "0.01"}


def test_param_keys_and_values_follow_mlflows_limits(experiment: Experiment) -> None:
    run = experiment.start_logging()
    long_key = "k" * 250
    run.log_params({long_key: "v" * 6000})
    with pytest.raises(LimitExceededError, match="250"):
        run.log_param("k" * 251, "v")
    with pytest.raises(LimitExceededError, match="6000"):
        run.log_param("big", "v" * 6001)
    with pytest.raises(ValidationError, match="None"):
        run.log_param("none", None)
    with pytest.raises(ValidationError, match="empty"):
        run.log_param(" ", "v")
    assert run.get_params() == {long_key: "v" * 6000}


def test_params_are_seen_by_a_second_handle_on_the_run(experiment: Experiment) -> None:
    run = experiment.start_logging()
    run.log_params({"seed": 7})
    again = Run(experiment, run.id)
    assert again.get_params() == {"seed": "7"}

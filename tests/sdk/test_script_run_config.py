"""ScriptRunConfig always holds a run_config, as Azure's constructor builds it.

Reference: azureml.core.ScriptRunConfig (v1): without run_config it creates a
RunConfiguration holding compute_target, environment and max_run_duration_seconds; with
one, those arguments are ignored with a warning; `src.run_config.…` set before submit is
what runs.
"""

from __future__ import annotations

import warnings

import pytest

from runyard import ComputeTarget, Environment, RunConfiguration, ScriptRunConfig


def test_a_run_config_is_always_there_with_azures_defaults() -> None:
    src = ScriptRunConfig(source_directory=".", script="train.py")
    assert isinstance(src.run_config, RunConfiguration)
    assert src.run_config.target == "local"
    assert src.run_config.max_run_duration_seconds == 2_592_000
    assert isinstance(src.run_config.environment, Environment)


def test_compute_target_environment_and_duration_go_into_the_run_config() -> None:
    env = Environment("custom", environment_variables={"A": "1"})
    src = ScriptRunConfig(
        source_directory=".",
        script="train.py",
        compute_target=ComputeTarget("cluster", {"type": "ray", "address": "http://x"}),
        environment=env,
        max_run_duration_seconds=60,
    )
    assert src.run_config.target == "cluster"
    assert src.run_config.environment is env
    assert src.run_config.max_run_duration_seconds == 60


def test_a_passed_run_config_wins_and_the_ignored_arguments_are_warned_about() -> None:
    config = RunConfiguration(target="local")
    with pytest.warns(UserWarning, match="ignored: compute_target, environment"):
        src = ScriptRunConfig(
            source_directory=".",
            script="train.py",
            run_config=config,
            compute_target="cluster",
            environment=Environment("ignored"),
        )
    assert src.run_config is config
    assert src.run_config.target == "local"
    assert src.run_config.environment.name == "runyard-default"


def test_no_warning_when_only_a_run_config_is_given() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ScriptRunConfig(source_directory=".", script="x.py", run_config=RunConfiguration())


def test_settings_made_on_run_config_after_construction_are_resolved(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "train.py").write_text("print('hi')\n")
    src = ScriptRunConfig(source_directory=str(folder), script="train.py", compute_target="x")
    src.run_config.target = ComputeTarget("local", {"type": "local"})  # type: ignore[assignment]
    src.run_config.environment = Environment("later", environment_variables={"B": "2"})
    script, config, arguments = src.resolved()
    assert (script, config.target, arguments) == ("train.py", "local", [])
    assert config.environment.environment_variables == {"B": "2"}

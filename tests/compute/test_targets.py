"""The registry of compute targets: names resolve through their kind's module, and every
registered kind can be loaded and started the same way (no per-kind checks in the runner)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from runyard.compute import targets
from runyard.compute.local import LocalProcess
from runyard.compute.targets import KINDS, Launch, Target, resolve_target, target_kind
from runyard.core.errors import ValidationError
from tests.conftest import poll_until


@pytest.mark.parametrize("kind", KINDS)
def test_every_registered_kind_loads_with_resolve_and_start(kind: str) -> None:
    found = target_kind(kind)
    assert callable(found.resolve) and callable(found.start)


def test_a_configured_name_resolves_through_its_kind() -> None:
    configured = {"gpu": {"type": "ray", "address": "http://head:8265"}, "box": {"type": "local"}}
    assert resolve_target("gpu", configured) == Target("gpu", "ray", "http://head:8265")
    assert resolve_target("box", configured) == Target("box", "local")
    assert resolve_target("local", {}) == Target("local", "local")


def test_the_ray_target_takes_its_address_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RUNYARD_RAY_ADDRESS", raising=False)
    with pytest.raises(ValidationError, match="RUNYARD_RAY_ADDRESS"):
        resolve_target("ray", {})
    monkeypatch.setenv("RUNYARD_RAY_ADDRESS", "http://127.0.0.1:8265")
    assert resolve_target("ray", {}) == Target("ray", "ray", "http://127.0.0.1:8265")


@pytest.mark.parametrize(
    ("name", "configured", "message"),
    [
        ("gpu", {"gpu": {"type": "slurm"}}, "has type 'slurm'; allowed: local, ray"),
        ("gpu", {"gpu": {"type": "ray"}}, "needs an 'address'"),
        ("elsewhere", {"gpu": {"type": "ray", "address": "x"}}, "known targets: gpu, local, ray"),
    ],
)
def test_bad_targets_are_refused_saying_what_is_allowed(
    name: str, configured: dict[str, dict[str, str]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        resolve_target(name, configured)


def test_an_unknown_kind_in_a_run_definition_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown compute target type 'slurm'"):
        target_kind("slurm")


def test_a_kind_added_to_the_registry_is_used_without_touching_the_runner(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One module with a KIND and one registry line: here the registry points a new kind at
    the local module, and the runner's way of starting (target_kind(...).start) runs it."""
    monkeypatch.setitem(targets._KIND_MODULES, "workstation", "runyard.compute.local")
    assert resolve_target("workstation", {}).kind == "local"  # the module's own resolve
    (tmp_path / "hello.py").write_text("import os; print('hello', os.environ['RUN_VAR'])\n")
    execution = target_kind("workstation").start(
        Launch(
            run_id="r1",
            script="hello.py",
            arguments=[],
            workdir=tmp_path,
            environment={"python": {"interpreter_path": sys.executable}},
            run_env={"RUN_VAR": "given"},
        )
    )
    assert isinstance(execution, LocalProcess) and not execution.uploads_outputs
    poll_until(lambda: execution.poll() is not None, 30, "the script to end")
    assert execution.poll() == 0
    assert list(execution.lines()) == [("stdout", "hello given")]
    assert execution.error_text() == ""

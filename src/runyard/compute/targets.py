"""Compute targets: one registry from a target kind to the module that runs scripts there.

A target is named in the run configuration (`run_config.target`). A name configured in
the workspace config's "compute_targets" (`{"type": KIND, "address": …}`) is resolved by
its kind; a name that is itself a kind ("local", "ray") needs no configuration beyond
what that kind reads itself (RUNYARD_RAY_ADDRESS for "ray").

Adding a target: one module with a module-level `KIND` (a `TargetKind`) and one line in
`_KIND_MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from runyard.core.errors import ValidationError

#: Target kind -> the module holding its `KIND`. Modules load only when their kind is used.
_KIND_MODULES: dict[str, str] = {
    "local": "runyard.compute.local",
    "ray": "runyard.compute.ray",
}
KINDS = tuple(_KIND_MODULES)


@dataclass(frozen=True)
class Target:
    """A resolved compute target."""

    name: str
    kind: str
    address: str | None = None


@dataclass(frozen=True)
class Launch:
    """Everything a target needs to start a submitted script."""

    run_id: str
    script: str
    arguments: list[str]
    #: The folder the snapshot was unpacked into.
    workdir: Path
    #: The run definition's environment (`Environment.to_dict()`).
    environment: dict[str, Any]
    #: The variables the run needs (run id, workspace, the user's); a target adds them to
    #: whatever its processes inherit.
    run_env: dict[str, str]
    address: str | None = None
    pip_packages: list[str] = field(default_factory=list)

    def interpreter(self, default: str) -> str:
        """The environment's Python, else `default`."""
        python = self.environment.get("python", {}) or {}
        return str(python.get("interpreter_path") or default)


class Execution(Protocol):
    """A script started on some target: its output, its end, and a way to stop it."""

    #: Whether the script's side uploads ./outputs itself (else the runner does).
    uploads_outputs: bool

    def lines(self) -> Iterator[tuple[str, str]]:
        """(stream, line) pairs printed since the last call."""
        ...

    def poll(self) -> int | None:
        """The exit code once the script ended, else None."""
        ...

    def stop(self, grace: float) -> None:
        """Stop the script, forcibly after `grace` seconds."""
        ...

    def error_text(self) -> str:
        """The target's own explanation of a failure ("" when it has none)."""
        ...


class TargetKind(Protocol):
    """A kind of compute target: how a named target of it is checked, and how it runs."""

    def resolve(self, name: str, configured: Mapping[str, Any] | None) -> Target:
        """The target `name` of this kind (`configured`: its config entry, if any)."""
        ...

    def start(self, launch: Launch) -> Execution:
        """Start the script; returns at once."""
        ...


def target_kind(kind: str) -> TargetKind:
    """The registered kind `kind`."""
    module = _KIND_MODULES.get(kind)
    if module is None:
        raise ValidationError(f"unknown compute target type {kind!r}; allowed: {', '.join(KINDS)}")
    found: TargetKind = importlib.import_module(module).KIND
    return found


def resolve_target(name: str, compute_targets: Mapping[str, Mapping[str, Any]]) -> Target:
    """The target a run configuration names, with what is needed to reach it."""
    configured = compute_targets.get(name)
    if configured is not None:
        kind = str(configured.get("type", "local"))
        if kind not in _KIND_MODULES:
            raise ValidationError(
                f"compute target {name!r} has type {kind!r}; allowed: {', '.join(KINDS)}"
            )
        return target_kind(kind).resolve(name, configured)
    if name in _KIND_MODULES:
        return target_kind(name).resolve(name, None)
    known = ", ".join(sorted({*KINDS, *compute_targets}))
    raise ValidationError(f"unknown compute target {name!r}; known targets: {known}")

"""Compute targets: `local` (a process on this machine) and `ray` (a job on a Ray cluster).

A target is named in the run configuration (`run_config.target`); a Ray target's cluster
address comes from the workspace config's "compute_targets", or RUNYARD_RAY_ADDRESS for
the target named "ray".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runyard.core.errors import ValidationError

if TYPE_CHECKING:
    from runyard.sdk.workspace import Workspace

KINDS = ("local", "ray")


@dataclass(frozen=True)
class Target:
    """A resolved compute target."""

    name: str
    kind: str
    address: str | None = None


def resolve_target(name: str, workspace: Workspace) -> Target:
    """The target a run configuration names, with what is needed to reach it."""
    configured = workspace.compute_targets.get(name)
    if configured is not None:
        kind = str(configured.get("type", "local"))
        if kind not in KINDS:
            raise ValidationError(
                f"compute target {name!r} has type {kind!r}; allowed: {', '.join(KINDS)}"
            )
        address = configured.get("address")
        if kind == "ray" and not address:
            raise ValidationError(
                f"compute target {name!r} needs an 'address' (the Ray dashboard URL)"
            )
        return Target(name, kind, str(address) if address else None)
    if name == "local":
        return Target("local", "local")
    if name == "ray":
        address = os.environ.get("RUNYARD_RAY_ADDRESS")
        if not address:
            raise ValidationError(
                "the 'ray' target needs a cluster address: set RUNYARD_RAY_ADDRESS (e.g. "
                "http://127.0.0.1:8265) or add it to config.json under compute_targets"
            )
        return Target("ray", "ray", address)
    known = ", ".join(sorted({"local", "ray", *workspace.compute_targets}))
    raise ValidationError(f"unknown compute target {name!r}; known targets: {known}")

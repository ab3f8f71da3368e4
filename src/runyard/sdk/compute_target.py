"""Named compute targets of a workspace: `ws.compute_targets["cluster"]`, as Azure lists them.

A target is what config.json holds under "compute_targets" (`{"type": "ray", "address":
…}`); the object reads like Azure's ComputeTarget (`name`, `type`, `provisioning_state`) and
like the mapping it was configured from, so code that reads the configuration keeps working.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from runyard.core.errors import ValidationError


class ComputeTarget(Mapping[str, Any]):
    """One configured target: its name, its kind (`local` or `ray`) and where it is."""

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        if not isinstance(config, Mapping):
            raise ValidationError(
                f"compute target {name!r} must be an object such as "
                f'{{"type": "ray", "address": "http://…"}}, got {type(config).__name__}'
            )
        self.name = name
        self._config = dict(config)

    @property
    def type(self) -> str:
        """The target's kind, as in config.json ("local" when not given)."""
        return str(self._config.get("type", "local"))

    @property
    def address(self) -> str | None:
        """Where the target is reached (a Ray dashboard URL), if anywhere."""
        address = self._config.get("address")
        return None if address is None else str(address)

    @property
    def provisioning_state(self) -> str:
        """Azure reports "Succeeded" for a usable target; a configured target is one."""
        return "Succeeded"

    def serialize(self) -> dict[str, Any]:
        """The config.json form of the target."""
        return dict(self._config)

    def __getitem__(self, key: str) -> Any:
        return self._config[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._config)

    def __len__(self) -> int:
        return len(self._config)

    def __repr__(self) -> str:
        return f"ComputeTarget(name={self.name!r}, type={self.type!r}, address={self.address!r})"


class ComputeTargets(dict[str, ComputeTarget]):
    """A workspace's targets by name; assigning a config mapping adds a target."""

    def __init__(self, configs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        super().__init__()
        for name, config in (configs or {}).items():
            self[name] = config

    def __setitem__(self, name: str, config: Mapping[str, Any]) -> None:
        target = config if isinstance(config, ComputeTarget) else ComputeTarget(name, config)
        super().__setitem__(name, target)

    def serialize(self) -> dict[str, dict[str, Any]]:
        """The config.json form: name -> configuration."""
        return {name: target.serialize() for name, target in self.items()}

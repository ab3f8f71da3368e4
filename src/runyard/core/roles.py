"""Roles of API tokens, and what a presented token grants: shared by the store and server."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a token may do: read; also write runs; also manage the workspace."""

    READER = "reader"
    CONTRIBUTOR = "contributor"
    OWNER = "owner"

    def allows(self, needed: Role) -> bool:
        """Whether this role includes the `needed` one."""
        order = [Role.READER, Role.CONTRIBUTOR, Role.OWNER]
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True, slots=True)
class Grant:
    """What a presented token grants."""

    workspace: str
    role: Role
    name: str

"""API tokens: who may reach which workspace, with which role. Only hashes are stored."""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import func, select, update

from runyard.core.errors import NotFoundError, ValidationError
from runyard.core.roles import Grant, Role
from runyard.store.database import Database
from runyard.store.schema import api_tokens, workspaces

TOKEN_PREFIX = "ryt_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Creates, checks and revokes API tokens of a database's workspaces."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, workspace: str, role: str, name: str = "") -> str:
        """A new token for the workspace; the only time its text is known."""
        try:
            checked = Role(role)
        except ValueError:
            raise ValidationError(
                f"unknown role {role!r}; allowed: {', '.join(r.value for r in Role)}"
            ) from None
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        workspace_id = self.db.workspace_id(workspace)  # its own transaction, before ours
        with self.db.write() as conn:
            conn.execute(
                api_tokens.insert().values(
                    workspace_id=workspace_id,
                    name=name or f"{checked.value} token",
                    role=checked.value,
                    token_hash=_hash(token),
                    created_time=time.time(),
                    revoked=False,
                )
            )
        return token

    def check(self, token: str) -> Grant | None:
        """The grant of a valid, unrevoked token; None otherwise."""
        with self.db.read() as conn:
            row = conn.execute(
                select(workspaces.c.name, api_tokens.c.role, api_tokens.c.name)
                .join(workspaces, workspaces.c.id == api_tokens.c.workspace_id)
                .where(api_tokens.c.token_hash == _hash(token), api_tokens.c.revoked.is_(False))
            ).first()
        return None if row is None else Grant(row[0], Role(row[1]), row[2])

    def any_active(self) -> bool:
        """Whether any unrevoked token exists (then the server requires tokens)."""
        with self.db.read() as conn:
            count = conn.execute(
                select(func.count()).select_from(api_tokens).where(api_tokens.c.revoked.is_(False))
            ).scalar_one()
        return bool(count)

    def revoke(self, token: str) -> None:
        """Revoke a token by its text."""
        with self.db.write() as conn:
            result = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.token_hash == _hash(token))
                .values(revoked=True)
            )
            if result.rowcount == 0:
                raise NotFoundError("no such token")

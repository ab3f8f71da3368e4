"""The model as a whole in the SQL store: what MLflow's registered model holds beside the
versions (description, tags, aliases), renaming, deleting, and version stages.

runyard's own API speaks of versions; these are the registry's other half, which the
MLflow routes use (mlflow/mapping.py says how the two views meet). A rename keeps the
versions' files where they are: each version remembers the name its prefix was made with.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import EllipsisType
from typing import Any

from sqlalchemy import Connection, delete, select, update

from runyard.core.errors import ConflictError, LimitExceededError, ModelNotFoundError
from runyard.core.registry import ModelVersion, RegisteredModel, validate_model_name
from runyard.store.documents import to_datetime
from runyard.store.schema import (
    model_aliases,
    model_tags,
    model_version_properties,
    model_version_tags,
    model_versions,
    models,
)
from runyard.store.sql_models import ModelVersions

#: MLflow's stage a version leaves for when another takes its place.
ARCHIVED_STAGE = "Archived"


class RegisteredModels(ModelVersions):
    """Mixin of SqlTrackingStore: models as a whole, confined to the workspace."""

    def create_registered_model(
        self, name: str, description: str | None = None, tags: dict[str, str | None] | None = None
    ) -> RegisteredModel:
        """A model with no versions yet (ConflictError if the name is taken)."""
        validate_model_name(name)
        now = time.time()
        with self.db.write() as conn:
            pk = conn.execute(
                self.db.insert(models)
                .values(
                    workspace_id=self.workspace_id,
                    name=name,
                    created_time=now,
                    next_version=1,
                    description=description,
                    last_updated_time=now,
                )
                .on_conflict_do_nothing()
                .returning(models.c.id)
            ).scalar()
            if pk is None:
                raise ConflictError(f"Registered Model (name={name}) already exists.")
            if tags:
                self._check_tag_count(name, len(tags))
                conn.execute(
                    model_tags.insert(),
                    [{"model_id": pk, "key": k, "value": v} for k, v in tags.items()],
                )
            return self._registered(conn, self._model_row(conn, name))

    def get_registered_model(self, name: str) -> RegisteredModel:
        """A model by name (ModelNotFoundError if there is none)."""
        with self.db.read() as conn:
            return self._registered(conn, self._model_row(conn, name))

    def list_registered_models(self) -> list[RegisteredModel]:
        """Every model of the workspace, by name, with or without versions."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(models)
                .where(models.c.workspace_id == self.workspace_id)
                .order_by(models.c.name)
            ).all()
            return [self._registered(conn, row) for row in rows]

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set (or clear, with None) a model's description."""
        with self.db.write() as conn:
            row = self._model_row(conn, name)
            conn.execute(
                update(models)
                .where(models.c.id == row.id)
                .values(description=description, last_updated_time=time.time())
            )
            return self._registered(conn, self._model_row(conn, name))

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Give a model and its versions another name; their files stay where they are."""
        validate_model_name(new_name)
        now = time.time()
        with self.db.write() as conn:
            row = self._model_row(conn, name, lock=True)
            taken = conn.execute(
                select(models.c.id).where(
                    models.c.workspace_id == self.workspace_id, models.c.name == new_name
                )
            ).scalar()
            if taken is not None:
                raise ConflictError(f"Registered Model (name={new_name}) already exists.")
            conn.execute(
                update(model_versions)
                .where(model_versions.c.model_id == row.id, model_versions.c.files_name.is_(None))
                .values(files_name=name)
            )
            conn.execute(
                update(model_versions)
                .where(model_versions.c.model_id == row.id)
                .values(last_updated_time=now)
            )
            conn.execute(
                update(models)
                .where(models.c.id == row.id)
                .values(name=new_name, last_updated_time=now)
            )
            return self._registered(conn, self._model_row(conn, new_name))

    def delete_registered_model(self, name: str) -> list[ModelVersion]:
        """Delete a model, its versions, tags and aliases; returns the versions deleted."""
        with self.db.write() as conn:
            row = self._model_row(conn, name, lock=True)
            versions = self._load(
                conn, self._versions_query().where(model_versions.c.model_id == row.id)
            )
            pks = list(
                conn.execute(
                    select(model_versions.c.id).where(model_versions.c.model_id == row.id)
                ).scalars()
            )
            conn.execute(delete(model_aliases).where(model_aliases.c.model_id == row.id))
            conn.execute(delete(model_tags).where(model_tags.c.model_id == row.id))
            self._delete_versions(conn, pks)
            conn.execute(delete(models).where(models.c.id == row.id))
            return versions

    def set_registered_model_tags(self, name: str, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags of the model as a whole."""
        with self.db.write() as conn:
            row = self._model_row(conn, name)
            if not tags:
                return
            existing = set(
                conn.execute(select(model_tags.c.key).where(model_tags.c.model_id == row.id))
                .scalars()
                .all()
            )
            self._check_tag_count(name, len(existing | set(tags)))
            stmt = self.db.insert(model_tags).values(
                [{"model_id": row.id, "key": k, "value": v} for k, v in tags.items()]
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["model_id", "key"], set_={"value": stmt.excluded.value}
                )
            )

    def remove_registered_model_tags(self, name: str, keys: Iterable[str]) -> None:
        """Delete tags of the model as a whole; unknown keys are ignored."""
        keys = list(keys)
        with self.db.write() as conn:
            row = self._model_row(conn, name)
            conn.execute(
                delete(model_tags).where(
                    model_tags.c.model_id == row.id, model_tags.c.key.in_(keys)
                )
            )

    def set_model_alias(self, name: str, alias: str, version: int) -> None:
        """Point an alias at a version of its model, moving it if it named another."""
        with self.db.write() as conn:
            pk = self._version_pk(conn, name, version)
            row = self._model_row(conn, name)
            stmt = self.db.insert(model_aliases).values(model_id=row.id, alias=alias, version_id=pk)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["model_id", "alias"],
                    set_={"version_id": stmt.excluded.version_id},
                )
            )

    def remove_model_alias(self, name: str, alias: str) -> None:
        """Delete an alias; an unknown alias is ignored (the model must exist)."""
        with self.db.write() as conn:
            row = self._model_row(conn, name)
            conn.execute(
                delete(model_aliases).where(
                    model_aliases.c.model_id == row.id, model_aliases.c.alias == alias
                )
            )

    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        description: str | EllipsisType | None = ...,
        stage: str | None = None,
        archive_others: bool = False,
    ) -> ModelVersion:
        """Change a version's description and/or stage (one transaction with the archiving
        of the other versions in that stage, when asked)."""
        now = time.time()
        with self.db.write() as conn:
            pk = self._version_pk(conn, name, version, lock=True)
            values: dict[str, Any] = {"last_updated_time": now}
            if not isinstance(description, EllipsisType):
                values["description"] = description
            if stage is not None:
                values["stage"] = stage
                if archive_others:
                    model_pk = conn.execute(
                        select(model_versions.c.model_id).where(model_versions.c.id == pk)
                    ).scalar_one()
                    conn.execute(
                        update(model_versions)
                        .where(
                            model_versions.c.model_id == model_pk,
                            model_versions.c.id != pk,
                            model_versions.c.stage == stage,
                        )
                        .values(stage=ARCHIVED_STAGE, last_updated_time=now)
                    )
            conn.execute(update(model_versions).where(model_versions.c.id == pk).values(**values))
            if stage is not None:
                conn.execute(
                    update(models)
                    .where(models.c.workspace_id == self.workspace_id, models.c.name == name)
                    .values(last_updated_time=now)
                )
            return self._load(conn, self._versions_query().where(model_versions.c.id == pk))[0]

    def delete_model_version(self, name: str, version: int) -> ModelVersion:
        """Delete a version, its tags, properties and aliases; returns what it was."""
        with self.db.write() as conn:
            pk = self._version_pk(conn, name, version, lock=True)
            found = self._load(conn, self._versions_query().where(model_versions.c.id == pk))[0]
            self._delete_versions(conn, [pk])
            conn.execute(
                update(models)
                .where(models.c.workspace_id == self.workspace_id, models.c.name == name)
                .values(last_updated_time=time.time())
            )
            return found

    # Plumbing
    def _model_row(self, conn: Connection, name: str, *, lock: bool = False) -> Any:
        validate_model_name(name)
        query = select(models).where(
            models.c.workspace_id == self.workspace_id, models.c.name == name
        )
        if lock and self.db.is_pg:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise ModelNotFoundError(f"Registered Model with name={name} not found")
        return row

    def _registered(self, conn: Connection, row: Any) -> RegisteredModel:
        tags = {
            key: value
            for key, value in conn.execute(
                select(model_tags.c.key, model_tags.c.value)
                .where(model_tags.c.model_id == row.id)
                .order_by(model_tags.c.key)
            )
        }
        aliases = {
            alias: number
            for alias, number in conn.execute(
                select(model_aliases.c.alias, model_versions.c.version)
                .join(model_versions, model_versions.c.id == model_aliases.c.version_id)
                .where(model_aliases.c.model_id == row.id)
                .order_by(model_aliases.c.alias)
            )
        }
        created = to_datetime(row.created_time)
        assert created is not None
        return RegisteredModel(
            name=row.name,
            created_time=created,
            last_updated_time=to_datetime(row.last_updated_time) or created,
            description=row.description,
            tags=tags,
            aliases=aliases,
        )

    def _delete_versions(self, conn: Connection, pks: list[int]) -> None:
        if not pks:
            return
        conn.execute(delete(model_aliases).where(model_aliases.c.version_id.in_(pks)))
        for table in (model_version_tags, model_version_properties):
            conn.execute(delete(table).where(table.c.version_id.in_(pks)))
        conn.execute(delete(model_versions).where(model_versions.c.id.in_(pks)))

    def _check_tag_count(self, name: str, total: int) -> None:
        if total > self.limits.max_tags:
            raise LimitExceededError(
                f"model {name!r} would have {total} tags; the limit is {self.limits.max_tags}"
            )

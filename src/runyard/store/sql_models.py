"""The model registry half of the SQL store: models per workspace and their numbered versions.

A version's number is taken from its model's `next_version` in the transaction that inserts
it: the row is locked on PostgreSQL (SELECT … FOR UPDATE) and SQLite writers hold the
database's write lock from BEGIN, so two processes registering one name at once get n and
n + 1. The unique (model, version) constraint would refuse a duplicate if that ever failed.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, insert, select, update

from runyard.core.errors import (
    ImmutablePropertyError,
    LimitExceededError,
    ModelNotFoundError,
    NotFoundError,
    ValidationError,
)
from runyard.core.limits import Limits
from runyard.core.paths import model_prefix, validate_storage_key
from runyard.core.registry import (
    MAX_MODEL_FILES,
    ModelFilter,
    ModelVersion,
    NewModelVersion,
    VersionOrigin,
    validate_model_name,
    validate_model_version,
)
from runyard.store.base import ModelStore
from runyard.store.database import Database
from runyard.store.documents import to_datetime
from runyard.store.schema import (
    experiments,
    model_aliases,
    model_version_properties,
    model_version_tags,
    model_versions,
    models,
    runs,
)

_CHUNK = 500


class ModelVersions(ModelStore):
    """Mixin of SqlTrackingStore: the registry's reads and writes, confined to the workspace."""

    db: Database
    limits: Limits
    workspace: str
    workspace_id: int

    def create_model_version(
        self,
        new: NewModelVersion,
        storage_key: str,
        path: str,
        files: list[str],
        origin: VersionOrigin | None = None,
    ) -> ModelVersion:
        """Register the next version of `new.name` (the model is created on first use) for
        files already stored under `storage_key`; returns it with its number."""
        validate_model_name(new.name)
        validate_storage_key(storage_key)
        if not files:
            raise ValidationError(f"model {new.name!r} cannot be registered without files")
        if len(files) > MAX_MODEL_FILES:
            raise LimitExceededError(
                f"a model version may hold {MAX_MODEL_FILES} files; this one has {len(files)} "
                "(register a zip of them instead)"
            )
        now = time.time()
        origin = origin or VersionOrigin()
        with self.db.write() as conn:
            experiment_name = None
            if new.run_id is not None:
                experiment_name = conn.execute(
                    select(experiments.c.name)
                    .join(runs, runs.c.experiment_id == experiments.c.id)
                    .where(
                        runs.c.run_id == new.run_id,
                        experiments.c.workspace_id == self.workspace_id,
                    )
                ).scalar()
                if experiment_name is None:
                    raise NotFoundError(f"no run with id {new.run_id!r}")
            conn.execute(
                self.db.insert(models)
                .values(
                    workspace_id=self.workspace_id,
                    name=new.name,
                    created_time=now,
                    next_version=1,
                )
                .on_conflict_do_nothing()
            )
            query = select(models.c.id, models.c.next_version).where(
                models.c.workspace_id == self.workspace_id, models.c.name == new.name
            )
            if self.db.is_pg:
                query = query.with_for_update()
            model = conn.execute(query).one()
            pk = conn.execute(
                insert(model_versions)
                .values(
                    model_id=model.id,
                    version=model.next_version,
                    run_id=new.run_id,
                    experiment_name=experiment_name,
                    description=new.description,
                    model_framework=new.model_framework,
                    model_framework_version=new.model_framework_version,
                    created_time=now,
                    storage_key=storage_key,
                    path=path,
                    files=json.dumps(sorted(files)),
                    files_name=new.name,
                    source=origin.source,
                    logged_model_id=origin.logged_model_id,
                    run_link=origin.run_link,
                    last_updated_time=now,
                )
                .returning(model_versions.c.id)
            ).scalar_one()
            conn.execute(
                update(models)
                .where(models.c.id == model.id)
                .values(next_version=model.next_version + 1, last_updated_time=now)
            )
            if new.tags:
                conn.execute(
                    insert(model_version_tags),
                    [{"version_id": pk, "key": k, "value": v} for k, v in new.tags.items()],
                )
            if new.properties:
                conn.execute(
                    insert(model_version_properties),
                    [{"version_id": pk, "key": k, "value": v} for k, v in new.properties.items()],
                )
            return self._load(conn, self._versions_query().where(model_versions.c.id == pk))[0]

    def get_model_version(self, name: str, version: int | None = None) -> ModelVersion:
        """One version of a model; its newest when `version` is None (ModelNotFoundError if
        there is none)."""
        validate_model_name(name)
        query = self._versions_query().where(models.c.name == name)
        if version is None:
            query = query.order_by(model_versions.c.version.desc()).limit(1)
        else:
            query = query.where(model_versions.c.version == validate_model_version(version))
        with self.db.read() as conn:
            found = self._load(conn, query)
        if not found:
            which = "any version" if version is None else f"a version {version}"
            raise ModelNotFoundError(f"no model named {name!r} with {which} in this workspace")
        return found[0]

    def list_model_versions(self, model_filter: ModelFilter | None = None) -> list[ModelVersion]:
        """The versions matching the filter, by model name, newest version first."""
        model_filter = model_filter or ModelFilter()
        query = self._versions_query()
        if model_filter.name is not None:
            query = query.where(models.c.name == model_filter.name)
        if model_filter.run_id is not None:
            query = query.where(model_versions.c.run_id == model_filter.run_id)
        for table, wanted in (
            (model_version_tags, model_filter.tags),
            (model_version_properties, model_filter.properties),
        ):
            for key, value in wanted.items():
                condition = and_(table.c.version_id == model_versions.c.id, table.c.key == key)
                if value is not None:
                    condition = and_(condition, table.c.value == value)
                query = query.where(exists().where(condition))
        query = query.order_by(models.c.name, model_versions.c.version.desc())
        with self.db.read() as conn:
            found = self._load(conn, query)
        if model_filter.latest:
            newest: dict[str, ModelVersion] = {}
            for version in found:
                newest.setdefault(version.name, version)
            found = list(newest.values())
        return found

    def set_model_tags(self, name: str, version: int, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags of a model version."""
        with self.db.write() as conn:
            pk = self._version_pk(conn, name, version)
            if not tags:
                return
            existing = set(
                conn.execute(
                    select(model_version_tags.c.key).where(model_version_tags.c.version_id == pk)
                ).scalars()
            )
            total = len(existing | set(tags))
            if total > self.limits.max_tags:
                raise LimitExceededError(
                    f"model {name}:{version} would have {total} tags; the limit is "
                    f"{self.limits.max_tags}"
                )
            stmt = self.db.insert(model_version_tags).values(
                [{"version_id": pk, "key": k, "value": v} for k, v in tags.items()]
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["version_id", "key"], set_={"value": stmt.excluded.value}
                )
            )

    def remove_model_tags(self, name: str, version: int, keys: Iterable[str]) -> None:
        """Delete tags of a model version; unknown keys are ignored."""
        keys = list(keys)
        with self.db.write() as conn:
            pk = self._version_pk(conn, name, version)
            conn.execute(
                delete(model_version_tags).where(
                    model_version_tags.c.version_id == pk, model_version_tags.c.key.in_(keys)
                )
            )

    def add_model_properties(self, name: str, version: int, properties: dict[str, str]) -> None:
        """Add properties; ImmutablePropertyError if a key exists with another value."""
        with self.db.write() as conn:
            pk = self._version_pk(conn, name, version, lock=True)
            if not properties:
                return
            existing: dict[str, str] = {
                key: value
                for key, value in conn.execute(
                    select(model_version_properties.c.key, model_version_properties.c.value).where(
                        model_version_properties.c.version_id == pk
                    )
                )
            }
            for key, value in properties.items():
                if key in existing and existing[key] != value:
                    raise ImmutablePropertyError(
                        f"property {key!r} of model {name}:{version} is already "
                        f"{existing[key]!r}; properties cannot change (tried {value!r}). Use a "
                        "tag for values that change."
                    )
            added = {k: v for k, v in properties.items() if k not in existing}
            if len(existing) + len(added) > self.limits.max_properties:
                raise LimitExceededError(
                    f"model {name}:{version} would have {len(existing) + len(added)} "
                    f"properties; the limit is {self.limits.max_properties}"
                )
            if added:
                conn.execute(
                    insert(model_version_properties),
                    [{"version_id": pk, "key": k, "value": v} for k, v in added.items()],
                )

    # Plumbing
    def _versions_query(self) -> Any:
        return (
            select(model_versions, models.c.name)
            .join(models, models.c.id == model_versions.c.model_id)
            .where(models.c.workspace_id == self.workspace_id)
        )

    def _version_pk(self, conn: Connection, name: str, version: int, *, lock: bool = False) -> int:
        validate_model_name(name)
        query = (
            select(model_versions.c.id)
            .join(models, models.c.id == model_versions.c.model_id)
            .where(
                models.c.workspace_id == self.workspace_id,
                models.c.name == name,
                model_versions.c.version == validate_model_version(version),
            )
        )
        if lock and self.db.is_pg:
            query = query.with_for_update(of=model_versions)
        pk = conn.execute(query).scalar()
        if not isinstance(pk, int):
            raise ModelNotFoundError(f"no model named {name!r} with a version {version}")
        return pk

    def _load(self, conn: Connection, query: Any) -> list[ModelVersion]:
        rows = conn.execute(query).all()
        pks = [row.id for row in rows]
        tags = _key_values(conn, model_version_tags, pks)
        properties = _key_values(conn, model_version_properties, pks)
        aliases: dict[int, list[str]] = defaultdict(list)
        for start in range(0, len(pks), _CHUNK):
            for version_id, alias in conn.execute(
                select(model_aliases.c.version_id, model_aliases.c.alias)
                .where(model_aliases.c.version_id.in_(pks[start : start + _CHUNK]))
                .order_by(model_aliases.c.alias)
            ):
                aliases[version_id].append(alias)
        return [
            ModelVersion(
                name=row.name,
                version=row.version,
                id=f"{row.name}:{row.version}",
                url=model_prefix(self.workspace, row.files_name or row.name, row.storage_key),
                run_id=row.run_id,
                experiment_name=row.experiment_name,
                description=row.description,
                created_time=to_datetime(row.created_time),
                model_framework=row.model_framework,
                model_framework_version=row.model_framework_version,
                tags=tags.get(row.id, {}),
                properties=properties.get(row.id, {}),
                path=row.path,
                files=json.loads(row.files),
                storage_key=row.storage_key,
                aliases=aliases.get(row.id, []),
                stage=row.stage,
                source=row.source,
                logged_model_id=row.logged_model_id,
                run_link=row.run_link,
                last_updated_time=to_datetime(row.last_updated_time or row.created_time),
            )
            for row in rows
        ]


def _key_values(conn: Connection, table: Any, pks: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = defaultdict(dict)
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        rows = conn.execute(
            select(table.c.version_id, table.c.key, table.c.value).where(
                table.c.version_id.in_(chunk)
            )
        )
        for pk, key, value in rows:
            found[pk][key] = value
    return found

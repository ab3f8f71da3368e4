"""The logged-model half of the SQL store: MLflow 3's logged models and their run links."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from runyard.core.errors import ImmutablePropertyError, NotFoundError, ValidationError
from runyard.core.logged_models import (
    LoggedModel,
    ModelLink,
    new_logged_model_id,
    validate_logged_model_id,
    validate_logged_model_status,
)
from runyard.store.base import LoggedModelStore
from runyard.store.database import Database
from runyard.store.schema import experiments, logged_model_links, logged_models, runs

_DIRECTIONS = ("input", "output")


def _model(row: Any) -> LoggedModel:
    return LoggedModel(
        model_id=row.model_id,
        experiment_id=row.experiment_id,
        name=row.name,
        source_run_id=row.source_run_id,
        status=row.status,
        status_message=row.status_message,
        model_type=row.model_type,
        creation_time=row.creation_time,
        last_updated_time=row.last_updated_time,
        tags=json.loads(row.tags),
        params=json.loads(row.params),
        deleted=bool(row.deleted),
    )


class LoggedModels(LoggedModelStore):
    """Mixin of SqlTrackingStore: logged models confined to the workspace."""

    db: Database
    workspace_id: int

    def _run_in_workspace(self, conn: Connection, run_id: str) -> None:
        found = conn.execute(
            select(runs.c.id)
            .join(experiments, runs.c.experiment_id == experiments.c.id)
            .where(runs.c.run_id == run_id, experiments.c.workspace_id == self.workspace_id)
        ).first()
        if found is None:
            raise NotFoundError(f"run {run_id!r} not found")

    def _logged_model_row(
        self, conn: Connection, model_id: str, *, allow_deleted: bool = False, lock: bool = False
    ) -> Any:
        validate_logged_model_id(model_id)
        query = select(logged_models).where(
            logged_models.c.model_id == model_id,
            logged_models.c.workspace_id == self.workspace_id,
        )
        if lock and self.db.is_pg:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None or (row.deleted and not allow_deleted):
            raise NotFoundError(f"Logged model with ID '{model_id}' not found.")
        return row

    def create_logged_model(
        self,
        experiment_name: str,
        name: str,
        *,
        source_run_id: str | None = None,
        model_type: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> LoggedModel:
        """A new PENDING logged model of the experiment (NotFoundError for an unknown run)."""
        if not name or len(name) > 255:
            raise ValidationError(f"invalid logged model name {name!r}: 1 to 255 characters")
        now = time.time()
        with self.db.write() as conn:
            experiment = conn.execute(
                select(experiments.c.id).where(
                    experiments.c.workspace_id == self.workspace_id,
                    experiments.c.name == experiment_name,
                )
            ).first()
            if experiment is None:
                raise NotFoundError(f"experiment {experiment_name!r} not found")
            if source_run_id is not None:
                self._run_in_workspace(conn, source_run_id)
            model_id = new_logged_model_id()
            conn.execute(
                insert(logged_models).values(
                    model_id=model_id,
                    workspace_id=self.workspace_id,
                    experiment_id=experiment.id,
                    name=name,
                    source_run_id=source_run_id,
                    status="PENDING",
                    model_type=model_type,
                    creation_time=now,
                    last_updated_time=now,
                    tags=json.dumps(tags or {}),
                    params=json.dumps(params or {}),
                    deleted=False,
                )
            )
            return _model(self._logged_model_row(conn, model_id))

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        """One logged model (NotFoundError if unknown, or deleted unless allowed)."""
        with self.db.read() as conn:
            return _model(self._logged_model_row(conn, model_id, allow_deleted=allow_deleted))

    def list_logged_models(self, experiment_names: Sequence[str]) -> list[LoggedModel]:
        """The experiments' logged models that are not deleted, newest first."""
        if not experiment_names:
            return []
        with self.db.read() as conn:
            rows = conn.execute(
                select(logged_models)
                .join(experiments, logged_models.c.experiment_id == experiments.c.id)
                .where(
                    logged_models.c.workspace_id == self.workspace_id,
                    experiments.c.name.in_(list(experiment_names)),
                    logged_models.c.deleted.is_(False),
                )
                .order_by(logged_models.c.creation_time.desc(), logged_models.c.id.desc())
            ).all()
        return [_model(row) for row in rows]

    def update_logged_model(
        self,
        model_id: str,
        *,
        status: str | None = None,
        tags: dict[str, str] | None = None,
        remove_tags: Iterable[str] = (),
        params: dict[str, str] | None = None,
        deleted: bool | None = None,
    ) -> LoggedModel:
        """Change a logged model; params are write-once like a run's."""
        if status is not None:
            validate_logged_model_status(status)
        with self.db.write() as conn:
            row = self._logged_model_row(conn, model_id, lock=True)
            current = _model(row)
            for key, value in (params or {}).items():
                if key in current.params and current.params[key] != value:
                    raise ImmutablePropertyError(
                        f"param {key!r} of logged model {model_id} is already "
                        f"{current.params[key]!r}; params are written once"
                    )
            new_tags = {**current.tags, **(tags or {})}
            for key in remove_tags:
                if key not in new_tags:
                    raise NotFoundError(f"logged model {model_id} has no tag {key!r}")
                del new_tags[key]
            values: dict[str, Any] = {
                "tags": json.dumps(new_tags),
                "params": json.dumps({**current.params, **(params or {})}),
                "last_updated_time": time.time(),
            }
            if status is not None:
                values["status"] = status
            if deleted is not None:
                values["deleted"] = deleted
            conn.execute(update(logged_models).where(logged_models.c.id == row.id).values(values))
            return _model(self._logged_model_row(conn, model_id, allow_deleted=True))

    def link_logged_models(self, links: Sequence[ModelLink]) -> None:
        """Record models as a run's inputs or outputs (again is no change)."""
        with self.db.write() as conn:
            for link in links:
                if link.direction not in _DIRECTIONS:
                    raise ValidationError(f"invalid link direction {link.direction!r}")
                self._run_in_workspace(conn, link.run_id)
                row = self._logged_model_row(conn, link.model_id)
                known = conn.execute(
                    select(logged_model_links.c.step).where(
                        logged_model_links.c.model_pk == row.id,
                        logged_model_links.c.run_id == link.run_id,
                        logged_model_links.c.direction == link.direction,
                        logged_model_links.c.step == link.step,
                    )
                ).first()
                if known is None:
                    conn.execute(
                        insert(logged_model_links).values(
                            model_pk=row.id,
                            run_id=link.run_id,
                            direction=link.direction,
                            step=link.step,
                        )
                    )

    def logged_model_links(self, run_id: str) -> list[ModelLink]:
        """The models a run took in and put out, by direction and step."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(logged_models.c.model_id, logged_model_links)
                .join(logged_models, logged_models.c.id == logged_model_links.c.model_pk)
                .where(
                    logged_model_links.c.run_id == run_id,
                    logged_models.c.workspace_id == self.workspace_id,
                )
                .order_by(logged_model_links.c.direction, logged_model_links.c.step)
            ).all()
        return [ModelLink(r.run_id, r.model_id, r.direction, r.step) for r in rows]

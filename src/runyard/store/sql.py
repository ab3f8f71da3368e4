"""The SQLAlchemy tracking store: one implementation for SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from runyard.core.entities import ExperimentInfo, NewRun, RunDocument, RunError, RunFilter
from runyard.core.errors import (
    ConflictError,
    ImmutablePropertyError,
    LimitExceededError,
    NotFoundError,
    ValidationError,
)
from runyard.core.limits import Limits
from runyard.core.metrics import MetricInfo, MetricSeries, PointBatch
from runyard.core.names import validate_experiment_name
from runyard.core.status import TERMINAL, Status, check_transition, parse_status
from runyard.store.base import TrackingStore
from runyard.store.engine import create_engines, upgrade_to_head
from runyard.store.points import list_metric_infos, read_series, write_points
from runyard.store.schema import experiments, run_properties, run_tags, runs

_ACTIVE = [s.value for s in Status if s.is_active]


def _dt(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class SqlTrackingStore(TrackingStore):
    """Runs and metrics in SQLite or PostgreSQL, schema kept at head by Alembic."""

    def __init__(self, url: str, limits: Limits | None = None) -> None:
        self.url = url
        self.limits = limits or Limits.from_env()
        self._write_engine, self._read_engine = create_engines(url)
        upgrade_to_head(self._write_engine)
        self._is_pg = self._write_engine.dialect.name == "postgresql"
        # Run ids never change their row, so the lookup is cached for the process.
        self._run_pks: dict[str, int] = {}

    # Plumbing
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._write_engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._read_engine.begin() as conn:
            yield conn

    def _insert(self) -> Any:
        return postgresql.insert if self._is_pg else sqlite.insert

    def _run_pk(self, conn: Connection, run_id: str, *, lock: bool = False) -> int:
        pk = self._run_pks.get(run_id)
        if pk is not None and not lock:
            return pk
        query = select(runs.c.id).where(runs.c.run_id == run_id)
        if lock and self._is_pg:
            query = query.with_for_update()
        pk = conn.execute(query).scalar()
        if not isinstance(pk, int):
            raise NotFoundError(f"no run with id {run_id!r}")
        self._run_pks[run_id] = pk
        return pk

    def close(self) -> None:
        """Dispose of both engines' pools."""
        self._write_engine.dispose()
        self._read_engine.dispose()

    # Experiments
    def _experiment_row(self, conn: Connection, name: str, *, lock: bool = False) -> Any:
        query = select(experiments).where(experiments.c.name == name)
        if lock and self._is_pg:
            query = query.with_for_update()
        return conn.execute(query).first()

    def _ensure_experiment(self, conn: Connection, name: str) -> Any:
        validate_experiment_name(name, self.limits.max_experiment_name_length)
        conn.execute(
            self._insert()(experiments)
            .values(name=name, created_time=time.time(), archived=False, run_count=0)
            .on_conflict_do_nothing()
        )
        return self._experiment_row(conn, name, lock=True)

    def _experiment_info(self, conn: Connection, row: Any) -> ExperimentInfo:
        stats = conn.execute(
            select(
                func.count(),
                func.sum(case((runs.c.status.in_(_ACTIVE), 1), else_=0)),
                func.max(func.coalesce(runs.c.end_time, runs.c.start_time, runs.c.created_time)),
            ).where(runs.c.experiment_id == row.id)
        ).one()
        return ExperimentInfo(
            experiment_id=row.id,
            name=row.name,
            created_utc=_dt(row.created_time),
            archived=row.archived,
            run_count=stats[0] or 0,
            active_run_count=stats[1] or 0,
            last_activity_utc=_dt(stats[2]),
        )

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """The experiment of that name, created if it does not exist yet."""
        with self._read() as conn:
            row = self._experiment_row(conn, name)
            if row is not None:
                return self._experiment_info(conn, row)
        with self._write() as conn:
            return self._experiment_info(conn, self._ensure_experiment(conn, name))

    def get_experiment(self, name: str) -> ExperimentInfo:
        """The experiment of that name (NotFoundError if there is none)."""
        with self._read() as conn:
            row = self._experiment_row(conn, name)
            if row is None:
                raise NotFoundError(f"no experiment named {name!r}")
            return self._experiment_info(conn, row)

    def list_experiments(self, include_archived: bool = False) -> list[ExperimentInfo]:
        """Every experiment with its run counts and last activity, by name."""
        with self._read() as conn:
            query = select(experiments).order_by(experiments.c.name)
            if not include_archived:
                query = query.where(experiments.c.archived.is_(False))
            return [self._experiment_info(conn, row) for row in conn.execute(query).all()]

    def set_experiment_archived(self, name: str, archived: bool) -> None:
        """Archive an experiment (hidden from lists) or bring it back."""
        with self._write() as conn:
            result = conn.execute(
                update(experiments).where(experiments.c.name == name).values(archived=archived)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"no experiment named {name!r}")

    # Runs
    def create_runs(self, new_runs: Sequence[NewRun]) -> list[RunDocument]:
        """Create runs (and their experiment if needed) in one transaction."""
        if not new_runs:
            return []
        now = time.time()
        created: list[str] = []
        with self._write() as conn:
            numbers: dict[str, tuple[int, int]] = {}
            for new in new_runs:
                parent_pk = None
                experiment_name = new.experiment_name
                if new.parent_run_id is not None:
                    parent = conn.execute(
                        select(runs.c.id, experiments.c.name)
                        .join(experiments, experiments.c.id == runs.c.experiment_id)
                        .where(runs.c.run_id == new.parent_run_id)
                    ).first()
                    if parent is None:
                        raise NotFoundError(f"no parent run with id {new.parent_run_id!r}")
                    parent_pk, experiment_name = parent
                if experiment_name not in numbers:
                    exp = self._ensure_experiment(conn, experiment_name)
                    numbers[experiment_name] = (exp.id, exp.run_count)
                exp_id, count = numbers[experiment_name]
                count += 1
                numbers[experiment_name] = (exp_id, count)
                status = new.status
                values = {
                    "run_id": new.run_id,
                    "experiment_id": exp_id,
                    "number": count,
                    "parent_id": parent_pk,
                    "status": status.value,
                    "display_name": new.display_name,
                    "description": new.description,
                    "target": new.target,
                    "run_type": new.run_type,
                    "submitted_by": new.submitted_by,
                    "created_time": now,
                    "start_time": now if status is Status.RUNNING else None,
                    "end_time": now if status in TERMINAL else None,
                    "run_definition": json.dumps(new.run_definition),
                }
                try:
                    with conn.begin_nested():
                        pk = conn.execute(
                            insert(runs).values(**values).returning(runs.c.id)
                        ).scalar_one()
                except IntegrityError:
                    raise ConflictError(f"a run with id {new.run_id!r} already exists") from None
                self._run_pks[new.run_id] = pk
                if new.tags:
                    conn.execute(
                        insert(run_tags),
                        [{"run_id": pk, "key": k, "value": v} for k, v in new.tags.items()],
                    )
                if new.properties:
                    conn.execute(
                        insert(run_properties),
                        [{"run_id": pk, "key": k, "value": v} for k, v in new.properties.items()],
                    )
                created.append(new.run_id)
            for _name, (exp_id, count) in numbers.items():
                conn.execute(
                    update(experiments).where(experiments.c.id == exp_id).values(run_count=count)
                )
            return self._documents(
                conn, select(runs).where(runs.c.run_id.in_(created)).order_by(runs.c.id)
            )

    def _documents(self, conn: Connection, query: Any) -> list[RunDocument]:
        """Run documents for the rows a query selects, tags and properties loaded in bulk."""
        rows = conn.execute(query).all()
        if not rows:
            return []
        pks = [r.id for r in rows]
        tags: dict[int, dict[str, str | None]] = defaultdict(dict)
        props: dict[int, dict[str, str]] = defaultdict(dict)
        for table, target in ((run_tags, tags), (run_properties, props)):
            for chunk_start in range(0, len(pks), 500):
                chunk = pks[chunk_start : chunk_start + 500]
                for run_pk, key, value in conn.execute(
                    select(table.c.run_id, table.c.key, table.c.value).where(
                        table.c.run_id.in_(chunk)
                    )
                ):
                    target[run_pk][key] = value
        parent_ids = {r.parent_id for r in rows if r.parent_id is not None}
        parents: dict[int, str] = {}
        if parent_ids:
            parents = dict(
                conn.execute(
                    select(runs.c.id, runs.c.run_id).where(runs.c.id.in_(parent_ids))
                ).all()
            )
        exp_ids = {r.experiment_id for r in rows}
        names = dict(
            conn.execute(
                select(experiments.c.id, experiments.c.name).where(experiments.c.id.in_(exp_ids))
            ).all()
        )
        docs = []
        for r in rows:
            error = None
            if r.error_code is not None or r.error_message is not None:
                error = RunError(code=r.error_code or "UserError", message=r.error_message or "")
            docs.append(
                RunDocument(
                    run_id=r.run_id,
                    run_number=r.number,
                    experiment_name=names[r.experiment_id],
                    experiment_id=r.experiment_id,
                    display_name=r.display_name,
                    description=r.description,
                    status=Status(r.status),
                    target=r.target,
                    run_type=r.run_type,
                    parent_run_id=parents.get(r.parent_id) if r.parent_id else None,
                    created_utc=_dt(r.created_time),
                    start_time_utc=_dt(r.start_time),
                    end_time_utc=_dt(r.end_time),
                    submitted_by=r.submitted_by,
                    tags=tags.get(r.id, {}),
                    properties=props.get(r.id, {}),
                    run_definition=json.loads(r.run_definition) if r.run_definition else {},
                    error=error,
                )
            )
        return docs

    def get_run(self, run_id: str) -> RunDocument:
        """One run's document (NotFoundError if unknown)."""
        with self._read() as conn:
            docs = self._documents(conn, select(runs).where(runs.c.run_id == run_id))
        if not docs:
            raise NotFoundError(f"no run with id {run_id!r}")
        return docs[0]

    def search_runs(
        self, run_filter: RunFilter, *, limit: int = 100, page_token: str | None = None
    ) -> tuple[list[RunDocument], str | None]:
        """One page of matching runs, newest first, and the token of the next page."""
        if not 1 <= limit <= 10_000:
            raise ValidationError(f"limit must be between 1 and 10000, got {limit}")
        with self._read() as conn:
            query = select(runs)
            if run_filter.experiment_name is not None:
                exp = self._experiment_row(conn, run_filter.experiment_name)
                if exp is None:
                    raise NotFoundError(f"no experiment named {run_filter.experiment_name!r}")
                query = query.where(runs.c.experiment_id == exp.id)
            if run_filter.parent_run_id is not None:
                parent_pk = self._run_pk(conn, run_filter.parent_run_id)
                if run_filter.recursive:
                    tree = (
                        select(runs.c.id).where(runs.c.parent_id == parent_pk).cte(recursive=True)
                    )
                    tree = tree.union_all(select(runs.c.id).where(runs.c.parent_id == tree.c.id))
                    query = query.where(runs.c.id.in_(select(tree.c.id)))
                else:
                    query = query.where(runs.c.parent_id == parent_pk)
            elif not run_filter.include_children:
                query = query.where(runs.c.parent_id.is_(None))
            for table, wanted in (
                (run_tags, run_filter.tags),
                (run_properties, run_filter.properties),
            ):
                for key, value in wanted.items():
                    cond = [table.c.key == key]
                    if value is not None:
                        cond.append(table.c.value == value)
                    query = query.where(runs.c.id.in_(select(table.c.run_id).where(and_(*cond))))
            if run_filter.status is not None:
                query = query.where(runs.c.status == run_filter.status.value)
            if page_token is not None:
                try:
                    before = int(page_token)
                except ValueError:
                    raise ValidationError(f"invalid page token {page_token!r}") from None
                query = query.where(runs.c.id < before)
            query = query.order_by(runs.c.id.desc()).limit(limit + 1)
            docs = self._documents(conn, query)
            if len(docs) <= limit:
                return docs, None
            last_pk = conn.execute(
                select(runs.c.id).where(runs.c.run_id == docs[limit - 1].run_id)
            ).scalar_one()
            return docs[:limit], str(last_pk)

    def update_run(
        self,
        run_id: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        run_definition: dict[str, object] | None = None,
    ) -> None:
        """Change the mutable descriptive fields given (None leaves a field as it is)."""
        values: dict[str, Any] = {}
        if display_name is not None:
            values["display_name"] = display_name
        if description is not None:
            values["description"] = description
        if run_definition is not None:
            values["run_definition"] = json.dumps(run_definition)
        if not values:
            return
        with self._write() as conn:
            pk = self._run_pk(conn, run_id)
            conn.execute(update(runs).where(runs.c.id == pk).values(**values))

    def set_status(self, run_id: str, status: Status, error: RunError | None = None) -> Status:
        """Move a run to `status` if the transition table allows it; returns the new status."""
        status = parse_status(status)
        with self._write() as conn:
            pk = self._run_pk(conn, run_id, lock=True)
            row = conn.execute(
                select(runs.c.status, runs.c.start_time).where(runs.c.id == pk)
            ).one()
            if not check_transition(Status(row.status), status):
                return status
            now = time.time()
            values: dict[str, Any] = {"status": status.value}
            if status is Status.RUNNING and row.start_time is None:
                values["start_time"] = now
            if status in TERMINAL:
                values["end_time"] = now
            if error is not None:
                values["error_code"] = error.code
                values["error_message"] = error.message
            conn.execute(update(runs).where(runs.c.id == pk).values(**values))
            return status

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive."""
        with self._write() as conn:
            pk = self._run_pk(conn, run_id)
            conn.execute(update(runs).where(runs.c.id == pk).values(heartbeat_time=time.time()))

    # Tags and properties
    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags."""
        if not tags:
            return
        with self._write() as conn:
            pk = self._run_pk(conn, run_id, lock=True)
            existing = set(
                conn.execute(select(run_tags.c.key).where(run_tags.c.run_id == pk)).scalars()
            )
            total = len(existing | set(tags))
            if total > self.limits.max_tags:
                raise LimitExceededError(
                    f"run {run_id!r} would have {total} tags; the limit is {self.limits.max_tags}"
                )
            stmt = self._insert()(run_tags).values(
                [{"run_id": pk, "key": k, "value": v} for k, v in tags.items()]
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["run_id", "key"], set_={"value": stmt.excluded.value}
                )
            )

    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None:
        """Delete tags; unknown keys are ignored."""
        keys = list(keys)
        with self._write() as conn:
            pk = self._run_pk(conn, run_id)
            conn.execute(delete(run_tags).where(run_tags.c.run_id == pk, run_tags.c.key.in_(keys)))

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Add properties; ImmutablePropertyError if a key exists with another value."""
        if not properties:
            return
        with self._write() as conn:
            pk = self._run_pk(conn, run_id, lock=True)
            existing = dict(
                conn.execute(
                    select(run_properties.c.key, run_properties.c.value).where(
                        run_properties.c.run_id == pk
                    )
                ).all()
            )
            for key, value in properties.items():
                if key in existing and existing[key] != value:
                    raise ImmutablePropertyError(
                        f"property {key!r} of run {run_id!r} is already {existing[key]!r}; "
                        f"properties cannot change (tried {value!r}). Use a tag for values "
                        "that change."
                    )
            new = {k: v for k, v in properties.items() if k not in existing}
            if len(existing) + len(new) > self.limits.max_properties:
                raise LimitExceededError(
                    f"run {run_id!r} would have {len(existing) + len(new)} properties; the limit "
                    f"is {self.limits.max_properties}"
                )
            if new:
                conn.execute(
                    insert(run_properties),
                    [{"run_id": pk, "key": k, "value": v} for k, v in new.items()],
                )

    # Metrics
    def log_points(self, run_id: str, batches: Sequence[PointBatch]) -> None:
        """Append metric points in bulk, all batches in one transaction."""
        if not batches:
            return
        with self._write() as conn:
            pk = self._run_pk(conn, run_id)
            write_points(conn, pk, batches, self.limits.max_points_per_metric)

    def list_metrics(self, run_id: str) -> list[MetricInfo]:
        """The run's metric series with their counts and last values, in creation order."""
        with self._read() as conn:
            return list_metric_infos(conn, self._run_pk(conn, run_id))

    def get_metric_series(
        self, run_id: str, names: Sequence[str] | None = None
    ) -> list[MetricSeries]:
        """Every point of the named metrics (all when None), in creation then step order."""
        with self._read() as conn:
            return read_series(conn, self._run_pk(conn, run_id), names)


__all__ = ["SqlTrackingStore"]

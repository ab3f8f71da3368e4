"""The SQLAlchemy tracking store: one implementation for SQLite and PostgreSQL.

A store is a view of one workspace in a database: every query is confined to it, so a
run id of another workspace is simply not found.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
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
from runyard.core.names import DEFAULT_WORKSPACE, validate_experiment_name
from runyard.core.run_table import (
    RunState,
    RunTablePage,
    RunTableQuery,
    TableValues,
    TableValuesQuery,
)
from runyard.core.status import TERMINAL, Status, check_transition, parse_status
from runyard.store.base import LifecycleStore, TrackingStore
from runyard.store.changes import notify_run_changed
from runyard.store.database import Database
from runyard.store.documents import documents_for_rows, experiment_info, load_documents
from runyard.store.lifecycle import RunLifecycle
from runyard.store.run_table import newest_run_pk, run_states, run_table_page, table_values
from runyard.store.schema import (
    experiments,
    run_params,
    run_properties,
    run_tags,
    runs,
)
from runyard.store.search import search_query
from runyard.store.sql_data import RunData
from runyard.store.sql_logged_models import LoggedModels
from runyard.store.sql_registered_models import RegisteredModels


class SqlTrackingStore(
    RunData, RunLifecycle, RegisteredModels, LoggedModels, TrackingStore, LifecycleStore
):
    """Runs, metrics and registered models of one workspace in SQLite or PostgreSQL."""

    def __init__(
        self,
        database: Database | str,
        limits: Limits | None = None,
        workspace: str = DEFAULT_WORKSPACE,
    ) -> None:
        self.db = database if isinstance(database, Database) else Database.open(database)
        self.url = self.db.url
        self.limits = limits or Limits.from_env()
        self.workspace = workspace
        self.workspace_id = self.db.workspace_id(workspace)
        # Run ids never move to another row, so the lookup is cached for the process.
        self._run_pks: dict[str, int] = {}

    def close(self) -> None:
        """Release the database's connections."""
        self.db.close()

    def _run_pk(self, conn: Connection, run_id: str, *, lock: bool = False) -> int:
        pk = self._run_pks.get(run_id)
        if pk is not None and not lock:
            return pk
        query = (
            select(runs.c.id)
            .join(experiments, experiments.c.id == runs.c.experiment_id)
            .where(runs.c.run_id == run_id, experiments.c.workspace_id == self.workspace_id)
        )
        if lock and self.db.is_pg:
            query = query.with_for_update(of=runs)
        pk = conn.execute(query).scalar()
        if not isinstance(pk, int):
            raise NotFoundError(f"no run with id {run_id!r}")
        self._run_pks[run_id] = pk
        return pk

    # Experiments
    def _experiment_row(self, conn: Connection, name: str, *, lock: bool = False) -> Any:
        query = select(experiments).where(
            experiments.c.workspace_id == self.workspace_id, experiments.c.name == name
        )
        if lock and self.db.is_pg:
            query = query.with_for_update()
        return conn.execute(query).first()

    def _ensure_experiment(self, conn: Connection, name: str) -> Any:
        validate_experiment_name(name, self.limits.max_experiment_name_length)
        conn.execute(
            self.db.insert(experiments)
            .values(
                workspace_id=self.workspace_id,
                name=name,
                created_time=time.time(),
                archived=False,
                run_count=0,
            )
            .on_conflict_do_nothing()
        )
        return self._experiment_row(conn, name, lock=True)

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """The experiment of that name, created if it does not exist yet."""
        with self.db.read() as conn:
            row = self._experiment_row(conn, name)
            if row is not None:
                return experiment_info(conn, row)
        with self.db.write() as conn:
            return experiment_info(conn, self._ensure_experiment(conn, name))

    def get_experiment(self, name: str) -> ExperimentInfo:
        """The experiment of that name (NotFoundError if there is none)."""
        with self.db.read() as conn:
            row = self._experiment_row(conn, name)
            if row is None:
                raise NotFoundError(f"no experiment named {name!r}")
            return experiment_info(conn, row)

    def list_experiments(self, include_archived: bool = False) -> list[ExperimentInfo]:
        """Every experiment with its run counts and last activity, by name."""
        with self.db.read() as conn:
            query = (
                select(experiments)
                .where(experiments.c.workspace_id == self.workspace_id)
                .order_by(experiments.c.name)
            )
            if not include_archived:
                query = query.where(experiments.c.archived.is_(False))
            return [experiment_info(conn, row) for row in conn.execute(query).all()]

    def set_experiment_archived(self, name: str, archived: bool) -> None:
        """Archive an experiment (hidden from lists) or bring it back."""
        with self.db.write() as conn:
            result = conn.execute(
                update(experiments)
                .where(experiments.c.workspace_id == self.workspace_id, experiments.c.name == name)
                .values(archived=archived)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"no experiment named {name!r}")

    def rename_experiment(self, name: str, new_name: str) -> None:
        """Give an experiment another name (ConflictError if that name is taken)."""
        validate_experiment_name(new_name, self.limits.max_experiment_name_length)
        with self.db.write() as conn:
            taken = conn.execute(
                select(experiments.c.id).where(
                    experiments.c.workspace_id == self.workspace_id,
                    experiments.c.name == new_name,
                )
            ).first()
            if taken is not None and new_name != name:
                raise ConflictError(f"an experiment named {new_name!r} exists already")
            result = conn.execute(
                update(experiments)
                .where(experiments.c.workspace_id == self.workspace_id, experiments.c.name == name)
                .values(name=new_name)
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
        with self.db.write() as conn:
            numbers: dict[str, tuple[int, int]] = {}
            for new in new_runs:
                parent_pk = None
                experiment_name = new.experiment_name
                if new.parent_run_id is not None:
                    parent_pk = self._run_pk(conn, new.parent_run_id)
                    experiment_name = conn.execute(
                        select(experiments.c.name)
                        .join(runs, runs.c.experiment_id == experiments.c.id)
                        .where(runs.c.id == parent_pk)
                    ).scalar_one()
                if experiment_name not in numbers:
                    exp = self._ensure_experiment(conn, experiment_name)
                    numbers[experiment_name] = (exp.id, exp.run_count)
                exp_id, count = numbers[experiment_name]
                count += 1
                numbers[experiment_name] = (exp_id, count)
                values = {
                    "run_id": new.run_id,
                    "experiment_id": exp_id,
                    "number": count,
                    "parent_id": parent_pk,
                    "status": new.status.value,
                    "display_name": new.display_name,
                    "description": new.description,
                    "target": new.target,
                    "run_type": new.run_type,
                    "submitted_by": new.submitted_by,
                    "created_time": now,
                    "start_time": now if new.status is Status.RUNNING else None,
                    "end_time": now if new.status in TERMINAL else None,
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
            for exp_id, count in numbers.values():
                conn.execute(
                    update(experiments).where(experiments.c.id == exp_id).values(run_count=count)
                )
            return load_documents(
                conn, select(runs).where(runs.c.run_id.in_(created)).order_by(runs.c.id)
            )

    def get_run(self, run_id: str) -> RunDocument:
        """One run's document (NotFoundError if unknown)."""
        with self.db.read() as conn:
            pk = self._run_pk(conn, run_id)
            return load_documents(conn, select(runs).where(runs.c.id == pk))[0]

    def search_runs(
        self, run_filter: RunFilter, *, limit: int = 100, page_token: str | None = None
    ) -> tuple[list[RunDocument], str | None]:
        """One page of matching runs, newest first (or by a metric), and the next page's token."""
        if not 1 <= limit <= 10_000:
            raise ValidationError(f"limit must be between 1 and 10000, got {limit}")
        with self.db.read() as conn:
            experiment_id = None
            if run_filter.experiment_name is not None:
                exp = self._experiment_row(conn, run_filter.experiment_name)
                if exp is None:
                    raise NotFoundError(f"no experiment named {run_filter.experiment_name!r}")
                experiment_id = exp.id
            parent_pk = None
            if run_filter.parent_run_id is not None:
                parent_pk = self._run_pk(conn, run_filter.parent_run_id)
            query = search_query(
                run_filter,
                workspace_id=self.workspace_id,
                experiment_id=experiment_id,
                parent_pk=parent_pk,
                limit=limit,
                page_token=page_token,
                dialect=conn.dialect.name,
            )
            rows = conn.execute(query).all()
            # What a search found is what its caller reads next (MLflow's run messages).
            self._run_pks.update({r.run_id: r.id for r in rows})
            docs = documents_for_rows(conn, rows)
            if len(docs) <= limit:
                return docs, None
            docs = docs[:limit]
            if run_filter.order or run_filter.order_by_metric is not None:
                return docs, str(int(page_token or 0) + limit)
            return docs, str(self._run_pk(conn, docs[-1].run_id))

    def run_table(self, query: RunTableQuery) -> RunTablePage:
        """One page of the runs table: sorted by any column, with metric summaries and
        children counts for the whole page in two queries."""
        with self.db.read() as conn:
            exp = self._experiment_row(conn, query.experiment)
            if exp is None:
                raise NotFoundError(f"no experiment named {query.experiment!r}")
            parent_pk = None if query.parent is None else self._run_pk(conn, query.parent)
            return run_table_page(conn, query, exp.id, parent_pk)

    def run_table_values(self, query: TableValuesQuery) -> TableValues:
        """Distinct values of a field over an experiment's runs (for filter pickers)."""
        with self.db.read() as conn:
            exp = self._experiment_row(conn, query.experiment)
            if exp is None:
                raise NotFoundError(f"no experiment named {query.experiment!r}")
            return table_values(conn, exp.id, query.field)

    def run_states(
        self, experiment: str, after_pk: int | None, watched: Sequence[int] = ()
    ) -> tuple[int, list[tuple[int, RunState]]]:
        """For the runs table's live stream: the newest run id, and (id, state) of the
        experiment's unended runs, of runs newer than `after_pk` and of the `watched` ones
        (with `after_pk` None: newer than the newest, so only the unended ones)."""
        with self.db.read() as conn:
            exp = self._experiment_row(conn, experiment)
            if exp is None:
                raise NotFoundError(f"no experiment named {experiment!r}")
            newest = newest_run_pk(conn, exp.id)
            return newest, run_states(
                conn, exp.id, newest if after_pk is None else after_pk, watched
            )

    def cancel_run(self, run_id: str) -> Status:
        """Cancel as `Run.cancel()` does: an interactive run ends Canceled at once, a
        submitted one is asked to stop (CancelRequested) and its runner ends it."""
        doc = self.get_run(run_id)
        if doc.status.is_terminal:
            raise ConflictError(f"run {run_id!r} has already ended ({doc.status.value})")
        wanted = Status.CANCELED if doc.run_type == "interactive" else Status.CANCEL_REQUESTED
        return self.set_status(run_id, wanted)

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
        with self.db.write() as conn:
            pk = self._run_pk(conn, run_id)
            if values:
                conn.execute(update(runs).where(runs.c.id == pk).values(**values))

    def set_status(self, run_id: str, status: Status, error: RunError | None = None) -> Status:
        """Move a run to `status` if the transition table allows it; returns the new status."""
        status = parse_status(status)
        with self.db.write() as conn:
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
            notify_run_changed(conn, run_id)
            return status

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive; a NotResponding run is Running again."""
        with self.db.write() as conn:
            pk = self._run_pk(conn, run_id)
            conn.execute(update(runs).where(runs.c.id == pk).values(heartbeat_time=time.time()))
            conn.execute(
                update(runs)
                .where(runs.c.id == pk, runs.c.status == Status.NOT_RESPONDING.value)
                .values(status=Status.RUNNING.value)
            )

    # Tags and properties
    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags."""
        with self.db.write() as conn:
            pk = self._run_pk(conn, run_id, lock=True)
            if not tags:
                return
            existing = set(
                conn.execute(select(run_tags.c.key).where(run_tags.c.run_id == pk)).scalars()
            )
            total = len(existing | set(tags))
            if total > self.limits.max_tags:
                raise LimitExceededError(
                    f"run {run_id!r} would have {total} tags; the limit is {self.limits.max_tags}"
                )
            stmt = self.db.insert(run_tags).values(
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
        with self.db.write() as conn:
            pk = self._run_pk(conn, run_id)
            conn.execute(delete(run_tags).where(run_tags.c.run_id == pk, run_tags.c.key.in_(keys)))

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Add properties; ImmutablePropertyError if a key exists with another value."""
        self._add_write_once(
            run_id, properties, run_properties, "property", "properties", self.limits.max_properties
        )

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        """Add params; ImmutablePropertyError if a key exists with another value."""
        self._add_write_once(run_id, params, run_params, "param", "params", self.limits.max_params)

    def _add_write_once(
        self, run_id: str, values: dict[str, str], table: Any, what: str, plural: str, limit: int
    ) -> None:
        """Insert new write-once key/values; the same value again is a no-op, another refused."""
        with self.db.write() as conn:
            pk = self._run_pk(conn, run_id, lock=True)
            if not values:
                return
            existing = {
                key: value
                for key, value in conn.execute(
                    select(table.c.key, table.c.value).where(table.c.run_id == pk)
                )
            }
            for key, value in values.items():
                if key in existing and existing[key] != value:
                    raise ImmutablePropertyError(
                        f"{what} {key!r} of run {run_id!r} is already {existing[key]!r}; "
                        f"{plural} cannot change (tried {value!r}). Use a tag for values "
                        "that change."
                    )
            new = {k: v for k, v in values.items() if k not in existing}
            if len(existing) + len(new) > limit:
                raise LimitExceededError(
                    f"run {run_id!r} would have {len(existing) + len(new)} {plural}; the limit "
                    f"is {limit}"
                )
            if new:
                conn.execute(
                    insert(table), [{"run_id": pk, "key": k, "value": v} for k, v in new.items()]
                )

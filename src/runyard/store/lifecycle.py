"""The SQL store's LifecycleStore half: deleted runs, experiment tags, input datasets, and
the latest points of many runs at once (what an MLflow Run message carries)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, update

from runyard.core.entities import LatestPoint, RunInput
from runyard.core.errors import NotFoundError, ValidationError
from runyard.core.limits import Limits
from runyard.core.metrics import MetricKind, PointBatch, ValueType, decode_value
from runyard.store.changes import notify_run_changed
from runyard.store.database import Database
from runyard.store.ingest import write_points
from runyard.store.run_conditions import latest_seq
from runyard.store.schema import (
    experiment_tags,
    experiments,
    metric_points,
    metrics,
    run_inputs,
    runs,
)

_CHUNK = 500
_NUMERIC = [ValueType.FLOAT, ValueType.INT, ValueType.BOOL, ValueType.NEG_ZERO]


class RunLifecycle:
    """Mixin of SqlTrackingStore; the store provides the database, workspace and run lookup."""

    db: Database
    limits: Limits
    workspace_id: int
    #: run id -> row id of this workspace's runs, filled by lookups and searches.
    _run_pks: dict[str, int]

    def _run_pk(self, conn: Connection, run_id: str, *, lock: bool = False) -> int:
        raise NotImplementedError

    def _experiment_row(self, conn: Connection, name: str, *, lock: bool = False) -> Any:
        raise NotImplementedError

    def set_run_deleted(self, run_id: str, deleted: bool) -> None:
        """Delete a run (kept, left out of searches unless asked for) or restore it."""
        with self.db.write() as conn:
            pk = self._run_pk(conn, run_id, lock=True)
            conn.execute(
                update(runs)
                .where(runs.c.id == pk)
                .values(deleted_time=time.time() if deleted else None)
            )
            notify_run_changed(conn, run_id)

    def log_points_if_active(self, run_id: str, batches: Sequence[PointBatch]) -> None:
        """log_points for a run that is not deleted (ValidationError if it is)."""
        with self.db.write() as conn:
            pk = self._run_pk(conn, run_id)
            deleted = conn.execute(select(runs.c.deleted_time).where(runs.c.id == pk)).scalar()
            if deleted is not None:
                raise ValidationError(
                    f"The run {run_id} must be in the 'active' state. Current state is deleted."
                )
            if batches:
                write_points(conn, pk, batches, self.limits.max_points_per_metric)
                notify_run_changed(conn, run_id)

    def _experiment_pk(self, conn: Connection, name: str) -> int:
        row = self._experiment_row(conn, name, lock=True)
        if row is None:
            raise NotFoundError(f"no experiment named {name!r}")
        return int(row.id)

    def set_experiment_tag(self, name: str, key: str, value: str) -> None:
        """Add or overwrite an experiment tag."""
        with self.db.write() as conn:
            pk = self._experiment_pk(conn, name)
            stmt = self.db.insert(experiment_tags).values(experiment_id=pk, key=key, value=value)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["experiment_id", "key"], set_={"value": stmt.excluded.value}
                )
            )

    def delete_experiment_tag(self, name: str, key: str) -> None:
        """Remove an experiment tag (NotFoundError if it has none of that key)."""
        with self.db.write() as conn:
            pk = self._experiment_pk(conn, name)
            done = conn.execute(
                delete(experiment_tags).where(
                    experiment_tags.c.experiment_id == pk, experiment_tags.c.key == key
                )
            )
            if done.rowcount == 0:
                raise NotFoundError(f"experiment {name!r} has no tag {key!r}")

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        """Record datasets a run read; the same dataset again only refreshes its tags."""
        with self.db.write() as conn:
            pk = self._run_pk(conn, run_id, lock=True)
            now = time.time()
            for item in inputs:
                stmt = self.db.insert(run_inputs).values(
                    run_id=pk,
                    name=item.name,
                    digest=item.digest,
                    context=item.context,
                    created_time=now,
                    dataset=json.dumps(item.dataset),
                    tags=json.dumps(item.tags),
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["run_id", "name", "digest"],
                        set_={"tags": stmt.excluded.tags, "context": stmt.excluded.context},
                    )
                )
            notify_run_changed(conn, run_id)

    def _pks(self, conn: Connection, run_ids: Sequence[str]) -> dict[int, str]:
        found = {self._run_pks[r]: r for r in run_ids if r in self._run_pks}
        run_ids = [r for r in run_ids if r not in self._run_pks]
        if not run_ids:
            return found
        # By run id through its unique index, then kept to the workspace's experiments in
        # Python: any SQL form of the workspace test lets SQLite's planner walk the
        # experiment's runs instead.
        mine = set(
            conn.execute(
                select(experiments.c.id).where(experiments.c.workspace_id == self.workspace_id)
            ).scalars()
        )
        for start in range(0, len(run_ids), _CHUNK):
            chunk = list(run_ids[start : start + _CHUNK])
            rows = conn.execute(
                select(runs.c.id, runs.c.run_id, runs.c.experiment_id).where(
                    runs.c.run_id.in_(chunk)
                )
            )
            found.update({pk: run_id for pk, run_id, exp in rows if exp in mine})
        return found

    def get_inputs(self, run_ids: Sequence[str]) -> dict[str, list[RunInput]]:
        """The inputs of each run, in the order they were first logged."""
        found: dict[str, list[RunInput]] = defaultdict(list)
        with self.db.read() as conn:
            pks = self._pks(conn, run_ids)
            if not pks:
                return found
            rows = conn.execute(
                select(run_inputs)
                .where(run_inputs.c.run_id.in_(list(pks)))
                .order_by(run_inputs.c.run_id, run_inputs.c.created_time, run_inputs.c.name)
            )
            for r in rows:
                found[pks[r.run_id]].append(
                    RunInput(
                        name=r.name,
                        digest=r.digest,
                        dataset=json.loads(r.dataset),
                        tags=json.loads(r.tags),
                    )
                )
        return found

    def latest_points(self, run_ids: Sequence[str]) -> dict[str, list[LatestPoint]]:
        """Each run's numeric scalar metrics' latest points, for many runs in one query."""
        found: dict[str, list[LatestPoint]] = defaultdict(list)
        with self.db.read() as conn:
            pks = self._pks(conn, run_ids)
            keys = list(pks)
            for start in range(0, len(keys), _CHUNK):
                m = metrics.alias("m")
                p = metric_points.alias("p")
                rows = conn.execute(
                    select(m.c.run_id, m.c.name, p.c.step, p.c.value, p.c.text, p.c.vtype, p.c.time)
                    .select_from(m.join(p, p.c.metric_id == m.c.id))
                    .where(
                        m.c.run_id.in_(keys[start : start + _CHUNK]),
                        m.c.column == "",
                        m.c.kind == MetricKind.SCALAR.value,
                        p.c.step == m.c.max_step,
                        p.c.seq == latest_seq(m),
                        p.c.vtype.in_([int(v) for v in _NUMERIC]),
                    )
                    .order_by(m.c.run_id, m.c.name)
                )
                for run_pk, name, step, number, text, vtype, when in rows:
                    value = decode_value(number, text, vtype)
                    assert isinstance(value, (int, float))
                    found[pks[run_pk]].append(
                        LatestPoint(name=name, step=step, value=value, time=when)
                    )
        return found

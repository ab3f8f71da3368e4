"""Turning rows into the entities of core: run documents and experiment summaries."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from runyard.core.entities import ExperimentInfo, RunDocument, RunError
from runyard.core.status import Status
from runyard.store.schema import (
    experiment_tags,
    experiments,
    run_params,
    run_properties,
    run_tags,
    runs,
)

_ACTIVE = [s.value for s in Status if s.is_active]
_CHUNK = 500


def to_datetime(seconds: float | None) -> datetime | None:
    """Seconds since the epoch as an aware UTC datetime."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def experiment_info(conn: Connection, row: Any) -> ExperimentInfo:
    """An experiments row with its run counts and last activity.

    Each figure walks an index rather than every run (an experiment may hold 100,000): a
    run's latest time is its end, else its start, else its creation, so the last activity
    is the greatest of the three columns' maxima.
    """
    mine = runs.c.experiment_id == row.id
    counted = select(func.count()).where(mine).scalar_subquery()
    active = select(func.count()).where(mine, runs.c.status.in_(_ACTIVE)).scalar_subquery()
    newest = select(func.max(runs.c.id)).where(mine).scalar_subquery()
    ends = [
        select(func.max(column)).where(mine).scalar_subquery()
        for column in (runs.c.end_time, runs.c.start_time)
    ]
    # Ids grow with creation time: the newest run's creation is the latest (no index
    # holds created_time, and a max over it reads every run).
    ends.append(select(runs.c.created_time).where(runs.c.id == newest).scalar_subquery())
    count, active_count, *times = conn.execute(select(counted, active, *ends)).one()
    latest = [t for t in times if t is not None]
    tags = dict(
        conn.execute(
            select(experiment_tags.c.key, experiment_tags.c.value).where(
                experiment_tags.c.experiment_id == row.id
            )
        ).all()
    )
    return ExperimentInfo(
        experiment_id=row.id,
        name=row.name,
        created_utc=to_datetime(row.created_time),
        archived=row.archived,
        run_count=count or 0,
        active_run_count=active_count or 0,
        last_activity_utc=to_datetime(max(latest) if latest else None),
        tags=tags,
    )


def _key_values(conn: Connection, table: Any, pks: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = defaultdict(dict)
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        rows = conn.execute(
            select(table.c.run_id, table.c.key, table.c.value).where(table.c.run_id.in_(chunk))
        )
        for run_pk, key, value in rows:
            found[run_pk][key] = value
    return found


def load_documents(conn: Connection, query: Any) -> list[RunDocument]:
    """Run documents for the rows a query selects, in its order; tags and properties in bulk."""
    return documents_for_rows(conn, conn.execute(query).all())


def documents_for_rows(conn: Connection, rows: Sequence[Any]) -> list[RunDocument]:
    """Run documents for rows of the runs table, in their order; tags and properties in bulk."""
    if not rows:
        return []
    pks = [r.id for r in rows]
    tags = _key_values(conn, run_tags, pks)
    props = _key_values(conn, run_properties, pks)
    params = _key_values(conn, run_params, pks)
    parent_pks = list({r.parent_id for r in rows if r.parent_id is not None})
    parents: dict[int, str] = {}
    if parent_pks:
        parents = {
            pk: run_id
            for pk, run_id in conn.execute(
                select(runs.c.id, runs.c.run_id).where(runs.c.id.in_(parent_pks))
            )
        }
    names = {
        pk: name
        for pk, name in conn.execute(
            select(experiments.c.id, experiments.c.name).where(
                experiments.c.id.in_({r.experiment_id for r in rows})
            )
        )
    }
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
                created_utc=to_datetime(r.created_time),
                start_time_utc=to_datetime(r.start_time),
                end_time_utc=to_datetime(r.end_time),
                submitted_by=r.submitted_by,
                tags=tags.get(r.id, {}),
                properties=props.get(r.id, {}),
                params=params.get(r.id, {}),
                run_definition=json.loads(r.run_definition) if r.run_definition else {},
                error=error,
                deleted_utc=to_datetime(r.deleted_time),
            )
        )
    return docs

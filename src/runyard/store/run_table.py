"""The runs table's SQL: one page of an experiment's runs in any column's order, and per page
(never per row) the chosen metrics' summaries and the children's counts by status."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, literal, or_, select, union

from runyard.core.entities import RunError
from runyard.core.metrics import MetricKind, decode_value
from runyard.core.run_table import (
    ChildCounts,
    MetricSummary,
    RunState,
    RunTablePage,
    RunTableQuery,
    RunTableRow,
    TableValues,
    parse_sort,
)
from runyard.core.status import Status
from runyard.store.documents import documents_for_rows, to_datetime
from runyard.store.schema import metrics, run_properties, run_tags, runs

_MAX_VALUES = 1000
#: Pickers offer the values of an experiment's newest runs, so a 100,000-run experiment
#: answers as fast as a small one.
_VALUES_SCAN = 10_000
_SUMMARY_KINDS = [MetricKind.SCALAR.value, MetricKind.LIST.value]
#: From this offset on, a metric sort lists the runs in view once instead of looking each
#: one up (see _ids_by_metric).
_DEEP_OFFSET = 5_000
#: Sort keys whose value is never NULL (a run always has an id, a status and a target).
_NEVER_NULL = frozenset({"name", "run_id", "status", "target"})


def _conditions(
    query: RunTableQuery, experiment_id: int, parent_pk: int | None, dialect: str
) -> list[Any]:
    conds: list[Any] = [runs.c.experiment_id == experiment_id, runs.c.deleted_time.is_(None)]
    if parent_pk is not None:
        conds.append(runs.c.parent_id == parent_pk)
        return conds
    if query.roots_only:
        conds.append(runs.c.parent_id.is_(None))
    if query.status:
        conds.append(runs.c.status.in_([s.value for s in query.status]))
    if query.submitted_by:
        conds.append(runs.c.submitted_by.in_(query.submitted_by))
    for table, wanted in ((run_tags, query.tags), (run_properties, query.properties)):
        for key, value in wanted.items():
            match = [table.c.key == key]
            if value is not None:
                match.append(table.c.value == value)
            conds.append(runs.c.id.in_(select(table.c.run_id).where(*match)))
    if query.text:
        conds.append(or_(*(_contains(c, query.text, dialect) for c in _SEARCHED)))
    return conds


_SEARCHED = (runs.c.display_name, runs.c.run_id, runs.c.description)


def _contains(column: Any, text: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive substring. SQLite's LIKE already ignores ASCII case (its lower()
    folds nothing more), so the lower() of `icontains` only doubles the cost of a scan
    (100,000 runs: 187 ms to 86 ms); PostgreSQL's ILIKE folds Unicode too."""
    if dialect == "sqlite":
        return column.contains(text, autoescape=True)  # type: ignore[no-any-return]
    return column.icontains(text, autoescape=True)  # type: ignore[no-any-return]


def _run_order(key: str) -> ColumnElement[Any]:
    columns: dict[str, ColumnElement[Any]] = {
        # ids grow with creation time, and so do numbers within an experiment: both sort
        # by the indexed id
        "created": runs.c.id,
        "number": runs.c.id,
        "name": func.coalesce(runs.c.display_name, runs.c.run_id),
        "run_id": runs.c.run_id,
        "status": runs.c.status,
        "start": runs.c.start_time,
        "end": runs.c.end_time,
        "target": runs.c.target,
        "submitted_by": runs.c.submitted_by,
        "duration": func.coalesce(runs.c.end_time, literal(time.time())) - runs.c.start_time,
    }
    return columns[key]


def _page_ids(conn: Connection, query: RunTableQuery, conds: list[Any]) -> list[int]:
    """The ids of the page's runs, in order (only ids are sorted: a narrow sort)."""
    kind, key, aggregate = parse_sort(query.sort)
    tie = runs.c.id.desc() if query.descending else runs.c.id.asc()
    if kind == "metric":
        return _ids_by_metric(conn, query, conds, key, aggregate)
    select_ids = select(runs.c.id).where(*conds)
    if kind in ("tag", "property"):
        table = (run_tags if kind == "tag" else run_properties).alias("sort_kv")
        select_ids = select_ids.select_from(
            runs.outerjoin(table, and_(table.c.run_id == runs.c.id, table.c.key == key))
        )
        order: ColumnElement[Any] = table.c.value
    else:
        order = _run_order(key)
    ordered = order.desc() if query.descending else order.asc()
    if key in ("created", "number") and kind == "run":
        select_ids = select_ids.order_by(tie)
    elif kind == "run" and key in _NEVER_NULL:
        # No NULLS LAST where there is no NULL: the clause would keep the planners from
        # walking the column's index backwards (PostgreSQL) or forwards (SQLite).
        select_ids = select_ids.order_by(ordered, tie)
    else:
        select_ids = select_ids.order_by(ordered.nulls_last(), tie)
    return list(conn.execute(select_ids.offset(query.offset).limit(query.limit)).scalars())


def _ids_by_metric(
    conn: Connection, query: RunTableQuery, conds: list[Any], name: str, aggregate: str
) -> list[int]:
    """Runs with the metric in its order (walking the metric's index, so the first pages
    cost a hundred rows, not a sort of every run), then the runs without it."""
    m = metrics.alias("sort_metric")
    value = {"last": m.c.last_number, "min": m.c.min_value, "max": m.c.max_value}[aggregate]
    has_value = [m.c.name == name, m.c.column == "", value.is_not(None)]
    ordered = (value.desc(), m.c.run_id.desc()) if query.descending else (value, m.c.run_id)
    # EXISTS (not a join): planners then walk the metric's (name, value) index in order and
    # stop after a page, where a join drives from the runs and sorts all of them. Deep in
    # the list, IN instead: the runs in view are listed once (SQLite, 100,000 runs: ~60 ms)
    # rather than looked up one by one for every row skipped (page 900: 274 ms to 120 ms).
    in_view: ColumnElement[bool]
    if query.offset >= _DEEP_OFFSET:
        in_view = m.c.run_id.in_(select(runs.c.id).where(*conds))
    else:
        in_view = select(runs.c.id).where(runs.c.id == m.c.run_id, *conds).exists()
    with_metric = select(m.c.run_id).where(*has_value, in_view).order_by(*ordered)
    ids = list(conn.execute(with_metric.offset(query.offset).limit(query.limit)).scalars())
    if len(ids) == query.limit:
        return ids
    if ids:
        having = query.offset + len(ids)
    else:
        having = conn.execute(
            select(func.count()).select_from(m).where(*has_value, in_view)
        ).scalar_one()
    has_it = select(m.c.id).where(*has_value, m.c.run_id == runs.c.id).exists()
    tie = runs.c.id.desc() if query.descending else runs.c.id.asc()
    rest = (
        select(runs.c.id)
        .where(*conds, ~has_it)
        .order_by(tie)
        .offset(max(0, query.offset - having))
        .limit(query.limit - len(ids))
    )
    return ids + list(conn.execute(rest).scalars())


def run_table_page(
    conn: Connection, query: RunTableQuery, experiment_id: int, parent_pk: int | None
) -> RunTablePage:
    """The rows `query` asks for, with metric summaries and child counts, in a few queries
    for the whole page (none per row)."""
    conds = _conditions(query, experiment_id, parent_pk, conn.dialect.name)
    total = None
    if query.with_total:
        total = conn.execute(select(func.count()).select_from(runs).where(*conds)).scalar_one()
    pks = _page_ids(conn, query, conds)
    by_pk = {r.id: r for r in conn.execute(select(runs).where(runs.c.id.in_(pks)))}
    rows = [by_pk[pk] for pk in pks]
    docs = documents_for_rows(conn, rows)
    summaries = _metric_summaries(conn, pks, query.metrics) if query.metrics else {}
    children = _child_counts(conn, pks)
    return RunTablePage(
        total=total,
        offset=query.offset,
        rows=[
            RunTableRow(
                run=doc,
                metrics=summaries.get(pk, {}),
                children=children.get(pk, ChildCounts()),
            )
            for pk, doc in zip(pks, docs, strict=True)
        ],
    )


def _metric_summaries(
    conn: Connection, pks: list[int], names: list[str]
) -> dict[int, dict[str, MetricSummary]]:
    found: dict[int, dict[str, MetricSummary]] = defaultdict(dict)
    if not pks:
        return found
    rows = conn.execute(
        select(
            metrics.c.run_id,
            metrics.c.name,
            metrics.c.last_number,
            metrics.c.last_text,
            metrics.c.last_vtype,
            metrics.c.min_value,
            metrics.c.max_value,
            metrics.c.last_step,
            metrics.c.count,
        ).where(
            metrics.c.run_id.in_(pks),
            metrics.c.name.in_(names),
            metrics.c.column == "",
            metrics.c.kind.in_(_SUMMARY_KINDS),
        )
    )
    for run_pk, name, number, text, vtype, low, high, step, count in rows:
        last = None if vtype is None else decode_value(number, text, vtype)
        found[run_pk][name] = MetricSummary(
            last=last, min=low, max=high, last_step=step, count=count
        )
    return found


def _child_counts(conn: Connection, pks: list[int]) -> dict[int, ChildCounts]:
    found: dict[int, ChildCounts] = {}
    if not pks:
        return found
    rows = conn.execute(
        select(runs.c.parent_id, runs.c.status, func.count())
        .where(runs.c.parent_id.in_(pks))
        .group_by(runs.c.parent_id, runs.c.status)
    )
    for parent, status, count in rows:
        counts = found.setdefault(parent, ChildCounts())
        counts.by_status[status] = count
        counts.total += count
    return found


def table_values(conn: Connection, experiment_id: int, field: str) -> TableValues:
    """Distinct values of a field over the experiment's newest runs, sorted, at most a
    thousand: what the filter pickers offer (any other value can still be typed)."""
    newest = (
        select(runs.c.id)
        .where(runs.c.experiment_id == experiment_id)
        .order_by(runs.c.id.desc())
        .limit(_VALUES_SCAN)
        .scalar_subquery()
    )
    query: Any
    if field in ("submitted_by", "target"):
        column = runs.c[field]
        query = select(column).where(runs.c.id.in_(newest), column.is_not(None))
    elif field in ("tag_keys", "property_keys"):
        table = run_tags if field == "tag_keys" else run_properties
        query = select(table.c.key).where(table.c.run_id.in_(newest))
    elif field == "metric_names":
        query = select(metrics.c.name).where(
            metrics.c.run_id.in_(newest),
            metrics.c.column == "",
            metrics.c.kind.in_(_SUMMARY_KINDS),
        )
    else:
        kind, key = field.split(":", 1)
        table = run_tags if kind == "tag" else run_properties
        query = select(table.c.value).where(
            table.c.run_id.in_(newest), table.c.key == key, table.c.value.is_not(None)
        )
    column = query.selected_columns[0]
    found = conn.execute(query.distinct().order_by(column).limit(_MAX_VALUES)).scalars()
    return TableValues(values=[str(v) for v in found])


def run_states(
    conn: Connection, experiment_id: int, after_pk: int, watched: Sequence[int]
) -> list[tuple[int, RunState]]:
    """(id, state) of the experiment's runs that have not ended, of runs created after
    `after_pk` and of the `watched` ones (unended before: they may have ended now), by id."""
    parent = runs.alias("parent")
    unended = [s.value for s in Status if not s.is_terminal]
    mine = runs.c.experiment_id == experiment_id
    # A union of three index walks (status, newer ids, watched ids): an OR of them makes
    # planners read every run of the experiment, several times a second per open table.
    wanted = [
        select(runs.c.id).where(mine, runs.c.status.in_(unended)),
        select(runs.c.id).where(mine, runs.c.id > after_pk),
    ]
    if watched:
        wanted.append(select(runs.c.id).where(mine, runs.c.id.in_(list(watched))))
    ids = union(*wanted).subquery()
    rows = conn.execute(
        select(runs, parent.c.run_id.label("parent_run_id"))
        .select_from(runs.outerjoin(parent, parent.c.id == runs.c.parent_id))
        .where(runs.c.id.in_(select(ids.c.id)))
        .order_by(runs.c.id)
    )
    states = []
    for r in rows:
        error = None
        if r.error_code is not None or r.error_message is not None:
            error = RunError(code=r.error_code or "UserError", message=r.error_message or "")
        state = RunState(
            run_id=r.run_id,
            parent_run_id=r.parent_run_id,
            status=Status(r.status),
            start_time_utc=to_datetime(r.start_time),
            end_time_utc=to_datetime(r.end_time),
            error=error,
        )
        states.append((r.id, state))
    return states


def newest_run_pk(conn: Connection, experiment_id: int) -> int:
    """The id of the experiment's newest run (0 without runs)."""
    found = conn.execute(
        select(func.max(runs.c.id)).where(runs.c.experiment_id == experiment_id)
    ).scalar()
    return int(found or 0)

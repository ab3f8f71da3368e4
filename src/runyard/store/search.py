"""The run search query: filters on experiment, parent, tags, properties, status and metrics."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, select

from runyard.core.entities import RunFilter
from runyard.core.errors import ValidationError
from runyard.store.run_conditions import conditions_clause, order_clauses
from runyard.store.schema import experiments, metrics, run_properties, run_tags, runs

_OPS = {
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "=": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
}


def _scalar_metric(run_pk: Any, name: str) -> Any:
    m = metrics.alias()
    return m, and_(m.c.run_id == run_pk, m.c.name == name, m.c.column == "")


def search_query(
    run_filter: RunFilter,
    *,
    workspace_id: int,
    experiment_id: int | None,
    parent_pk: int | None,
    limit: int,
    page_token: str | None,
    dialect: str = "sqlite",
) -> Select[Any]:
    """SELECT of matching runs, ordered (newest first unless by a metric or `order`), one
    page long (one row more, to tell whether another page follows)."""
    query = select(runs)
    if experiment_id is not None:
        query = query.where(runs.c.experiment_id == experiment_id)
    if run_filter.experiment_ids:
        query = query.where(runs.c.experiment_id.in_(run_filter.experiment_ids))
    # Always confined to the workspace: experiment ids are not secrets.
    query = query.where(
        runs.c.experiment_id.in_(
            select(experiments.c.id).where(experiments.c.workspace_id == workspace_id)
        )
    )
    if run_filter.lifecycle == "active":
        query = query.where(runs.c.deleted_time.is_(None))
    elif run_filter.lifecycle == "deleted":
        query = query.where(runs.c.deleted_time.is_not(None))
    if run_filter.conditions:
        query = query.where(conditions_clause(run_filter.conditions, dialect))
    if parent_pk is not None:
        if run_filter.recursive:
            tree = select(runs.c.id).where(runs.c.parent_id == parent_pk).cte(recursive=True)
            tree = tree.union_all(select(runs.c.id).where(runs.c.parent_id == tree.c.id))
            query = query.where(runs.c.id.in_(select(tree.c.id)))
        else:
            query = query.where(runs.c.parent_id == parent_pk)
    elif not run_filter.include_children:
        query = query.where(runs.c.parent_id.is_(None))
    for table, wanted in ((run_tags, run_filter.tags), (run_properties, run_filter.properties)):
        for key, value in wanted.items():
            cond = [table.c.key == key]
            if value is not None:
                cond.append(table.c.value == value)
            query = query.where(runs.c.id.in_(select(table.c.run_id).where(and_(*cond))))
    if run_filter.status is not None:
        query = query.where(runs.c.status == run_filter.status.value)
    for condition in run_filter.metrics:
        m, on = _scalar_metric(runs.c.id, condition.name)
        query = query.where(
            select(m.c.id).where(on, _OPS[condition.op](m.c.last_number, condition.value)).exists()
        )
    offset = 0
    if run_filter.order:
        query = query.order_by(*order_clauses(run_filter.order))
        if page_token is not None:
            offset = _int_token(page_token)
    elif run_filter.order_by_metric is not None:
        m, on = _scalar_metric(runs.c.id, run_filter.order_by_metric)
        query = query.outerjoin(m, on)
        value = m.c.last_number.asc() if run_filter.ascending else m.c.last_number.desc()
        query = query.order_by(value.nulls_last(), runs.c.id.desc())
        if page_token is not None:
            offset = _int_token(page_token)
    else:
        if page_token is not None:
            query = query.where(runs.c.id < _int_token(page_token))
        query = query.order_by(runs.c.id.desc())
    return query.offset(offset).limit(limit + 1)


def _int_token(token: str) -> int:
    try:
        value = int(token)
    except ValueError:
        raise ValidationError(f"invalid page token {token!r}") from None
    if value < 0:
        raise ValidationError(f"invalid page token {token!r}")
    return value

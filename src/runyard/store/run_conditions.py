"""MLflow-grade search terms in SQL: conditions and sort keys on a run's metrics (latest value),
params, tags, attributes and input datasets, as correlated subqueries on the runs table.

A metric's latest value is MLflow's: the point with the highest step, then the latest time
(then the largest value), found through the points' (metric, step) key, never by a scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, not_, select

from runyard.core.entities import RunCondition, RunOrder
from runyard.core.errors import ValidationError
from runyard.core.metrics import MetricKind
from runyard.store.schema import metric_points, metrics, run_inputs, run_params, run_tags, runs

_SCALAR = MetricKind.SCALAR.value
_GLOB_SPECIAL = {"*": "[*]", "?": "[?]", "[": "[[]"}


def latest_value(metric: Any) -> Any:
    """The latest value (MLflow's sense) of the metric row `metric` as a scalar subquery."""
    p = metric_points.alias("latest_point")
    return (
        select(p.c.value)
        .where(p.c.metric_id == metric.c.id, p.c.step == metric.c.max_step)
        .order_by(p.c.time.desc(), p.c.value.desc())
        .limit(1)
        .scalar_subquery()
    )


def latest_seq(metric: Any) -> Any:
    """The sequence number of the metric's latest point, as a scalar subquery."""
    p = metric_points.alias("latest_seq")
    return (
        select(p.c.seq)
        .where(p.c.metric_id == metric.c.id, p.c.step == metric.c.max_step)
        .order_by(p.c.time.desc(), p.c.value.desc())
        .limit(1)
        .scalar_subquery()
    )


def _like(column: Any, pattern: str, op: str, dialect: str) -> ColumnElement[bool]:
    """MLflow's LIKE is case-sensitive on every backend; SQLite's LIKE is not, its GLOB is."""
    if op == "ILIKE":
        return column.ilike(pattern)  # type: ignore[no-any-return]
    if dialect == "sqlite":
        glob = "".join(
            "*" if c == "%" else "?" if c == "_" else _GLOB_SPECIAL.get(c, c) for c in pattern
        )
        return column.op("GLOB")(glob)  # type: ignore[no-any-return]
    return column.like(pattern)  # type: ignore[no-any-return]


def _compare(column: Any, op: str, value: Any, dialect: str) -> ColumnElement[bool]:
    if op in ("LIKE", "ILIKE"):
        return _like(column, str(value), op, dialect)
    if op == "IN":
        return column.in_(list(value))  # type: ignore[no-any-return]
    if op == "NOT IN":
        return column.not_in(list(value))  # type: ignore[no-any-return]
    if op == "IS NULL":
        return column.is_(None)  # type: ignore[no-any-return]
    if op == "IS NOT NULL":
        return column.is_not(None)  # type: ignore[no-any-return]
    comparisons = {
        "<": lambda: column < value,
        "<=": lambda: column <= value,
        ">": lambda: column > value,
        ">=": lambda: column >= value,
        "=": lambda: column == value,
        "!=": lambda: column != value,
    }
    return comparisons[op]()  # type: ignore[no-any-return]


def attribute_column(key: str) -> Any:
    """The SQL expression of a run attribute named in RUN_ATTRIBUTES."""
    if key == "parent_run_id":
        parent = runs.alias("parent_run")
        return select(parent.c.run_id).where(parent.c.id == runs.c.parent_id).scalar_subquery()
    if key == "start_time":
        return func.coalesce(runs.c.start_time, runs.c.created_time)
    if key == "deleted":
        return case((runs.c.deleted_time.is_(None), literal("false")), else_=literal("true"))
    columns = {
        "run_id": runs.c.run_id,
        "display_name": runs.c.display_name,
        "status": runs.c.status,
        "submitted_by": runs.c.submitted_by,
        "description": runs.c.description,
        "experiment_id": runs.c.experiment_id,
        "end_time": runs.c.end_time,
    }
    if key not in columns:
        raise ValidationError(f"unknown run attribute {key!r}")
    return columns[key]


def _key_value(table: Any, cond: RunCondition, dialect: str) -> ColumnElement[bool]:
    # `id IN (runs with key = value)`, not a correlated EXISTS: the planner then reads the
    # (key, value, run) index once and fetches those runs, instead of probing every run.
    with_key = select(table.c.run_id).where(table.c.key == cond.key)
    if cond.op == "IS NULL":
        return runs.c.id.not_in(with_key)
    if cond.op == "IS NOT NULL":
        return runs.c.id.in_(with_key)
    return runs.c.id.in_(with_key.where(_compare(table.c.value, cond.op, cond.value, dialect)))


def condition_clause(cond: RunCondition, dialect: str) -> ColumnElement[bool]:
    """The WHERE clause of one condition on the runs table."""
    if cond.section == "metric":
        m = metrics.alias("cond_metric")
        found = select(m.c.id).where(
            m.c.run_id == runs.c.id, m.c.name == cond.key, m.c.column == "", m.c.kind == _SCALAR
        )
        if cond.op == "IS NULL":
            return not_(found.exists())
        if cond.op == "IS NOT NULL":
            return found.exists()
        return found.where(_compare(latest_value(m), cond.op, cond.value, dialect)).exists()
    if cond.section == "param":
        return _key_value(run_params, cond, dialect)
    if cond.section == "tag":
        return _key_value(run_tags, cond, dialect)
    if cond.section == "dataset":
        if cond.key not in ("name", "digest", "context"):
            raise ValidationError(f"unknown dataset field {cond.key!r}")
        column = run_inputs.c[cond.key]
        return (
            select(run_inputs.c.run_id)
            .where(run_inputs.c.run_id == runs.c.id, _compare(column, cond.op, cond.value, dialect))
            .exists()
        )
    return _compare(attribute_column(cond.key), cond.op, cond.value, dialect)


def conditions_clause(conds: Sequence[RunCondition], dialect: str) -> ColumnElement[bool]:
    """All conditions AND-ed, the ones an index answers first and the metrics' latest
    values (a probe per run) last."""
    ordered = sorted(conds, key=lambda c: c.section == "metric")
    return and_(*(condition_clause(c, dialect) for c in ordered))


def order_clauses(orders: Sequence[RunOrder]) -> list[Any]:
    """ORDER BY terms: each term with runs lacking it last, then start time (newest first)
    and run id, so pages never overlap."""
    clauses: list[Any] = []
    for order in orders:
        value: Any
        if order.section == "metric":
            m = metrics.alias("order_metric")
            value = (
                select(latest_value(m))
                .where(m.c.run_id == runs.c.id, m.c.name == order.key, m.c.column == "")
                .scalar_subquery()
            )
        elif order.section in ("param", "tag"):
            table = run_params if order.section == "param" else run_tags
            value = (
                select(table.c.value)
                .where(table.c.run_id == runs.c.id, table.c.key == order.key)
                .scalar_subquery()
            )
        else:
            value = attribute_column(order.key)
        clauses.append(case((value.is_(None), 1), else_=0))
        clauses.append(value.asc() if order.ascending else value.desc())
    clauses.append(func.coalesce(runs.c.start_time, runs.c.created_time).desc())
    clauses.append(runs.c.run_id.asc())
    return clauses

"""MLflow's experiments/search: filter on name, times and tags, order_by, pages. Workspaces
hold tens of experiments, not millions, so the filter runs over the listed experiments."""

from __future__ import annotations

import re
from typing import Any

from runyard.core.roles import Role
from runyard.mlflow import mapping
from runyard.mlflow.endpoints import Access, page_of, route, view_type
from runyard.mlflow.errors import invalid
from runyard.mlflow.search import NULL_OPS, NUMERIC_OPS, STRING_OPS, Clause, parse_clauses
from runyard.mlflow.search import parse_order_by as parse_order

_ATTRIBUTES = {
    "name": "name",
    "creation_time": "creation_time",
    "last_update_time": "last_update_time",
    "experiment_id": "experiment_id",
}
_NUMBERS = ("creation_time", "last_update_time")
SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS = 50_000


def _check(clauses: list[Clause]) -> None:
    for c in clauses:
        if c.entity not in ("attribute", "tag"):
            raise invalid(
                f"Invalid entity type '{c.entity}': experiments filter on attributes and tags"
            )
        if c.entity == "attribute" and c.key in _NUMBERS:
            if c.op not in NUMERIC_OPS or not isinstance(c.value, float):
                raise invalid(f"'{c.key}' compares with a number using one of {NUMERIC_OPS}")
        else:
            allowed = STRING_OPS + (NULL_OPS if c.entity == "tag" else ())
            if c.op not in allowed:
                raise invalid(f"Invalid comparator '{c.op}' not one of {list(allowed)}")
            if c.op not in NULL_OPS and not isinstance(c.value, str):
                raise invalid(f"Value for '{c.key}' must be a quoted string, got {c.value!r}")


def _like(value: str, pattern: str, ignore_case: bool) -> bool:
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return (
        re.fullmatch(body, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)
        is not None
    )


def _holds(experiment: dict[str, Any], c: Clause) -> bool:
    if c.entity == "tag":
        tags = {t["key"]: t["value"] for t in experiment["tags"]}
        actual: Any = tags.get(c.key)
    else:
        actual = experiment[c.key]
    if c.op == "IS NULL":
        return actual is None
    if c.op == "IS NOT NULL":
        return actual is not None
    if actual is None:
        return False
    if c.op in ("LIKE", "ILIKE"):
        return _like(str(actual), str(c.value), c.op == "ILIKE")
    comparisons = {
        "=": lambda: actual == c.value,
        "!=": lambda: actual != c.value,
        "<": lambda: actual < c.value,
        "<=": lambda: actual <= c.value,
        ">": lambda: actual > c.value,
        ">=": lambda: actual >= c.value,
    }
    return bool(comparisons[c.op]())


def _sort_key(experiment: dict[str, Any], key: str) -> Any:
    return int(experiment[key]) if key == "experiment_id" else experiment[key]


@route("POST", "experiments/search", Role.READER)
def search_experiments(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    view = view_type(body, "view_type")
    clauses = parse_clauses(body.get("filter"), _ATTRIBUTES)
    _check(clauses)
    orders = parse_order(body.get("order_by"), _ATTRIBUTES)
    for o in orders:
        if o.entity != "attribute":
            raise invalid(
                f"Invalid order_by entity '{o.entity}': experiments order by "
                f"{sorted(_ATTRIBUTES)} only"
            )
    found = [
        mapping.experiment_to_mlflow(info)
        for info in access.store.list_experiments(include_archived=True)
        if view == "ALL" or (view == "DELETED_ONLY") == info.archived
    ]
    found = [e for e in found if all(_holds(e, c) for c in clauses)]
    # MLflow's order: the terms given, then newest first, then by id.
    found.sort(key=lambda e: int(e["experiment_id"]))
    found.sort(key=lambda e: e["creation_time"], reverse=True)
    for o in reversed(orders):
        found.sort(key=lambda e, k=o.key: _sort_key(e, k), reverse=not o.ascending)  # type: ignore[misc]
    page, token = page_of(found, body, SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS)
    answer: dict[str, Any] = {"experiments": page}
    if token:
        answer["next_page_token"] = token
    return answer

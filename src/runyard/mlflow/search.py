"""MLflow's run search grammar: `metrics.loss < 0.5 AND params.lr = '0.01'`, and order_by.

This round evaluates the parsed filter over the runs of the asked experiments in Python
(correct first); pushing it down into store/search.py's SQL is the next step for speed.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from runyard.mlflow.errors import invalid

_ENTITY = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "parameters": "params",
    "parameter": "params",
    "tags": "tags",
    "tag": "tags",
    "attributes": "attributes",
    "attribute": "attributes",
    "attr": "attributes",
    "run": "attributes",
}
_STRING_ATTRIBUTES = {"run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"}
_NUMBER_ATTRIBUTES = {"start_time", "end_time", "created"}
_ATTRIBUTE_ALIASES = {"run_name": "run_name", "runName": "run_name", "created": "start_time"}
_OPS = ("<=", ">=", "!=", "=", "<", ">")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>!=|<=|>=|=|<|>|(?i:NOT\s+ILIKE|NOT\s+LIKE|ILIKE|LIKE)(?![A-Za-z0-9_.]))
      | (?P<ident>[A-Za-z_]+\.(?:`[^`]+`|"[^"]+"|[A-Za-z0-9_.\-/]+)|[A-Za-z_]+)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Clause:
    """One comparison: `<entity>.<key> <op> <value>`."""

    entity: str
    key: str
    op: str
    value: str | float


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`\"'":
        return text[1:-1]
    return text


def _split_identifier(ident: str) -> tuple[str, str]:
    if "." not in ident:
        entity, key = "attributes", ident
    else:
        prefix, key = ident.split(".", 1)
        if prefix not in _ENTITY:
            raise invalid(
                f"Invalid entity type '{prefix}'. Valid values are "
                "['metric', 'parameter', 'tag', 'attribute']"
            )
        entity = _ENTITY[prefix]
    key = _unquote(key)
    if entity == "attributes":
        key = _ATTRIBUTE_ALIASES.get(key, key)
        if key not in _STRING_ATTRIBUTES | _NUMBER_ATTRIBUTES:
            allowed = sorted(_STRING_ATTRIBUTES | _NUMBER_ATTRIBUTES)
            raise invalid(f"Invalid attribute key '{key}' specified. Valid keys are {allowed}")
    return entity, key


def parse_filter(text: str | None) -> list[Clause]:
    """The AND-ed clauses of an MLflow filter string (INVALID_PARAMETER_VALUE if malformed)."""
    if not text or not text.strip():
        return []
    clauses: list[Clause] = []
    for part in re.split(r"\s+(?i:AND)\s+", text.strip()):
        tokens = [(m.lastgroup, m.group(m.lastgroup or "")) for m in _TOKEN.finditer(part)]
        rebuilt = "".join(t for _, t in tokens).replace(" ", "")
        if len(tokens) != 3 or rebuilt != part.replace(" ", ""):
            raise invalid(f"Invalid filter '{text}': could not parse the clause '{part}'")
        (k1, ident), (k2, op), (k3, raw) = tokens
        if k1 != "ident" or k2 != "op" or k3 not in ("string", "number"):
            raise invalid(f"Invalid filter '{text}': expected '<entity>.<key> <op> <value>'")
        entity, key = _split_identifier(ident)
        op = " ".join(op.upper().split())
        numeric = entity == "metrics" or (entity == "attributes" and key in _NUMBER_ATTRIBUTES)
        if numeric:
            if k3 != "number":
                raise invalid(f"Expected numeric value type for metric or attribute '{key}'")
            if op not in _OPS:
                raise invalid(f"Invalid comparator '{op}' for a numeric comparison of '{key}'")
            clauses.append(Clause(entity, key, op, float(raw)))
        else:
            if k3 != "string":
                raise invalid(f"Value for '{key}' must be a quoted string, got {raw}")
            if op not in ("=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"):
                raise invalid(f"Invalid comparator '{op}' for a string comparison of '{key}'")
            clauses.append(Clause(entity, key, op, _unquote(raw)))
    return clauses


def _like(value: str, pattern: str, ignore_case: bool) -> bool:
    glob = "".join(
        "*" if c == "%" else "?" if c == "_" else f"[{c}]" if c in "*?[" else c for c in pattern
    )
    if ignore_case:
        value, glob = value.lower(), glob.lower()
    return fnmatch.fnmatchcase(value, glob)


def _compare(actual: Any, op: str, wanted: str | float) -> bool:
    if actual is None:
        return False
    if op in ("LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"):
        hit = _like(str(actual), str(wanted), "ILIKE" in op)
        return not hit if op.startswith("NOT") else hit
    if op == "=":
        return bool(actual == wanted)
    if op == "!=":
        return bool(actual != wanted)
    if op == "<":
        return bool(actual < wanted)
    if op == ">":
        return bool(actual > wanted)
    if op == "<=":
        return bool(actual <= wanted)
    return bool(actual >= wanted)


def field_of(run: dict[str, Any], entity: str, key: str) -> Any:
    """A run's value for an entity key, from the MLflow Run message (None if absent)."""
    if entity == "attributes":
        return run["info"].get(key)
    for item in run["data"][entity]:
        if item["key"] == key:
            value = item["value"]
            return float(value) if entity == "metrics" and not isinstance(value, str) else value
    return None


def matches(run: dict[str, Any], clauses: list[Clause]) -> bool:
    """Whether an MLflow Run message satisfies every clause."""
    return all(_compare(field_of(run, c.entity, c.key), c.op, c.value) for c in clauses)


@dataclass(frozen=True)
class Order:
    """One order_by term."""

    entity: str
    key: str
    ascending: bool


def parse_order_by(terms: list[str] | None) -> list[Order]:
    """MLflow's order_by: `metrics.loss ASC`, `attributes.start_time DESC`, `params.lr`."""
    orders = []
    for term in terms or []:
        parts = term.strip().rsplit(None, 1)
        ascending = True
        if len(parts) == 2 and parts[1].upper() in ("ASC", "DESC"):
            ascending = parts[1].upper() == "ASC"
            term = parts[0]
        entity, key = _split_identifier(term.strip())
        orders.append(Order(entity, key, ascending))
    return orders


def sort_runs(runs: list[dict[str, Any]], orders: list[Order]) -> list[dict[str, Any]]:
    """Runs in MLflow's order: the terms given, then start time descending, then run id.

    Runs missing a sort key come last whichever the direction, as in MLflow.
    """
    result = sorted(runs, key=lambda r: r["info"]["run_id"])
    result.sort(key=lambda r: r["info"]["start_time"] or 0, reverse=True)
    for order in reversed(orders):
        present = [r for r in result if field_of(r, order.entity, order.key) is not None]
        missing = [r for r in result if field_of(r, order.entity, order.key) is None]
        present.sort(
            key=lambda r: _sortable(field_of(r, order.entity, order.key)),
            reverse=not order.ascending,
        )
        result = present + missing
    return result


def _sortable(value: Any) -> Any:
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return value

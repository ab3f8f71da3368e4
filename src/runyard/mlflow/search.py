"""MLflow's search grammar, parsed: `metrics.loss < 0.5 AND params.lr = '0.01'`,
`attributes.run_id IN ('a', 'b')`, `datasets.context = 'training'`, `tags.x IS NULL`, and
order_by terms. What the parsed terms mean in runyard's store is mapping.py's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runyard.mlflow.errors import invalid

_ENTITY = {
    "metric": "metric",
    "metrics": "metric",
    "parameter": "param",
    "parameters": "param",
    "param": "param",
    "params": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "dataset": "dataset",
    "datasets": "dataset",
}
#: Run attributes MLflow searches on, with their spellings' canonical names.
RUN_STRING_ATTRIBUTES = {
    "run_id": "run_id",
    "run_name": "run_name",
    "run name": "run_name",
    "Run name": "run_name",
    "Run Name": "run_name",
    "status": "status",
    "user_id": "user_id",
    "artifact_uri": "artifact_uri",
    "lifecycle_stage": "lifecycle_stage",
}
RUN_NUMBER_ATTRIBUTES = {
    "start_time": "start_time",
    "end_time": "end_time",
    "created": "start_time",
    "Created": "start_time",
}
RUN_ORDER_ATTRIBUTES = {
    **RUN_NUMBER_ATTRIBUTES,
    "run_name": "run_name",
    "run_id": "run_id",
    "status": "status",
    "user_id": "user_id",
    "experiment_id": "experiment_id",
    "artifact_uri": "artifact_uri",
    "lifecycle_stage": "lifecycle_stage",
}
DATASET_KEYS = ("name", "digest", "context")
NUMERIC_OPS = ("<", "<=", ">", ">=", "=", "!=")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE")
NULL_OPS = ("IS NULL", "IS NOT NULL")
LIST_OPS = ("IN", "NOT IN")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>!=|<>|<=|>=|=|<|>)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![A-Za-z_])
      | (?P<punct>[(),])
      | (?P<ident>(?:[A-Za-z_][A-Za-z0-9_]*)(?:\.(?:`[^`]+`|"[^"]+"|[A-Za-z0-9_\-/:]+))*
                  |`[^`]+`)
      | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"AND", "IN", "NOT", "LIKE", "ILIKE", "IS", "NULL"}


@dataclass(frozen=True)
class Clause:
    """One comparison: `<entity>.<key> <op> <value>` (value: number, text or tuple of text)."""

    entity: str
    key: str
    op: str
    value: str | float | tuple[str, ...] | None


@dataclass(frozen=True)
class Order:
    """One order_by term."""

    entity: str
    key: str
    ascending: bool


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`\"'":
        inner = text[1:-1]
        return re.sub(r"\\(.)", r"\1", inner) if text[0] in "'\"" else inner
    return text


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "bad"
        value = m.group(kind)
        if kind == "bad":
            raise invalid(f"Invalid filter '{text}': unexpected character {value!r}")
        if kind == "ident" and value.upper() in _KEYWORDS:
            kind, value = "keyword", value.upper()
        found.append((kind, value))
    return found


def split_identifier(ident: str, attributes: dict[str, str]) -> tuple[str, str]:
    """(entity, key) of `metrics.loss`, `tags."my tag"`, `run_name` (a bare attribute)."""
    if "." not in ident or ident.startswith("`"):
        entity, key = "attribute", _unquote(ident)
    else:
        prefix, key = ident.split(".", 1)
        if prefix not in _ENTITY:
            raise invalid(
                f"Invalid entity type '{prefix}'. Valid values are "
                "['metric', 'parameter', 'tag', 'attribute', 'dataset']"
            )
        entity, key = _ENTITY[prefix], _unquote(key)
    if entity == "attribute":
        if key not in attributes:
            raise invalid(
                f"Invalid attribute key '{key}' specified. Valid keys are "
                f"{sorted(set(attributes.values()))}"
            )
        key = attributes[key]
    if entity == "dataset" and key not in DATASET_KEYS:
        raise invalid(f"Invalid dataset key '{key}' specified. Valid keys are {list(DATASET_KEYS)}")
    return entity, key


def _comparator(tokens: list[tuple[str, str]], i: int, text: str) -> tuple[str, int]:
    kind, value = tokens[i] if i < len(tokens) else ("end", "")
    if kind == "op":
        return ("!=" if value == "<>" else value), i + 1
    words = []
    while i < len(tokens) and tokens[i][0] == "keyword" and tokens[i][1] != "AND":
        words.append(tokens[i][1])
        i += 1
    op = " ".join(words)
    if op in ("LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"):
        return op, i
    raise invalid(f"Invalid filter '{text}': expected a comparison operator, got {op or value!r}")


def _value(tokens: list[tuple[str, str]], i: int, text: str) -> tuple[object, int]:
    kind, value = tokens[i] if i < len(tokens) else ("end", "")
    if kind == "string":
        return _unquote(value), i + 1
    if kind == "number":
        return float(value), i + 1
    if kind == "punct" and value == "(":
        items: list[str] = []
        i += 1
        while True:
            kind, value = tokens[i] if i < len(tokens) else ("end", "")
            if kind != "string":
                raise invalid(f"Invalid filter '{text}': a list holds quoted strings only")
            items.append(_unquote(value))
            kind, value = tokens[i + 1] if i + 1 < len(tokens) else ("end", "")
            i += 2
            if value == ")":
                return tuple(items), i
            if value != ",":
                raise invalid(f"Invalid filter '{text}': expected ',' or ')' in a list")
    raise invalid(f"Invalid filter '{text}': expected a value, got {value or 'nothing'!r}")


def parse_clauses(text: str | None, attributes: dict[str, str]) -> list[Clause]:
    """The AND-ed clauses of a filter string, comparators checked for shape only."""
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    clauses: list[Clause] = []
    i = 0
    while True:
        kind, ident = tokens[i] if i < len(tokens) else ("end", "")
        if kind != "ident":
            raise invalid(f"Invalid filter '{text}': expected '<entity>.<key> <op> <value>'")
        entity, key = split_identifier(ident, attributes)
        op, i = _comparator(tokens, i + 1, text)
        value: object = None
        if op not in NULL_OPS:
            value, i = _value(tokens, i, text)
        if op in LIST_OPS and not isinstance(value, tuple):
            raise invalid(f"Invalid filter '{text}': {op} takes a list like ('a', 'b')")
        if op not in LIST_OPS and isinstance(value, tuple):
            raise invalid(f"Invalid filter '{text}': a list goes with IN or NOT IN only")
        clauses.append(Clause(entity, key, op, value))  # type: ignore[arg-type]
        if i == len(tokens):
            return clauses
        if tokens[i] != ("keyword", "AND"):
            raise invalid(f"Invalid filter '{text}': clauses are joined with AND only")
        i += 1


def parse_run_filter(text: str | None) -> list[Clause]:
    """A search_runs filter, with each comparator checked against what MLflow allows."""
    clauses = parse_clauses(text, {**RUN_STRING_ATTRIBUTES, **RUN_NUMBER_ATTRIBUTES})
    for c in clauses:
        numeric = c.entity == "metric" or (
            c.entity == "attribute" and c.key in RUN_NUMBER_ATTRIBUTES.values()
        )
        if numeric:
            allowed: tuple[str, ...] = NUMERIC_OPS + (NULL_OPS if c.entity == "metric" else ())
            if c.op not in allowed:
                raise invalid(
                    f"Invalid comparator '{c.op}' not one of {list(allowed)} for '{c.key}'"
                )
            if c.op not in NULL_OPS and not isinstance(c.value, float):
                raise invalid(f"Expected numeric value type for metric or attribute '{c.key}'")
            continue
        if c.entity in ("param", "tag"):
            allowed = STRING_OPS + NULL_OPS
        elif c.entity == "dataset":
            allowed = STRING_OPS + LIST_OPS
        else:
            allowed = STRING_OPS + (LIST_OPS if c.key == "run_id" else ())
        if c.op not in allowed:
            raise invalid(f"Invalid comparator '{c.op}' not one of {list(allowed)} for '{c.key}'")
        if c.op not in NULL_OPS + LIST_OPS and not isinstance(c.value, str):
            raise invalid(
                f"Value for '{c.entity}.{c.key}' must be a quoted string, got {c.value!r}"
            )
    return clauses


def parse_order_by(terms: object, attributes: dict[str, str]) -> list[Order]:
    """order_by terms: `metrics.loss ASC`, `attributes.start_time DESC`, `params.lr`."""
    if terms is None:
        return []
    if isinstance(terms, str):
        terms = [terms]
    if not isinstance(terms, list):
        raise invalid("Invalid value for parameter 'order_by': expected a list of strings")
    orders = []
    for term in terms:
        if not isinstance(term, str) or not term.strip():
            raise invalid(f"Invalid order_by clause {term!r}")
        parts = term.strip().rsplit(None, 1)
        ascending = True
        text = term.strip()
        if len(parts) == 2 and parts[1].upper() in ("ASC", "DESC"):
            ascending = parts[1].upper() == "ASC"
            text = parts[0].strip()
        tokens = _tokens(text)
        if len(tokens) != 1 or tokens[0][0] != "ident":
            raise invalid(
                f"Invalid order_by clause '{term}'. Could not be parsed: expected "
                "'<entity>.<key> [ASC|DESC]'"
            )
        entity, key = split_identifier(tokens[0][1], attributes)
        if entity == "dataset":
            raise invalid(f"Invalid order_by clause '{term}': datasets cannot be sorted on")
        orders.append(Order(entity, key, ascending))
    return orders

"""MLflow's registry search grammar: `name LIKE 'iris%' AND tags.team = 'vision'`,
`run_id IN ('a', 'b')`, `version_number > 2`, and order_by over the registry's keys.

Its own small parser (the run search grammar has no IN lists nor registry attributes).
Filters are evaluated over the MLflow messages in Python: a workspace's registry is small.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runyard.mlflow.errors import invalid

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>!=|<=|>=|=|<|>|(?i:NOT\s+ILIKE|NOT\s+LIKE|NOT\s+IN|ILIKE|LIKE|IN)(?![A-Za-z0-9_.]))
      | (?P<list>\(\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
            (?:\s*,\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))*\s*\))
      | (?P<ident>[A-Za-z_]+\.(?:`[^`]+`|"[^"]+"|[A-Za-z0-9_.\-/]+)|[A-Za-z_]+)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>[-+]?\d+)
    )""",
    re.VERBOSE,
)
#: The tag marking MLflow prompts; clients search with `tag.`<it>` != 'true'`.
PROMPT_TAG = "mlflow.prompt.is_prompt"
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
_TAG_OPS = ("=", "!=", "LIKE", "ILIKE")
_NUMBER_OPS = ("=", "!=", "<", ">", "<=", ">=")

#: Attribute keys by what is searched: string ones, numeric ones, those taking IN lists.
MODEL_KEYS = ({"name"}, set[str](), {"name"})
VERSION_KEYS = (
    {"name", "run_id", "source_path"},
    {"version_number", "creation_timestamp", "last_updated_timestamp"},
    {"name", "run_id"},
)


@dataclass(frozen=True)
class Clause:
    """One comparison: an attribute or `tags.<key>`, an operator and a value."""

    tag: bool
    key: str
    op: str
    value: str | int | tuple[str, ...]


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`\"'":
        return text[1:-1]
    return text


def parse_filter(text: object, keys: tuple[set[str], set[str], set[str]]) -> list[Clause]:
    """The AND-ed clauses of a registry filter (INVALID_PARAMETER_VALUE if malformed)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return []
    if not isinstance(text, str):
        raise invalid(f"Invalid value {text!r} for parameter 'filter': expected a string")
    strings, numbers, lists = keys
    clauses: list[Clause] = []
    for part in re.split(r"\s+(?i:AND)\s+", text.strip()):
        tokens = [(m.lastgroup, m.group(m.lastgroup or "")) for m in _TOKEN.finditer(part)]
        rebuilt = "".join(t for _, t in tokens).replace(" ", "")
        if len(tokens) != 3 or rebuilt != part.replace(" ", ""):
            raise invalid(f"Invalid filter '{text}': could not parse the clause '{part}'")
        (k1, ident), (k2, op), (k3, raw) = tokens
        if k1 != "ident" or k2 != "op":
            raise invalid(f"Invalid filter '{text}': expected '<key> <comparator> <value>'")
        op = " ".join(op.upper().split())
        prefix, dot, rest = ident.partition(".")
        if dot:
            if prefix not in ("tags", "tag"):
                raise invalid(f"Invalid entity type '{prefix}'. Valid values are ['tag']")
            if op not in _TAG_OPS or k3 != "string":
                raise invalid(
                    f"Invalid filter '{text}': a tag is compared with {', '.join(_TAG_OPS)} "
                    "to a quoted string"
                )
            clauses.append(Clause(True, _unquote(rest), op, _unquote(raw)))
            continue
        key = ident
        if key in numbers:
            if op not in _NUMBER_OPS or k3 != "number":
                raise invalid(
                    f"Invalid comparator for attribute {key}: {op} (numeric attributes take "
                    f"{', '.join(_NUMBER_OPS)} and a whole number)"
                )
            clauses.append(Clause(False, key, op, int(raw)))
        elif key in strings:
            if op not in _STRING_OPS or (op in ("IN", "NOT IN")) != (k3 == "list"):
                raise invalid(f"Invalid comparator for attribute: {op}")
            if op in ("IN", "NOT IN"):
                if key not in lists:
                    raise invalid(f"Invalid comparator for attribute: {op}")
                items = re.findall(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", raw)
                clauses.append(Clause(False, key, op, tuple(_unquote(i) for i in items)))
            elif k3 != "string":
                raise invalid(f"Invalid filter '{text}': the value of '{key}' must be quoted")
            else:
                clauses.append(Clause(False, key, op, _unquote(raw)))
        else:
            raise invalid(f"Invalid attribute name: {key}")
    return clauses


def _like(value: str, pattern: str, ignore_case: bool) -> bool:
    """SQL LIKE: % any run of characters, _ any one character."""
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _compare(actual: Any, op: str, wanted: str | int | tuple[str, ...]) -> bool:
    if op in ("IN", "NOT IN"):
        assert isinstance(wanted, tuple)
        return (actual in wanted) == (op == "IN")
    if actual is None:
        return op == "!="
    if op in ("LIKE", "ILIKE"):
        return _like(str(actual), str(wanted), op == "ILIKE")
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


def _attribute(message: dict[str, Any], key: str) -> Any:
    if key == "version_number":
        return int(message["version"])
    if key == "source_path":
        return message.get("source")
    return message.get(key)


def matches(message: dict[str, Any], clauses: list[Clause]) -> bool:
    """Whether an MLflow RegisteredModel or ModelVersion message satisfies every clause."""
    for clause in clauses:
        if clause.tag:
            tags = {t["key"]: t["value"] for t in message.get("tags", [])}
            if clause.key not in tags:
                # MLflow: a tag filter needs the tag, except the clause excluding prompts
                # that its clients add to every search.
                if clause.key == PROMPT_TAG and clause.op == "!=":
                    continue
                return False
            actual: Any = tags[clause.key]
        else:
            actual = _attribute(message, clause.key)
        if not _compare(actual, clause.op, clause.value):
            return False
    return True


def parse_order_by(
    terms: object, allowed: set[str], aliases: dict[str, str] | None = None
) -> list[tuple[str, bool]]:
    """order_by terms as (key, ascending); INVALID_PARAMETER_VALUE for unknown or repeated
    keys."""
    if terms is None:
        return []
    if isinstance(terms, str):
        terms = [terms]
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise invalid(f"Invalid value {terms!r} for parameter 'order_by': expected strings")
    orders: list[tuple[str, bool]] = []
    for term in terms:
        parts = term.strip().split()
        ascending = True
        if len(parts) == 2 and parts[1].upper() in ("ASC", "DESC"):
            ascending = parts[1].upper() == "ASC"
        elif len(parts) != 1:
            raise invalid(f"Invalid order_by clause '{term}'")
        key = parts[0].removeprefix("attributes.").removeprefix("attribute.")
        key = (aliases or {}).get(key, key)
        if key not in allowed:
            raise invalid(
                f"Invalid order by key '{parts[0]}' specified. Valid keys are {sorted(allowed)}"
            )
        if key in (k for k, _ in orders):
            raise invalid(f"`order_by` contains duplicate fields: {terms}")
        orders.append((key, ascending))
    return orders


def sort_messages(
    messages: list[dict[str, Any]], orders: list[tuple[str, bool]]
) -> list[dict[str, Any]]:
    """Messages sorted by the terms given (stable: later terms break earlier ties)."""
    result = list(messages)
    for key, ascending in reversed(orders):
        result.sort(key=lambda m: _attribute(m, key) or 0, reverse=not ascending)
    return result

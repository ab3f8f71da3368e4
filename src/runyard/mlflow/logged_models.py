"""MLflow 3's logged-model endpoints (create, get, finalize, delete, search, tags, params)
and the run links the client makes (`runs/outputs`), over runyard's store."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from runyard.core.errors import NotFoundError, ValidationError
from runyard.core.logged_models import LoggedModel, ModelLink
from runyard.core.roles import Role
from runyard.mlflow import mapping
from runyard.mlflow.artifact_paths import locate, logged_model_artifact_uri, safe_path
from runyard.mlflow.artifacts import list_entries
from runyard.mlflow.endpoints import Access, integer, page_of, route, string
from runyard.mlflow.errors import MlflowError, invalid
from runyard.store.base import LoggedModelStore

MAX_RESULTS_SEARCH = 100
_ATTRIBUTES = {
    "name": "name",
    "model_id": "model_id",
    "model_type": "model_type",
    "status": "status",
    "source_run_id": "source_run_id",
    "creation_timestamp": "creation_timestamp_ms",
    "creation_time": "creation_timestamp_ms",
    "last_updated_timestamp": "last_updated_timestamp_ms",
}
_CLAUSE = re.compile(
    r"""\s*(?P<key>[A-Za-z_]+(?:\.(?:`[^`]+`|"[^"]+"|[A-Za-z0-9_.\-/]+))?)
        \s*(?P<op>!=|<=|>=|=|<|>|(?i:NOT\s+LIKE|ILIKE|LIKE))
        \s*(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[-+]?\d+(?:\.\d+)?)\s*""",
    re.VERBOSE,
)
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


def _models(access: Access) -> LoggedModelStore:
    store = access.store
    if not isinstance(store, LoggedModelStore):
        raise MlflowError("ENDPOINT_NOT_FOUND", "this store keeps no logged models")
    return store


def _experiment_name(access: Access, experiment_id: object) -> str:
    try:
        number = mapping.experiment_id_to_runyard(str(experiment_id))
    except ValueError as exc:
        raise invalid(str(exc)) from None
    for info in access.store.list_experiments(include_archived=True):
        if info.experiment_id == number:
            return info.name
    raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={experiment_id} exists")


def _key_values(items: object, what: str) -> dict[str, str]:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise invalid(f"Invalid value for parameter '{what}': expected a list of key/values")
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            raise invalid(f"Invalid {what} entry {item!r}: expected {{'key': ..., 'value': ...}}")
        value = item.get("value")
        out[item["key"]] = "" if value is None else str(value)
    return out


def _get(access: Access, model_id: str) -> LoggedModel:
    try:
        return _models(access).get_logged_model(model_id)
    except (NotFoundError, ValidationError):
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"Logged model with ID '{model_id}' not found."
        ) from None


def _answer(model: LoggedModel) -> dict[str, Any]:
    return {"model": mapping.logged_model_to_mlflow(model)}


@route("POST", "logged-models", Role.CONTRIBUTOR)
def create_logged_model(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    experiment = _experiment_name(access, string(body, "experiment_id"))
    name = string(body, "name", required=False) or f"model-{uuid.uuid4().hex[:8]}"
    source_run_id = string(body, "source_run_id", required=False) or None
    try:
        model = _models(access).create_logged_model(
            experiment,
            name,
            source_run_id=source_run_id,
            model_type=string(body, "model_type", required=False) or None,
            tags=_key_values(body.get("tags"), "tags"),
            params=_key_values(body.get("params"), "params"),
        )
    except NotFoundError:
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Run '{source_run_id}' not found") from None
    return _answer(model)


@route("GET", "logged-models/{model_id}", Role.READER)
def get_logged_model(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    return _answer(_get(access, str(body["model_id"])))


@route("PATCH", "logged-models/{model_id}", Role.CONTRIBUTOR)
def finalize_logged_model(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    model = _get(access, str(body["model_id"]))
    try:
        status = mapping.logged_model_status_to_runyard(body.get("status"))
    except ValueError as exc:
        raise invalid(str(exc)) from None
    return _answer(_models(access).update_logged_model(model.model_id, status=status))


@route("DELETE", "logged-models/{model_id}", Role.CONTRIBUTOR)
def delete_logged_model(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    model = _get(access, str(body["model_id"]))
    _models(access).update_logged_model(model.model_id, deleted=True)
    return {}


@route("PATCH", "logged-models/{model_id}/tags", Role.CONTRIBUTOR)
def set_logged_model_tags(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    model = _get(access, str(body["model_id"]))
    tags = _key_values(body.get("tags"), "tags")
    _models(access).update_logged_model(model.model_id, tags=tags)
    return {}


@route("DELETE", "logged-models/{model_id}/tags/{tag_key}", Role.CONTRIBUTOR)
def delete_logged_model_tag(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    model = _get(access, str(body["model_id"]))
    key = str(body["tag_key"])
    if key not in model.tags:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"No tag with key {key!r} on logged model {model.model_id}"
        )
    _models(access).update_logged_model(model.model_id, remove_tags=[key])
    return {}


@route("POST", "logged-models/{model_id}/params", Role.CONTRIBUTOR)
def log_logged_model_params(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    model = _get(access, str(body["model_id"]))
    params = _key_values(body.get("params"), "params")
    _models(access).update_logged_model(model.model_id, params=params)
    return {}


@route("GET", "logged-models/{model_id}/artifacts/directories", Role.READER)
def list_logged_model_artifacts(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    model = _get(access, str(body["model_id"]))
    under = safe_path(str(body.get("artifact_directory_path") or ""))
    where = locate(access, f"logged-models/{model.model_id}/artifacts/{under}".rstrip("/"))
    files = [
        {**e, "path": f"{where.name}/{e['path']}" if where.name else e["path"]}
        for e in list_entries(access, where)
    ]
    return {"root_uri": logged_model_artifact_uri(model.model_id), "files": files}


def _parse_filter(text: object) -> list[tuple[str, str, str, str | float]]:
    """`name = 'x' AND tags.k != 'v'` -> (entity, key, op, value) clauses."""
    if not text:
        return []
    if not isinstance(text, str):
        raise invalid(f"Invalid filter {text!r}: expected a string")
    clauses: list[tuple[str, str, str, str | float]] = []
    for part in _AND.split(text.strip()):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise invalid(
                f"Invalid filter clause {part!r}: expected `<key> <op> <value>` with keys "
                f"{', '.join(sorted(_ATTRIBUTES))}, params.<name> or tags.<name>"
            )
        key, op, raw = match.group("key"), match.group("op").upper(), match.group("value")
        entity, _, name = key.partition(".")
        if not name:
            entity, name = "attributes", key
        elif entity in ("attribute", "attributes"):
            entity = "attributes"
        elif entity in ("param", "params", "tag", "tags"):
            entity = entity.rstrip("s") + "s"
        else:
            raise invalid(f"Invalid entity {entity!r} in logged model filter")
        name = name.strip('`"')
        if entity == "attributes" and name not in _ATTRIBUTES:
            raise invalid(f"Invalid attribute {name!r}; allowed: {', '.join(sorted(_ATTRIBUTES))}")
        value: str | float = raw[1:-1] if raw[0] in "'\"" else float(raw)
        clauses.append((entity, name, op, value))
    return clauses


def _like(value: str, pattern: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _holds(actual: Any, op: str, wanted: str | float) -> bool:
    if actual is None:
        return False
    if op in ("LIKE", "ILIKE", "NOT LIKE"):
        hit = _like(str(actual), str(wanted), op == "ILIKE")
        return not hit if op == "NOT LIKE" else hit
    if isinstance(wanted, float):
        try:
            return _ordered(float(actual), op, wanted)
        except (TypeError, ValueError):
            return False
    if isinstance(wanted, str):
        return _ordered(str(actual), op, wanted)
    return False


def _ordered(actual: Any, op: str, wanted: Any) -> bool:
    if op == "=":
        return bool(actual == wanted)
    if op == "!=":
        return bool(actual != wanted)
    if op == "<":
        return bool(actual < wanted)
    if op == "<=":
        return bool(actual <= wanted)
    if op == ">":
        return bool(actual > wanted)
    return bool(actual >= wanted)


def _matches(message: dict[str, Any], clauses: list[tuple[str, str, str, str | float]]) -> bool:
    info = message["info"]
    for entity, name, op, value in clauses:
        if entity == "attributes":
            field = _ATTRIBUTES[name]
            actual = info.get(field)
            if field == "status" and isinstance(actual, str):
                actual = actual.removeprefix("LOGGED_MODEL_")
                value = str(value).removeprefix("LOGGED_MODEL_")
        else:
            items = info["tags"] if entity == "tags" else message["data"]["params"]
            actual = next((i["value"] for i in items if i["key"] == name), None)
        if not _holds(actual, op, value):
            return False
    return True


def _sort_key(field: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    def key(message: dict[str, Any]) -> tuple[bool, Any]:
        value = message["info"].get(field)
        return value is None, value if value is not None else ""

    return key


@route("POST", "logged-models/search", Role.READER)
def search_logged_models(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    ids = body.get("experiment_ids") or []
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not ids:
        raise invalid("Missing value for required parameter 'experiment_ids'.")
    names = [_experiment_name(access, i) for i in ids]
    clauses = _parse_filter(body.get("filter"))
    found = [
        message
        for message in map(
            mapping.logged_model_to_mlflow, _models(access).list_logged_models(names)
        )
        if _matches(message, clauses)
    ]
    for order in reversed(body.get("order_by") or []):
        if not isinstance(order, dict) or order.get("field_name") not in _ATTRIBUTES:
            raise invalid(
                f"Invalid order_by {order!r}: field_name is one of {', '.join(sorted(_ATTRIBUTES))}"
            )
        found.sort(
            key=_sort_key(_ATTRIBUTES[order["field_name"]]),
            reverse=not order.get("ascending", True),
        )
    page, token = page_of(found, body, MAX_RESULTS_SEARCH, MAX_RESULTS_SEARCH)
    answer: dict[str, Any] = {"models": page}
    if token:
        answer["next_page_token"] = token
    return answer


def _links(body: dict[str, Any], direction: str) -> list[ModelLink]:
    run_id = string(body, "run_id")
    assert run_id is not None
    models = body.get("models") or []
    if not isinstance(models, list):
        raise invalid("Invalid value for parameter 'models': expected a list")
    links = []
    for item in models:
        if not isinstance(item, dict) or not isinstance(item.get("model_id"), str):
            raise invalid(f"Invalid model entry {item!r}: expected {{'model_id': ...}}")
        step = integer(item, "step", 0)
        links.append(ModelLink(run_id, item["model_id"], direction, step or 0))
    return links


def record_model_links(access: Access, links: list[ModelLink]) -> None:
    """Store a run's model inputs or outputs (log-inputs' `models` field comes here too)."""
    if not links:
        return
    try:
        _models(access).link_logged_models(links)
    except (NotFoundError, ValidationError) as exc:
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", str(exc)) from None


@route("POST", "runs/outputs", Role.CONTRIBUTOR)
def log_outputs(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    record_model_links(access, _links(body, "output"))
    return {}

"""MLflow's model registry endpoints over runyard's models (mlflow/mapping.py says how a
registered model and its versions are runyard's).

A version created here copies its source's files into the version's own prefix before it
is recorded, exactly as runyard's `run.register_model` does, so a download never reads
the run's files. Renames and deletes of whole models are owners' (like experiments').
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import urllib.parse
from typing import Any, NamedTuple

from runyard.artifacts.models import StagedModel, copy_stored_files, staged_model
from runyard.core.errors import ModelNotFoundError, NotFoundError, RunyardError
from runyard.core.paths import run_prefix
from runyard.core.registry import (
    MAX_MODEL_FILES,
    ModelFilter,
    ModelVersion,
    NewModelVersion,
    VersionOrigin,
    validate_model_name,
)
from runyard.core.roles import Role
from runyard.core.tags import validate_tags
from runyard.mlflow import logged_models, mapping
from runyard.mlflow.artifact_paths import Located, artifact_root, locate
from runyard.mlflow.endpoints import Access, integer, route, string
from runyard.mlflow.errors import MlflowError, invalid
from runyard.mlflow.registry_search import (
    MODEL_KEYS,
    VERSION_KEYS,
    matches,
    parse_filter,
    parse_order_by,
    sort_messages,
)

#: MLflow's search limits (mlflow/store/model_registry/__init__.py).
SEARCH_MODELS_DEFAULT = 100
SEARCH_MODELS_MOST = 1000
SEARCH_VERSIONS_DEFAULT = 10_000
SEARCH_VERSIONS_MOST = 200_000
#: MLflow's alias rules (mlflow/utils/validation.py).
_ALIAS = re.compile(r"[\w\-]*")
_VERSION_ALIAS = re.compile(r"[vV]\d+")
MAX_ALIAS_LENGTH = 255


class Source(NamedTuple):
    """Where a new version's files come from, and what MLflow records of it."""

    prefix: str
    #: The file or folder within the prefix ("" for all of it: a logged model's location).
    path: str
    run_id: str | None
    model_id: str | None
    #: The source as MLflow records it (another version's URI names its number).
    uri: str


#: The folder a version keeps a whole location's files in (a logged model's).
WHOLE_FOLDER = "model"


# Arguments
def _whole(text: str) -> bool:
    """A whole number in ASCII digits (str.isdigit also takes '²', which int refuses)."""
    return text.isascii() and text.isdigit()


def _name(body: dict[str, Any], key: str = "name") -> str:
    name = string(body, key)
    assert name is not None
    if "/" in name or ":" in name:
        raise invalid(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    try:
        return validate_model_name(name)
    except RunyardError as exc:
        raise invalid(str(exc)) from None


def _version(body: dict[str, Any]) -> int:
    raw = body.get("version")
    if raw is None or raw == "":
        raise invalid("Missing value for required parameter 'version'.")
    text = str(raw)
    if isinstance(raw, bool) or not _whole(text) or int(text) < 1:
        raise invalid(f"Parameter 'version' must be an integer, got '{raw}'.")
    return int(text)


def _tags(access: Access, given: object) -> dict[str, str | None]:
    """MLflow's tag list `[{"key": k, "value": v}]` as runyard tags (checked)."""
    if given is None:
        return {}
    if not isinstance(given, list):
        raise invalid(f"Invalid value {given!r} for parameter 'tags': expected a list")
    tags: dict[str, str | None] = {}
    for item in given:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise invalid(f"Invalid tag {item!r}: expected {{'key': ..., 'value': ...}}")
        value = item.get("value")
        if value is not None and not isinstance(value, str):
            raise invalid(f"Invalid value {value!r} of tag '{item['key']}': expected a string")
        tags[item["key"]] = value or ""
    return _checked_tags(access, tags)


def _checked_tags(access: Access, tags: dict[str, str | None]) -> dict[str, str | None]:
    try:
        return validate_tags(tags, access.store.limits)
    except RunyardError as exc:
        raise invalid(str(exc)) from None


def _alias(body: dict[str, Any], *, setting: bool) -> str:
    alias = string(body, "alias")
    assert alias is not None
    if not _ALIAS.fullmatch(alias):
        raise invalid(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-)."
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise invalid(
            f"Registered model alias name '{alias[:32]}...' had length {len(alias)}, which "
            f"exceeded length limit of {MAX_ALIAS_LENGTH}"
        )
    if setting and alias.lower() == "latest":
        raise invalid("'latest' alias name (case insensitive) is reserved.")
    if setting and _VERSION_ALIAS.fullmatch(alias):
        raise invalid(f"Version alias name '{alias}' is reserved.")
    return alias


def _page(
    items: list[dict[str, Any]], body: dict[str, Any], default: int, most: int
) -> tuple[list[dict[str, Any]], str]:
    """One page of a search; page tokens are offsets as text."""
    max_results = integer(body, "max_results", default)
    assert max_results is not None
    if max_results < 1 or max_results > most:
        raise invalid(
            "Invalid value for request parameter max_results. It must be at most "
            f"{most}, but got value {max_results}"
            if max_results > most
            else f"Invalid value for max_results. It must be a positive integer, but got "
            f"{max_results}"
        )
    token = body.get("page_token") or "0"
    if not _whole(str(token)):
        raise invalid(f"Invalid page token, could not base64-decode: {token!r}")
    start = int(token)
    end = start + max_results
    return items[start:end], (str(end) if end < len(items) else "")


# Lookups with MLflow's messages
def _registered(access: Access, name: str) -> Any:
    try:
        return access.models.get_registered_model(name)
    except ModelNotFoundError:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={name} not found"
        ) from None


def _model_version(access: Access, name: str, version: int) -> ModelVersion:
    try:
        return access.models.get_model_version(name, version)
    except ModelNotFoundError:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"Model Version (name={name}, version={version}) not found"
        ) from None


def _versions_of(access: Access, name: str) -> list[ModelVersion]:
    return access.models.list_model_versions(ModelFilter(name=name))


def _model_message(access: Access, name: str) -> dict[str, Any]:
    model = _registered(access, name)
    return mapping.registered_model_to_mlflow(model, _versions_of(access, name))


def _version_message(access: Access, name: str, version: int) -> dict[str, Any]:
    return mapping.model_version_to_mlflow(_model_version(access, name, version))


# Registered models
@route("POST", "registered-models/create", Role.CONTRIBUTOR)
def create_registered_model(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    tags = _tags(access, body.get("tags"))
    description = string(body, "description", required=False)
    try:
        model = access.models.create_registered_model(name, description or None, tags)
    except RunyardError as exc:
        if exc.http_status == 409:
            raise MlflowError(
                "RESOURCE_ALREADY_EXISTS", f"Registered Model (name={name}) already exists."
            ) from None
        raise
    return {"registered_model": mapping.registered_model_to_mlflow(model, [])}


@route("GET", "registered-models/get", Role.READER)
def get_registered_model(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    return {"registered_model": _model_message(access, _name(body))}


@route("PATCH", "registered-models/update", Role.CONTRIBUTOR)
def update_registered_model(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    description = string(body, "description", required=False)
    _registered(access, name)
    access.models.update_registered_model(name, description or None)
    return {"registered_model": _model_message(access, name)}


@route("POST", "registered-models/rename", Role.OWNER)
def rename_registered_model(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    new_name = _name(body, "new_name")
    _registered(access, name)
    try:
        access.models.rename_registered_model(name, new_name)
    except RunyardError as exc:
        if exc.http_status == 409:
            raise MlflowError(
                "RESOURCE_ALREADY_EXISTS", f"Registered Model (name={new_name}) already exists."
            ) from None
        raise
    return {"registered_model": _model_message(access, new_name)}


@route("DELETE", "registered-models/delete", Role.OWNER)
def delete_registered_model(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    _registered(access, name)
    for version in access.models.delete_registered_model(name):
        _delete_files(access, version)
    return {}


@route("GET", "registered-models/search", Role.READER)
def search_registered_models(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    clauses = parse_filter(body.get("filter"), MODEL_KEYS)
    orders = parse_order_by(
        body.get("order_by"),
        {"name", "last_updated_timestamp"},
        {"timestamp": "last_updated_timestamp", "creation_timestamp": "last_updated_timestamp"},
    )
    if "name" not in (key for key, _ in orders):
        orders.append(("name", True))
    versions: dict[str, list[ModelVersion]] = {}
    for version in access.models.list_model_versions():
        versions.setdefault(version.name, []).append(version)
    found = [
        message
        for model in access.models.list_registered_models()
        if matches(
            message := mapping.registered_model_to_mlflow(model, versions.get(model.name, [])),
            clauses,
        )
    ]
    page, token = _page(
        sort_messages(found, orders), body, SEARCH_MODELS_DEFAULT, SEARCH_MODELS_MOST
    )
    answer: dict[str, Any] = {"registered_models": page}
    if token:
        answer["next_page_token"] = token
    return answer


@route("POST", "registered-models/get-latest-versions", Role.READER)
def get_latest_versions(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    stages = body.get("stages") or []
    if isinstance(stages, str):
        stages = [stages]
    if not isinstance(stages, list):
        raise invalid(f"Invalid value {stages!r} for parameter 'stages': expected a list")
    try:
        wanted = {mapping.canonical_stage(str(s)) for s in stages} or set(mapping.STAGES)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    _registered(access, name)
    latest = mapping.latest_per_stage(_versions_of(access, name))
    return {
        "model_versions": [
            mapping.model_version_to_mlflow(v) for v in latest if (v.stage or "None") in wanted
        ]
    }


@route("POST", "registered-models/set-tag", Role.CONTRIBUTOR)
def set_registered_model_tag(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    key = string(body, "key")
    assert key is not None
    value = string(body, "value", required=False) or ""
    tags = _checked_tags(access, {key: value})
    _registered(access, name)
    access.models.set_registered_model_tags(name, tags)
    return {}


@route("DELETE", "registered-models/delete-tag", Role.CONTRIBUTOR)
def delete_registered_model_tag(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    key = string(body, "key")
    assert key is not None
    _registered(access, name)
    access.models.remove_registered_model_tags(name, [key])
    return {}


# Aliases
@route("POST", "registered-models/alias", Role.CONTRIBUTOR)
def set_registered_model_alias(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    alias = _alias(body, setting=True)
    version = _version(body)
    _model_version(access, name, version)
    access.models.set_model_alias(name, alias, version)
    return {}


@route("DELETE", "registered-models/alias", Role.CONTRIBUTOR)
def delete_registered_model_alias(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    alias = _alias(body, setting=False)
    _registered(access, name)
    access.models.remove_model_alias(name, alias)
    return {}


@route("GET", "registered-models/alias", Role.READER)
def get_model_version_by_alias(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    alias = _alias(body, setting=False)
    model = _registered(access, name)
    if alias.lower() == "latest":
        versions = _versions_of(access, name)
        if not versions:
            raise MlflowError(
                "RESOURCE_DOES_NOT_EXIST", f"Latest version not found for model {name}."
            )
        return {"model_version": mapping.model_version_to_mlflow(versions[0])}
    if alias not in model.aliases:
        raise invalid(f"Registered model alias {alias} not found.")
    return {"model_version": _version_message(access, name, model.aliases[alias])}


# Model versions
@route("POST", "model-versions/create", Role.CONTRIBUTOR)
def create_model_version(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    source = string(body, "source")
    assert source is not None
    run_id = string(body, "run_id", required=False) or None
    model_id = string(body, "model_id", required=False) or None
    tags = _tags(access, body.get("tags"))
    description = string(body, "description", required=False) or None
    run_link = string(body, "run_link", required=False) or None
    _registered(access, name)
    found = source_files(access, source, run_id, model_id)
    new = NewModelVersion(name=name, run_id=found.run_id, description=description, tags=tags)
    origin = VersionOrigin(source=found.uri, logged_model_id=found.model_id, run_link=run_link)
    with staged_model(access.files, access.workspace, name) as staged:
        try:
            if found.path:
                copy_stored_files(
                    access.files, found.prefix, found.path, staged, f"source '{source}'"
                )
            else:
                _copy_whole(access, found.prefix, staged, source)
        except NotFoundError as exc:
            raise invalid(f"Invalid model version source: '{source}'. {exc}") from None
        version = access.models.create_model_version(
            new, staged.storage_key, staged.path, staged.files, origin
        )
    return {"model_version": mapping.model_version_to_mlflow(version)}


@route("GET", "model-versions/get", Role.READER)
def get_model_version(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    return {"model_version": _version_message(access, _name(body), _version(body))}


@route("PATCH", "model-versions/update", Role.CONTRIBUTOR)
def update_model_version(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    version = _version(body)
    description = string(body, "description", required=False)
    _model_version(access, name, version)
    updated = access.models.update_model_version(name, version, description=description or None)
    return {"model_version": mapping.model_version_to_mlflow(updated)}


@route("POST", "model-versions/transition-stage", Role.CONTRIBUTOR)
def transition_model_version_stage(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    version = _version(body)
    raw = string(body, "stage")
    assert raw is not None
    try:
        stage = mapping.canonical_stage(raw)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    archive = body.get("archive_existing_versions", False)
    if isinstance(archive, str) and archive.lower() in ("true", "false"):
        archive = archive.lower() == "true"
    if not isinstance(archive, bool):
        raise invalid(
            f"Invalid value {archive!r} for parameter 'archive_existing_versions': "
            "expected a boolean"
        )
    if archive and stage not in mapping.ACTIVE_STAGES:
        raise invalid(
            "Model version transition cannot archive existing model versions because "
            f"'{raw}' is not an Active stage. Valid stages are {list(mapping.ACTIVE_STAGES)}"
        )
    _model_version(access, name, version)
    updated = access.models.update_model_version(name, version, stage=stage, archive_others=archive)
    return {"model_version": mapping.model_version_to_mlflow(updated)}


@route("DELETE", "model-versions/delete", Role.OWNER)
def delete_model_version(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    version = _version(body)
    _model_version(access, name, version)
    _delete_files(access, access.models.delete_model_version(name, version))
    return {}


@route("GET", "model-versions/search", Role.READER)
def search_model_versions(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    clauses = parse_filter(body.get("filter"), VERSION_KEYS)
    orders = parse_order_by(
        body.get("order_by"),
        {"name", "version_number", "creation_timestamp", "last_updated_timestamp"},
        {"timestamp": "creation_timestamp"},
    )
    keys = [key for key, _ in orders]
    if "name" not in keys:
        orders.append(("name", True))
    if "version_number" not in keys:
        orders.append(("version_number", False))
    found = [
        message
        for version in access.models.list_model_versions()
        if matches(message := mapping.model_version_to_mlflow(version), clauses)
    ]
    page, token = _page(
        sort_messages(found, orders), body, SEARCH_VERSIONS_DEFAULT, SEARCH_VERSIONS_MOST
    )
    answer: dict[str, Any] = {"model_versions": page}
    if token:
        answer["next_page_token"] = token
    return answer


@route("POST", "model-versions/set-tag", Role.CONTRIBUTOR)
def set_model_version_tag(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    version = _version(body)
    key = string(body, "key")
    assert key is not None
    value = string(body, "value", required=False) or ""
    tags = _checked_tags(access, {key: value})
    _model_version(access, name, version)
    access.models.set_model_tags(name, version, tags)
    return {}


@route("DELETE", "model-versions/delete-tag", Role.CONTRIBUTOR)
def delete_model_version_tag(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    name = _name(body)
    version = _version(body)
    key = string(body, "key")
    assert key is not None
    _model_version(access, name, version)
    access.models.remove_model_tags(name, version, [key])
    return {}


@route("GET", "model-versions/get-download-uri", Role.READER)
def get_model_version_download_uri(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    version = _model_version(access, _name(body), _version(body))
    return {"artifact_uri": mapping.model_version_download_uri(version)}


# Files
def _copy_whole(access: Access, prefix: str, staged: StagedModel, source: str) -> None:
    """Copy every file of a prefix (a logged model's location) into the staged version
    under one folder, where MLflow finds its MLmodel file."""
    names = access.files.list_files(prefix)
    if not names:
        raise invalid(f"Invalid model version source: '{source}'. It holds no files.")
    if len(names) > MAX_MODEL_FILES:
        raise invalid(
            f"Invalid model version source: '{source}'. A model version may hold "
            f"{MAX_MODEL_FILES} files; this one has {len(names)}"
        )
    for name in names:
        access.files.copy_file(prefix, name, staged.prefix, f"{WHOLE_FOLDER}/{name}")
    staged.path = WHOLE_FOLDER
    staged.files = sorted(f"{WHOLE_FOLDER}/{name}" for name in names)


def _delete_files(access: Access, version: ModelVersion) -> None:
    """A deleted version's files go too; a failure leaves orphans, never a broken version."""
    with contextlib.suppress(Exception):
        access.files.delete_prefix(version.url)


def resolve_model_version_files(access: Access, rest: str) -> tuple[str, str]:
    """Where the file or folder `models/<name>/versions/<n>/<rest>` of MLflow's artifact
    proxy is: (the version's prefix, the name within it). `rest` is what follows
    `models/`, e.g. `iris/versions/3/model/MLmodel` (RESOURCE_DOES_NOT_EXIST if no such
    version)."""
    parts = rest.strip("/").split("/", 3)
    if len(parts) < 3 or parts[1] != "versions" or not _whole(parts[2]):
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST",
            f"'{mapping.MODEL_FILES_ROOT}/{rest}' is not a model version's path: expected "
            f"{mapping.MODEL_FILES_ROOT}/<name>/versions/<version>[/<file>]",
        )
    name = _name({"name": parts[0]})
    version = _model_version(access, name, int(parts[2]))
    return version.url, parts[3] if len(parts) == 4 else ""


@artifact_root(mapping.MODEL_FILES_ROOT)
def _model_version_root(access: Access, rest: str) -> Located:
    """The proxy's `models/` root: a version's own copy, which nobody writes (write-once)."""
    prefix, name = resolve_model_version_files(access, rest)
    return Located(prefix, name, write_role=None)


def _invalid_source(source: str, what: str) -> MlflowError:
    return invalid(
        f"Invalid model version source: '{source}'. The {what} request parameter must "
        "identify the resource that contains the source."
    )


def _run_files(access: Access, run_id: str, source: str) -> tuple[str, Any]:
    try:
        run = access.store.get_run(run_id)
    except NotFoundError:
        raise _invalid_source(source, "run_id") from None
    return run_prefix(run.experiment_name, run.run_id), run


def _within(source: str, root: str) -> str | None:
    """The path of `source` under the URI `root` (None when it is not under it)."""

    def parts(uri: str) -> tuple[str, list[str]]:
        parsed = urllib.parse.urlsplit(uri)
        path = [urllib.parse.unquote(p) for p in parsed.path.split("/") if p]
        return f"{parsed.scheme.lower()}://{parsed.netloc.lower()}", path

    (s_base, s_path), (r_base, r_path) = parts(source), parts(root)
    if s_base != r_base or not r_path or s_path[: len(r_path)] != r_path:
        return None
    return "/".join(s_path[len(r_path) :])


def _proxy_path(source: str) -> str | None:
    """The path under MLflow's artifact proxy of an `mlflow-artifacts:` or proxy URL."""
    parsed = urllib.parse.urlsplit(source)
    if parsed.scheme == "mlflow-artifacts":
        return urllib.parse.unquote(parsed.path).strip("/")
    marker = "/api/2.0/mlflow-artifacts/artifacts/"
    if parsed.scheme in ("http", "https") and marker in parsed.path:
        return urllib.parse.unquote(parsed.path.split(marker, 1)[1]).strip("/")
    return None


def source_files(access: Access, source: str, run_id: str | None, model_id: str | None) -> Source:
    """Where a model version's source files are: (prefix, path, run id, logged model id).

    `runs:/<run>/<path>` and a run's `mlflow-artifacts:` URI need the run's id, as MLflow's
    server checks; `models:/<name>/<version>` copies another version; a logged model
    (`models:/m-…` with its model_id) is found through the logged-models endpoint.
    """
    parsed = urllib.parse.urlsplit(source)
    if parsed.scheme == "runs":
        parts = parsed.path.strip("/").split("/", 1)
        if parsed.netloc or not parts[0] or parts[0] != run_id:
            raise _invalid_source(source, "run_id")
        prefix, _ = _run_files(access, parts[0], source)
        path = _model_path(source, parts[1] if len(parts) == 2 else "")
        return Source(prefix, path, run_id, model_id, source)
    if parsed.scheme == "models":
        target = parsed.path.strip("/")
        if parsed.netloc or not target:
            raise _invalid_source(source, "model_id")
        if "/" not in target and "@" not in target:  # a logged model: models:/<model_id>
            if target != model_id:
                raise _invalid_source(source, "model_id")
            return _logged_model_files(access, source, target, run_id)
        version = _version_of_uri(access, source, target)
        return Source(
            version.url,
            version.path,
            run_id or version.run_id,
            model_id,
            f"models:/{version.name}/{version.version}",
        )
    proxied = _proxy_path(source)
    if proxied is not None:
        if run_id is not None:
            prefix, run = _run_files(access, run_id, source)
            root = mapping.run_info_to_mlflow(run)["artifact_uri"]
            within = _within(f"mlflow-artifacts:/{proxied}", root)
            if within is not None:
                return Source(prefix, _model_path(source, within), run_id, model_id, source)
        if model_id is not None:
            return _logged_model_files(access, source, model_id, run_id)
        raise _invalid_source(source, "run_id")
    raise invalid(
        f"Invalid model version source: '{source}'. runyard registers models from "
        "runs:/<run_id>/<path>, mlflow-artifacts:/ URIs of a run's files, models:/<name>/"
        "<version> and logged models (models:/<model_id>)"
    )


def _model_path(source: str, path: str) -> str:
    path = posixpath.normpath(path.strip("/")) if path.strip("/") else ""
    if not path or path == "." or path.startswith(".."):
        raise invalid(
            f"Invalid model version source: '{source}'. Give the model's folder or file "
            "within the run, like runs:/<run_id>/model"
        )
    return path


def _version_of_uri(access: Access, source: str, target: str) -> ModelVersion:
    """The version `models:/<name>/<version|latest|stage>` or `models:/<name>@<alias>` names."""
    name, _, rest = target.partition("/")
    name, _, alias = name.partition("@")
    model = _registered(access, name)
    if alias or _whole(rest):
        number = model.aliases.get(alias) if alias else int(rest)
        if number is None:
            raise invalid(f"Invalid model version source: '{source}': no alias '{alias}'.")
        return _model_version(access, name, number)
    versions = _versions_of(access, name)
    if rest.lower() != "latest":
        try:
            stage = mapping.canonical_stage(rest)
        except ValueError as exc:
            raise invalid(f"Invalid model version source: '{source}'. {exc}") from None
        versions = [v for v in versions if (v.stage or "None") == stage]
    if not versions:
        raise invalid(f"Invalid model version source: '{source}': no such version.")
    return versions[0]


def _logged_model_files(access: Access, source: str, model_id: str, run_id: str | None) -> Source:
    """A logged model's files: its artifact location, found through the artifact proxy's
    table of paths (artifact_paths.py)."""
    try:
        info = logged_models.get_logged_model(access, {"model_id": model_id})["model"]["info"]
    except MlflowError as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise _invalid_source(source, "model_id") from None
        raise
    path = _proxy_path(str(info.get("artifact_uri", "")))
    if path is None:
        raise _invalid_source(source, "model_id")
    located = locate(access, path)
    path = _model_path(source, located.name) if located.name.strip("/") else ""
    return Source(located.prefix, path, run_id or info.get("source_run_id"), model_id, source)

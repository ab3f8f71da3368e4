"""Workspace: where runs are kept, found from a config.json or the local default."""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from runyard.client import connect
from runyard.client.base import Transport
from runyard.client.pipeline import LoggingPipeline
from runyard.core.errors import ValidationError
from runyard.core.limits import Limits
from runyard.core.mlflow_uri import tracking_uri as mlflow_tracking_uri
from runyard.core.names import DEFAULT_WORKSPACE, MLFLOW_WORKSPACE_PREFIX, validate_workspace_name
from runyard.core.run_environment import ENV_WORKSPACE
from runyard.sdk.compute_target import ComputeTargets

if TYPE_CHECKING:
    from runyard.sdk.experiment import Experiment

log = logging.getLogger("runyard")

CONFIG_FILE = "config.json"
CONFIG_DIRS = (".runyard", ".azureml")
LOCAL_FOLDER = ".runyard"

_transports: dict[tuple[str, str, str, str], tuple[Transport, LoggingPipeline]] = {}
_transports_lock = threading.Lock()


def find_config(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest config.json in `start` (or its .runyard/.azureml folder) or a parent."""
    folder = Path(start or os.getcwd()).resolve()
    for candidate_dir in (folder, *folder.parents):
        for sub in ("", *CONFIG_DIRS):
            candidate = candidate_dir / sub / CONFIG_FILE
            if candidate.is_file():
                return candidate
    return None


def _resolve_store(url: str, base: Path) -> str:
    """A relative SQLite path in a config file is relative to the file's folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def _resolve_artifacts(url: str, base: Path) -> str:
    if "://" in url:
        return url
    return str((base / url).resolve())


class Workspace:
    """A workspace: a tracking store and a file store, embedded (local) or on a server.

    `Workspace.from_config()` is the usual way in; with no config anywhere it is a local
    workspace in `./.runyard` (SQLite plus a folder), so scripts work with nothing set up.
    """

    def __init__(
        self,
        name: str = DEFAULT_WORKSPACE,
        *,
        store_url: str | None = None,
        artifacts_url: str | None = None,
        server_url: str | None = None,
        token: str | None = None,
        limits: Limits | None = None,
        compute_targets: dict[str, dict[str, Any]] | None = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
    ) -> None:
        if server_url is None:
            if store_url is None:
                folder = Path(LOCAL_FOLDER).resolve()
                store_url = f"sqlite:///{folder / 'runyard.db'}"
                artifacts_url = artifacts_url or str(folder / "artifacts")
            if artifacts_url is None:
                raise ValidationError("a workspace with a store URL needs an artifacts URL too")
        elif store_url is not None:
            raise ValidationError("a workspace is either on a server or in a store, not both")
        self.name = validate_workspace_name(name)
        self.store_url = store_url
        self.artifacts_url = artifacts_url
        self.server_url = server_url
        self.token = token
        self.limits = limits or Limits.from_env()
        #: Named compute targets, e.g. {"cluster": {"type": "ray", "address": "http://…"}}.
        self.compute_targets = ComputeTargets(compute_targets)
        # Azure's identity of a workspace. Scripts print and join these, so they are
        # always strings: what config.json says, else values that name this place.
        self._identity = {
            "subscription_id": subscription_id,
            "resource_group": resource_group,
            "location": location,
        }
        for key, value in self._identity.items():
            if value is not None and not isinstance(value, str):
                raise ValidationError(f'"{key}" must be a string, got {type(value).__name__}')

    # Azure's identity attributes
    @property
    def subscription_id(self) -> str:
        """config.json's subscription_id, else a stable id derived from where the workspace is."""
        given = self._identity["subscription_id"]
        where = self.server_url or self.store_url or ""
        return given or str(uuid.uuid5(uuid.NAMESPACE_URL, f"runyard:{where}"))

    @property
    def resource_group(self) -> str:
        """config.json's resource_group, else "local" (embedded) or the server's host name."""
        return self._identity["resource_group"] or self._place()

    @property
    def location(self) -> str:
        """config.json's location, else "local" (embedded) or the server's host name."""
        return self._identity["location"] or self._place()

    def _place(self) -> str:
        if self.server_url is None:
            return "local"
        return urlsplit(self.server_url).hostname or "server"

    @property
    def service_context(self) -> dict[str, str]:
        """Where the workspace is: server URL or store and artifacts URLs."""
        if self.server_url is not None:
            return {"server": self.server_url}
        return {"store": self.store_url or "", "artifacts": self.artifacts_url or ""}

    def get_details(self) -> dict[str, Any]:
        """Azure's workspace details (id, name, location, type, …) plus where it is kept."""
        arm_id = (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{self.name}"
        )
        return {
            "id": arm_id,
            "name": self.name,
            "friendlyName": self.name,
            "location": self.location,
            "type": "Microsoft.MachineLearningServices/workspaces",
            "subscriptionId": self.subscription_id,
            "resourceGroup": self.resource_group,
            "workspaceid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"runyard:{arm_id}")),
            "description": "",
            "tags": {},
            "discoveryUrl": self.server_url or "",
            "provisioningState": "Succeeded",
            **self.service_context,
        }

    # Finding a workspace
    @classmethod
    def from_config(
        cls, path: str | os.PathLike[str] | None = None, _file_name: str | None = None
    ) -> Workspace:
        """The workspace of the nearest config.json, or the local default when there is none.

        `path` may be a config file or a folder to search from (and up).
        """
        config_path: Path | None
        config_path = Path(path) if path is not None and Path(path).is_file() else find_config(path)
        if config_path is None:
            if path is not None:
                log.info("no %s found from %s; using the local workspace", CONFIG_FILE, path)
            return cls()
        return cls.from_dict(json.loads(config_path.read_text()), base=config_path.parent)

    @classmethod
    def get(
        cls,
        name: str,
        auth: object = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        cloud: str = "AzureCloud",
        id: str | None = None,
    ) -> Workspace:
        """The workspace called `name` where the nearest config.json (or the local default)
        keeps workspaces. As everywhere in runyard, a workspace exists from its first use."""
        found = cls.from_config()
        config = found.to_dict()
        config["workspace_name"] = name
        for key, value in (
            ("subscription_id", subscription_id),
            ("resource_group", resource_group),
            ("location", location),
        ):
            if value is not None:
                config[key] = value
        return cls.from_dict(config)

    @classmethod
    def from_dict(cls, config: dict[str, Any], base: Path | None = None) -> Workspace:
        """A workspace from the content of a config.json (relative paths from `base`)."""
        base = base or Path.cwd()
        if not isinstance(config, dict):
            raise ValidationError("a workspace config must be a JSON object")
        name = str(config.get("workspace_name", DEFAULT_WORKSPACE))
        identity = {
            key: config.get(key) for key in ("subscription_id", "resource_group", "location")
        }
        for key, value in identity.items():
            if value is not None and not isinstance(value, str):
                raise ValidationError(f'"{key}" must be a string')
        targets = config.get("compute_targets", {})
        if not isinstance(targets, dict) or not all(isinstance(t, dict) for t in targets.values()):
            raise ValidationError('"compute_targets" must map names to {"type", "address"} objects')
        server = config.get("server")
        if server is not None:
            token = config.get("token")
            if not isinstance(server, str) or not server.startswith(("http://", "https://")):
                raise ValidationError('"server" must be an http:// or https:// URL')
            if token is not None and not isinstance(token, str):
                raise ValidationError('"token" must be a string')
            return cls(name, server_url=server, token=token, compute_targets=targets, **identity)
        store = config.get("store")
        artifacts = config.get("artifacts")
        if not isinstance(store, str) or not isinstance(artifacts, str):
            raise ValidationError(
                'a workspace config needs "server" (a runyard server URL), or "store" (a '
                'database URL) and "artifacts" (a folder or fsspec URL)'
            )
        return cls(
            name,
            store_url=_resolve_store(store, base),
            artifacts_url=_resolve_artifacts(artifacts, base),
            compute_targets=targets,
            **identity,
        )

    @classmethod
    def from_env(cls) -> Workspace | None:
        """The workspace a runner handed to a submitted script, if any."""
        raw = os.environ.get(ENV_WORKSPACE)
        if not raw:
            return None
        return cls.from_dict(json.loads(raw))

    def to_dict(self) -> dict[str, Any]:
        """The config.json content that finds this workspace again."""
        if self.server_url is not None:
            config: dict[str, Any] = {"workspace_name": self.name, "server": self.server_url}
            if self.token:
                config["token"] = self.token
        else:
            config = {
                "workspace_name": self.name,
                "store": self.store_url,
                "artifacts": self.artifacts_url,
            }
        for key, value in self._identity.items():
            if value is not None:
                config[key] = value
        if self.compute_targets:
            config["compute_targets"] = self.compute_targets.serialize()
        return config

    def write_config(
        self, path: str | os.PathLike[str] | None = None, file_name: str | None = None
    ) -> Path:
        """Write `.runyard/<file_name or config.json>` under `path` (default: the current
        folder), where `Workspace.from_config()` finds it again; mode 0600 when it holds an API
        token. Returns the file's path."""
        folder = Path(path or os.getcwd()) / LOCAL_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (file_name or CONFIG_FILE)
        content = self.to_dict()
        if "token" not in content:
            target.write_text(json.dumps(content, indent=2) + "\n")
            return target
        # A token is a password: readable by its owner only, from the first byte written.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(content, indent=2) + "\n")
        return target

    # Plumbing shared by every object of this workspace
    def _connection(self) -> tuple[Transport, LoggingPipeline]:
        key = (
            self.name,
            self.server_url or self.store_url or "",
            self.artifacts_url or "",
            self.token or "",
        )
        found = _transports.get(key)
        if found is not None:
            return found
        with _transports_lock:
            found = _transports.get(key)
            if found is None:
                found = _transports[key] = connect(
                    self.name,
                    self.limits,
                    store_url=self.store_url,
                    artifacts_url=self.artifacts_url,
                    server_url=self.server_url,
                    token=self.token,
                )
            return found

    @property
    def transport(self) -> Transport:
        """How this workspace is reached (in-process store, HTTP or offline spool): shared
        by every object of this workspace in this process."""
        return self._connection()[0]

    @property
    def pipeline(self) -> LoggingPipeline:
        """The background logging pipeline of this workspace's transport in this process."""
        return self._connection()[1]

    @property
    def experiments(self) -> dict[str, Experiment]:
        """The workspace's experiments by name."""
        from runyard.sdk.experiment import Experiment

        return {e.name: e for e in Experiment.list(self)}

    @property
    def is_remote(self) -> bool:
        """Whether the workspace is on a runyard server."""
        return self.server_url is not None

    def get_mlflow_tracking_uri(self) -> str:
        """The MLflow tracking URI of this workspace: `mlflow.set_tracking_uri(uri)`, then
        the mlflow client (fluent API, MlflowClient, autolog, Lightning's MLFlowLogger)
        logs into this workspace's runs.

        A local workspace gives `runyard://<workspace>?store=…&artifacts=…`, which runyard's
        mlflow plugin opens in this process (no server; metrics ride the logging pipeline).
        A workspace on a server gives the server's MLflow REST URI: the default workspace
        answers at the root, any other under `/mlflow/<workspace>`, and any MLflow client
        can use it (the token goes in MLFLOW_TRACKING_TOKEN: a URI cannot carry it).
        """
        if self.server_url is None:
            assert self.store_url is not None and self.artifacts_url is not None
            return mlflow_tracking_uri(self.name, self.store_url, self.artifacts_url)
        root = self.server_url.rstrip("/")
        if self.name == DEFAULT_WORKSPACE:
            return root
        return f"{root}{MLFLOW_WORKSPACE_PREFIX}/{self.name}"

    def __repr__(self) -> str:
        return (
            f"Workspace.create(name='{self.name}', subscription_id='{self.subscription_id}', "
            f"resource_group='{self.resource_group}')"
        )


def close_all() -> None:
    """Flush every pipeline and close every store this process opened (tests, shutdown)."""
    with _transports_lock:
        for transport, pipeline in _transports.values():
            pipeline.close()
            transport.close()
        _transports.clear()

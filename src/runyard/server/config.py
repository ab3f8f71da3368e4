"""Server settings, from the command line or the environment."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from enum import StrEnum

from runyard.core.errors import ValidationError

#: Host names a loopback server answers to, whatever the port (DNS rebinding defence).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AuthMode(StrEnum):
    """When the server asks for API tokens.

    auto: on loopback, from the moment a token is first created (revoking every token
    does not reopen the server); always off loopback. required: always. off: never,
    allowed on loopback only, as an explicit choice.
    """

    AUTO = "auto"
    REQUIRED = "required"
    OFF = "off"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number of bytes, got {raw!r}") from None
    if value < 1:
        raise ValidationError(f"{name} must be at least 1, got {value}")
    return value


@dataclass(frozen=True)
class ServerConfig:
    """What a server process serves and how."""

    store_url: str
    artifacts_url: str
    host: str = "127.0.0.1"
    port: int = 8765
    #: Seconds without a heartbeat after which a Running run becomes NotResponding.
    heartbeat_timeout: float = 60.0
    #: How often the server looks for silent runs.
    liveness_interval: float = 5.0
    #: How often the process checks whether anything was committed (SQLite), to wake the
    #: watchers of followed runs.
    stream_poll_interval: float = 0.1
    auth: AuthMode = AuthMode.AUTO
    #: Host names accepted besides the loopback ones ("*": any); see `host_allowed`.
    allowed_hosts: tuple[str, ...] = ()
    #: Largest JSON request body (run creation, search, tags, log lines, …).
    max_body_bytes: int = 16 * 1024 * 1024
    #: Largest points request (a client sends far smaller batches).
    max_points_bytes: int = 256 * 1024 * 1024
    #: Largest single file or snapshot upload.
    max_upload_bytes: int = 5 * 1024**3
    #: Largest request head (all header names and values together).
    max_header_bytes: int = 16 * 1024
    #: Temporary upload and partial files untouched this long are leftovers of a killed process.
    stale_temp_seconds: float = 3600.0
    #: How often leftovers are looked for (and once at start).
    cleanup_interval: float = 3600.0

    def host_allowed(self, host_header: str | None) -> bool:
        """Whether a request's Host names this server: on loopback only the loopback names
        and `allowed_hosts`; off loopback any name unless `allowed_hosts` is given."""
        if "*" in self.allowed_hosts:
            return True
        if not host_header:
            return False
        name = _host_name(host_header)
        allowed = {h.lower() for h in self.allowed_hosts}
        if is_loopback(self.host):
            return name in LOOPBACK_HOSTS or name in allowed
        return not allowed or name in allowed

    @classmethod
    def from_env(cls) -> ServerConfig:
        """The config a worker process gets from `runyard server` through the environment."""
        return cls(
            store_url=os.environ["RUNYARD_SERVER_STORE"],
            artifacts_url=os.environ["RUNYARD_SERVER_ARTIFACTS"],
            host=os.environ.get("RUNYARD_SERVER_HOST", "127.0.0.1"),
            port=int(os.environ.get("RUNYARD_SERVER_PORT", "8765")),
            heartbeat_timeout=float(os.environ.get("RUNYARD_HEARTBEAT_TIMEOUT", "60")),
            liveness_interval=float(os.environ.get("RUNYARD_LIVENESS_INTERVAL", "5")),
            auth=AuthMode(os.environ.get("RUNYARD_SERVER_AUTH", "auto")),
            allowed_hosts=tuple(json.loads(os.environ.get("RUNYARD_ALLOWED_HOSTS", "[]"))),
            max_body_bytes=_env_int("RUNYARD_MAX_BODY_BYTES", cls.max_body_bytes),
            max_points_bytes=_env_int("RUNYARD_MAX_POINTS_BYTES", cls.max_points_bytes),
            max_upload_bytes=_env_int("RUNYARD_MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            max_header_bytes=_env_int("RUNYARD_MAX_HEADER_BYTES", cls.max_header_bytes),
            stale_temp_seconds=float(os.environ.get("RUNYARD_STALE_TEMP_SECONDS", "3600")),
            cleanup_interval=float(os.environ.get("RUNYARD_CLEANUP_INTERVAL", "3600")),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes `from_env` return this config."""
        return {
            "RUNYARD_SERVER_STORE": self.store_url,
            "RUNYARD_SERVER_ARTIFACTS": self.artifacts_url,
            "RUNYARD_SERVER_HOST": self.host,
            "RUNYARD_SERVER_PORT": str(self.port),
            "RUNYARD_HEARTBEAT_TIMEOUT": str(self.heartbeat_timeout),
            "RUNYARD_LIVENESS_INTERVAL": str(self.liveness_interval),
            "RUNYARD_SERVER_AUTH": self.auth.value,
            "RUNYARD_ALLOWED_HOSTS": json.dumps(list(self.allowed_hosts)),
            "RUNYARD_MAX_BODY_BYTES": str(self.max_body_bytes),
            "RUNYARD_MAX_POINTS_BYTES": str(self.max_points_bytes),
            "RUNYARD_MAX_UPLOAD_BYTES": str(self.max_upload_bytes),
            "RUNYARD_MAX_HEADER_BYTES": str(self.max_header_bytes),
            "RUNYARD_STALE_TEMP_SECONDS": str(self.stale_temp_seconds),
            "RUNYARD_CLEANUP_INTERVAL": str(self.cleanup_interval),
        }


def _host_name(host_header: str) -> str:
    """The name part of a Host header: `[::1]:8765` → `::1`, `Example.org:80` → `example.org`."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value

"""Server settings, from the command line or the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
        }

"""What uvicorn imports: the app, configured from the environment `runyard server` sets."""

from __future__ import annotations

from fastapi import FastAPI

from runyard.server.app import create_app
from runyard.server.config import ServerConfig


def app_from_env() -> FastAPI:
    """The application of one server worker process."""
    return create_app(ServerConfig.from_env())

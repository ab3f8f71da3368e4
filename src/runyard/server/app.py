"""The FastAPI application: routers, error handling, and the liveness watcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from runyard.artifacts import ArtifactStore
from runyard.mlflow.app import WORKSPACE_PREFIX, create_mlflow_app
from runyard.server.access import AccessControl
from runyard.server.config import ServerConfig
from runyard.server.errors import install_error_handlers
from runyard.server.models import ERROR_RESPONSES
from runyard.server.routes import events, experiments, files, logs, metrics, models, runs
from runyard.store.database import Database
from runyard.store.liveness import mark_silent_runs, prune_ingest_keys
from runyard.version import __version__

log = logging.getLogger("runyard.server")
API_PREFIX = "/api/v1/workspaces/{workspace}"


async def _watch_liveness(db: Database, config: ServerConfig) -> None:
    """Turn Running runs whose heartbeat stopped into NotResponding, now and then."""
    pruned_at = 0.0
    while True:
        try:
            marked = await run_in_threadpool(mark_silent_runs, db, config.heartbeat_timeout)
            if marked:
                log.info("%d runs stopped sending heartbeats: NotResponding", marked)
            if time.monotonic() - pruned_at > 3600:
                await run_in_threadpool(prune_ingest_keys, db)
                pruned_at = time.monotonic()
        except Exception:  # the watcher must outlive a hiccup of the database
            log.exception("liveness check failed")
        await asyncio.sleep(config.liveness_interval)


def create_app(config: ServerConfig) -> FastAPI:
    """The server application for one store and one file store."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watcher = asyncio.create_task(_watch_liveness(db, config))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    db = Database.open(config.store_url)
    artifacts = ArtifactStore(config.artifacts_url)
    app = FastAPI(
        title="runyard",
        version=__version__,
        description="Track, run, monitor and compare machine-learning experiments.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.config = config
    app.state.access = AccessControl(config, db, artifacts)
    install_error_handlers(app)
    for module in (experiments, runs, metrics, files, logs, events, models):
        app.include_router(module.router, prefix=API_PREFIX)
    # MLflow's tracking REST API: the default workspace at the root, any other under
    # /mlflow/<workspace> so that tracking URI http://host:port/mlflow/<workspace> works.
    mlflow_app = create_mlflow_app(app.state.access.authorize)
    for root in ("", WORKSPACE_PREFIX + "/{workspace}"):
        for api in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
            app.mount(root + api, mlflow_app)

    @app.get("/api/v1/health", tags=["server"])
    async def health() -> dict[str, str]:
        """The server answers; with its version."""
        return {"status": "ok", "version": __version__}

    return app

"""The FastAPI application: routers, error handling, and the liveness watcher."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import logging
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from runyard.artifacts import ArtifactStore
from runyard.mlflow.app import WORKSPACE_PREFIX, create_mlflow_app
from runyard.mlflow.artifacts import create_artifacts_app
from runyard.mlflow.endpoints import API_VERSIONS as MLFLOW_API_VERSIONS
from runyard.server.access import AccessControl
from runyard.server.bodies import spool_body
from runyard.server.cleanup import remove_leftovers
from runyard.server.config import ServerConfig
from runyard.server.errors import install_error_handlers
from runyard.server.gate import RequestGate
from runyard.server.models import ERROR_RESPONSES
from runyard.server.routes import (
    browse,
    events,
    experiment_events,
    experiments,
    files,
    logs,
    metrics,
    models,
    run_table,
    runs,
    session,
)
from runyard.server.streams import StreamHub
from runyard.server.studio import mount_studio
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


async def _clean_leftovers(files: ArtifactStore, config: ServerConfig) -> None:
    """Remove what killed processes left behind: at start, then every `cleanup_interval`."""
    while True:
        try:
            await run_in_threadpool(remove_leftovers, files, config.stale_temp_seconds)
        except Exception:  # a folder that vanished or a permission must not stop the server
            log.exception("cleaning leftover temporary files failed")
        await asyncio.sleep(config.cleanup_interval)


def _serve_docs(app: FastAPI) -> None:
    """/docs with Swagger UI's files served by this server (fastapi-offline ships them), so
    it works air-gapped and loads nothing from a CDN; no /docs if they are missing."""
    try:
        assets = importlib.resources.files("fastapi_offline") / "static"
    except ModuleNotFoundError:
        log.info("fastapi-offline is not installed: no /docs (the schema is at /openapi.json)")
        return
    app.mount("/docs/assets", StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon.png",
        )


def create_app(config: ServerConfig) -> FastAPI:
    """The server application for one store and one file store."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(_watch_liveness(db, config)),
            asyncio.create_task(_clean_leftovers(artifacts, config)),
        ]
        streams: StreamHub = app.state.streams
        await streams.start()
        try:
            yield
        finally:
            await streams.close()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            db.close()  # the pools' connections go with the server, not with the process

    db = Database.open(config.store_url)
    artifacts = ArtifactStore(config.artifacts_url)
    app = FastAPI(
        title="runyard",
        version=__version__,
        description="Track, run, monitor and compare machine-learning experiments.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,
        redoc_url=None,
    )
    app.state.config = config
    app.state.access = AccessControl(config, db, artifacts)
    app.add_middleware(RequestGate, config=config, access=app.state.access)
    app.state.streams = StreamHub(db, config.stream_poll_interval)
    install_error_handlers(app)
    _serve_docs(app)
    app.include_router(session.router, prefix="/api/v1")
    modules = (
        experiments,
        run_table,
        runs,
        metrics,
        browse,
        files,
        logs,
        events,
        experiment_events,
        models,
    )
    for module in modules:
        app.include_router(module.router, prefix=API_PREFIX)
    # MLflow's tracking REST API: the default workspace at the root, any other under
    # /mlflow/<workspace> so that tracking URI http://host:port/mlflow/<workspace> works.
    for version in MLFLOW_API_VERSIONS:
        mlflow_app = create_mlflow_app(app.state.access.authorize, version)
        for root in ("", WORKSPACE_PREFIX + "/{workspace}"):
            for api in (f"/api/{version}/mlflow", f"/ajax-api/{version}/mlflow"):
                app.mount(root + api, mlflow_app)
    # Its artifact proxy: raw-body uploads, spooled and capped like the native file routes.
    artifacts_app = create_artifacts_app(
        app.state.access.authorize,
        lambda request: spool_body(request, config.max_upload_bytes),
    )
    for root in ("", WORKSPACE_PREFIX + "/{workspace}"):
        for api in ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"):
            app.mount(root + api, artifacts_app)

    @app.get("/api/v1/health", tags=["server"])
    async def health() -> dict[str, str]:
        """The server answers; with its version."""
        return {"status": "ok", "version": __version__}

    mount_studio(app)

    return app

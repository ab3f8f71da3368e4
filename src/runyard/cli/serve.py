"""`runyard server`, `runyard token …` and `runyard sync`: the commands around the server."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from runyard.cli.output import emit
from runyard.core.errors import PermissionDeniedError, ValidationError
from runyard.sdk.workspace import Workspace
from runyard.server.config import AuthMode, ServerConfig, is_loopback


def _store_url(store: str | None) -> str:
    """The database given, else the nearest local workspace's."""
    if store is not None:
        return store
    ws = Workspace.from_config()
    if ws.store_url is None:
        raise ValidationError("the workspace config here points at a server; give --store")
    return ws.store_url


def _local_store(store: str | None, artifacts: str | None) -> tuple[str, str]:
    """The store and artifacts to serve: given, else the nearest local workspace's."""
    if store is not None:
        if artifacts is None:
            raise ValidationError("--artifacts is required with --store")
        return store, artifacts
    ws = Workspace.from_config()
    if ws.store_url is None or ws.artifacts_url is None:
        raise ValidationError(
            "the workspace config here points at a server; give --store and --artifacts"
        )
    return ws.store_url, artifacts or ws.artifacts_url


@click.command("server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--store", default=None, help="Database URL (default: the local workspace's).")
@click.option("--artifacts", default=None, help="Folder or fsspec URL for run files.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--heartbeat-timeout",
    default=60.0,
    show_default=True,
    type=float,
    help="Seconds of silence after which a Running run becomes NotResponding.",
)
@click.option(
    "--auth",
    type=click.Choice([m.value for m in AuthMode]),
    default=AuthMode.AUTO.value,
    show_default=True,
    help="When API tokens are required. auto: off loopback always; on loopback once the "
    "first token was created (revoking all does not reopen the server). required: always. "
    "off: never (loopback only; an explicit choice).",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    help="A host name (Host header) to answer to besides localhost, 127.0.0.1 and [::1]; "
    "repeatable; '*' for any. Off loopback, if given, only these are answered.",
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(1),
    default=ServerConfig.max_body_bytes,
    show_default=True,
    help="Largest JSON request body.",
)
@click.option(
    "--max-upload-bytes",
    type=click.IntRange(1),
    default=None,
    help="Largest file or snapshot upload [default: RUNYARD_MAX_UPLOAD_BYTES, else 5 GiB].",
)
@click.option(
    "--max-header-bytes",
    type=click.IntRange(1024),
    default=ServerConfig.max_header_bytes,
    show_default=True,
    help="Largest request line plus headers.",
)
def server(
    host: str,
    port: int,
    store: str | None,
    artifacts: str | None,
    workers: int,
    heartbeat_timeout: float,
    auth: str,
    allowed_hosts: tuple[str, ...],
    max_body_bytes: int,
    max_upload_bytes: int | None,
    max_header_bytes: int,
) -> None:
    """Serve the HTTP API for a store; on loopback only unless API tokens exist."""
    import uvicorn

    from runyard.store.database import Database
    from runyard.store.tokens import TokenStore

    mode = AuthMode(auth)
    store_url, artifacts_url = _local_store(store, artifacts)
    if mode is AuthMode.OFF and not is_loopback(host):
        raise PermissionDeniedError(
            f"refusing --auth off on {host}: anyone who can reach it could change every "
            "workspace. Turn auth off only on a loopback address (127.0.0.1, localhost, ::1)"
        )
    db = Database.open(store_url)
    if not is_loopback(host) and not TokenStore(db).any_active():
        raise PermissionDeniedError(
            f"refusing to listen on {host} without API tokens: anyone could reach every "
            "workspace. Create one first: runyard token create --workspace NAME --role owner "
            f"--store {store_url}"
        )
    db.close()
    env_upload = os.environ.get("RUNYARD_MAX_UPLOAD_BYTES")
    config = ServerConfig(
        store_url,
        artifacts_url,
        host,
        port,
        heartbeat_timeout,
        liveness_interval=float(os.environ.get("RUNYARD_LIVENESS_INTERVAL", "5")),
        auth=mode,
        allowed_hosts=allowed_hosts,
        max_body_bytes=max_body_bytes,
        max_upload_bytes=max_upload_bytes
        or (int(env_upload) if env_upload else ServerConfig.max_upload_bytes),
        max_header_bytes=max_header_bytes,
        max_points_bytes=int(
            os.environ.get("RUNYARD_MAX_POINTS_BYTES", str(ServerConfig.max_points_bytes))
        ),
        stale_temp_seconds=float(os.environ.get("RUNYARD_STALE_TEMP_SECONDS", "3600")),
        cleanup_interval=float(os.environ.get("RUNYARD_CLEANUP_INTERVAL", "3600")),
    )
    os.environ.update(config.to_env())
    if mode is AuthMode.OFF:
        click.echo("auth is off: no API token is asked for, whatever tokens exist", err=True)
    click.echo(f"runyard server on http://{host}:{port} (store {store_url})", err=True)
    uvicorn.run(
        "runyard.server.main:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        h11_max_incomplete_event_size=max_header_bytes,
    )


@click.group("token")
def token() -> None:
    """API tokens of a server's workspaces."""


@token.command("create")
@click.option("--workspace", "workspace_name", required=True)
@click.option("--role", type=click.Choice(["reader", "contributor", "owner"]), required=True)
@click.option("--name", default="", help="A note on who or what holds the token.")
@click.option("--store", default=None, help="The server's database URL (default: local).")
@click.option("-o", "--output", type=click.Choice(["json", "table"]), default="json")
@click.option("--query", default=None)
def token_create(
    workspace_name: str, role: str, name: str, store: str | None, output: str, query: str | None
) -> None:
    """Create a token; it is printed once and only its hash is kept."""
    from runyard.core.names import validate_experiment_name
    from runyard.store.database import Database
    from runyard.store.tokens import TokenStore

    validate_experiment_name(workspace_name)
    store_url = _store_url(store)
    value = TokenStore(Database.open(store_url)).create(workspace_name, role, name)
    emit({"workspace": workspace_name, "role": role, "token": value}, output, query)


@token.command("revoke")
@click.argument("token_value")
@click.option("--store", default=None, help="The server's database URL (default: local).")
def token_revoke(token_value: str, store: str | None) -> None:
    """Revoke a token (servers stop accepting it within seconds)."""
    from runyard.store.database import Database
    from runyard.store.tokens import TokenStore

    store_url = _store_url(store)
    TokenStore(Database.open(store_url)).revoke(token_value)
    click.echo("revoked", err=True)


@click.command("sync")
@click.option(
    "-w",
    "--workspace-config",
    "config",
    default=None,
    type=click.Path(path_type=Path),
    help="config.json of the workspace (on a server or embedded).",
)
def sync(config: Path | None) -> None:
    """Deliver what runs left in the spool (offline mode, a dead server, a killed script)."""
    from runyard.client.sync import sync_spool, workspace_spool_folder

    ws = Workspace.from_config(config)
    folder = workspace_spool_folder(ws)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as progress:
        task = progress.add_task("syncing", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        batches, points = sync_spool(ws, folder, advance)
    click.echo(f"synced {batches} spooled items ({points} metric points) from {folder}", err=True)

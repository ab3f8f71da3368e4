"""The store calls that can travel through the spool, and how each one is replayed.

A spooled call is recorded as `(op, JSON arguments)`; this table is the one place that
says which ops exist and what each does to a store. A call made twice (the process died
between making it and recording so) changes nothing the second time, or is refused with
a ConflictError that replay ignores — except append_log_lines, whose lines would then
appear twice (offline mode only spools it).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runyard.client.base import FileStore
from runyard.core.entities import NewRun, RunError
from runyard.core.errors import ConflictError, NotFoundError, ValidationError
from runyard.core.status import Status
from runyard.store.base import TrackingStore

log = logging.getLogger("runyard.pipeline")

#: What replaying one op does, given the store and file store to apply it to.
Operation = Callable[[TrackingStore, FileStore | None, dict[str, Any]], None]

_RUN_CHANGES = ("display_name", "description", "run_definition")


def _create_runs(store: TrackingStore, files: FileStore | None, args: dict[str, Any]) -> None:
    store.create_runs([NewRun.model_validate(r) for r in args["runs"]])


def _set_status(store: TrackingStore, files: FileStore | None, args: dict[str, Any]) -> None:
    error = RunError.model_validate(args["error"]) if args.get("error") else None
    store.set_status(args["run_id"], Status(args["status"]), error)


def _set_tags(store: TrackingStore, files: FileStore | None, args: dict[str, Any]) -> None:
    store.set_tags(args["run_id"], args["tags"])


def _remove_tags(store: TrackingStore, files: FileStore | None, args: dict[str, Any]) -> None:
    store.remove_tags(args["run_id"], args["keys"])


def _add_properties(store: TrackingStore, files: FileStore | None, args: dict[str, Any]) -> None:
    store.add_properties(args["run_id"], args["properties"])


def _log_params(store: TrackingStore, files: FileStore | None, args: dict[str, Any]) -> None:
    store.log_params(args["run_id"], args["params"])


def _update_run(store: TrackingStore, files: FileStore | None, args: dict[str, Any]) -> None:
    changes = {k: args[k] for k in _RUN_CHANGES if k in args}
    store.update_run(args["run_id"], **changes)


def _append_log_lines(store: TrackingStore, files: FileStore | None, args: dict[str, Any]) -> None:
    store.append_log_lines(args["run_id"], args["stream"], args["lines"])


def _upload_file(store: TrackingStore, files: FileStore | None, args: dict[str, Any]) -> None:
    if files is None:
        raise ValidationError("a spooled file upload needs a file store to replay into")
    path = Path(args["path"])
    if args.get("spooled_copy") and not path.exists():
        # Uploaded (and its copy deleted) before the process could record so.
        log.info("spooled copy %s of %r is gone: uploaded before", path, args["name"])
        return
    files.put_file(args["prefix"], args["name"], path)
    if args.get("spooled_copy"):
        path.unlink(missing_ok=True)


#: Every op a spool may hold: its name in the spool → what replaying it does.
OPERATIONS: dict[str, Operation] = {
    "create_runs": _create_runs,
    "set_status": _set_status,
    "set_tags": _set_tags,
    "remove_tags": _remove_tags,
    "add_properties": _add_properties,
    "log_params": _log_params,
    "update_run": _update_run,
    "append_log_lines": _append_log_lines,
    "upload_file": _upload_file,
}


def apply(op: str, args: dict[str, Any], store: TrackingStore, files: FileStore | None) -> None:
    """Make one spooled call; a replay of a call already made is harmless."""
    operation = OPERATIONS.get(op)
    if operation is None:
        raise ValidationError(
            f"unknown spooled call {op!r}; known: {', '.join(sorted(OPERATIONS))}"
        )
    try:
        operation(store, files, args)
    except ConflictError as exc:  # e.g. the run exists already: done before
        log.info("spooled %s already applied: %s", op, exc)


def keep_copy(
    folder: Path, prefix: str, name: str, copy: Callable[[Path], object]
) -> dict[str, Any]:
    """Copy a file into the spool folder for a later upload; the upload_file call's args.

    The copy is what is uploaded (the original may change or go before the server is
    back); replaying the call deletes it.
    """
    folder = folder / "files"
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{int(time.time())}-{uuid.uuid4().hex}"
    copy(kept)
    return {"prefix": prefix, "name": name, "path": str(kept), "spooled_copy": True}


def copy_file(source: str | os.PathLike[str]) -> Callable[[Path], object]:
    """A `copy` for keep_copy that copies a local file, which must exist."""
    if not Path(source).is_file():
        raise NotFoundError(f"no local file {str(source)!r} to upload")
    return lambda kept: shutil.copyfile(source, kept)

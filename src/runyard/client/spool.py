"""The durable spool: what a run logs lives in a local file until the store acknowledges it.

Every pipeline (embedded store or server) journals here first: each process appends to
its own segment file, which it holds an exclusive lock on for as long as it lives. A
batch record is written (and flushed to the OS, which survives a `kill -9` of the
process) before the batch is delivered; an ack record follows once the store has it.
A segment whose lock can be taken belongs to a process that died: its unacknowledged
batches are delivered again by the next runyard process or `runyard sync` (orphans.py),
with their original idempotency keys, so none is stored twice.

Records are flushed to the operating system, not fsynced: a killed process loses
nothing, a machine that loses power may lose the last moments.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import struct
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from runyard.client.base import STORED_LIMITS
from runyard.core.metrics import PointBatch
from runyard.core.wire import decode_batches, encode_batches

log = logging.getLogger("runyard.spool")

_RECORD = struct.Struct("<cI")
_BATCH, _OP, _ACK = b"B", b"O", b"A"
_SUFFIX = ".spool"
#: Start a fresh segment once this one is this big and fully acknowledged.
_ROTATE_BYTES = 64 * 1024 * 1024


def spool_folder(location: str, workspace: str) -> Path:
    """Where a workspace's batches are spooled: one folder per server URL (or embedded
    store URL) and workspace, under ~/.runyard/spool (RUNYARD_SPOOL_DIR overrides)."""
    base = os.environ.get("RUNYARD_SPOOL_DIR") or str(Path.home() / ".runyard" / "spool")
    digest = hashlib.sha256(f"{location.rstrip('/')}|{workspace}".encode()).hexdigest()[:16]
    return Path(base) / f"{workspace}-{digest}"


@dataclass(slots=True)
class SpooledBatch:
    """Points of one run, waiting for the server, under their idempotency key."""

    key: str
    run_id: str
    batches: list[PointBatch]


@dataclass(slots=True)
class SpooledOp:
    """Another store call waiting for the store: a mutation the server could not take when
    it was made, or any mutation in offline mode (`op` names an entry of operations.py)."""

    key: str
    op: str
    args: dict[str, Any]


Spooled = SpooledBatch | SpooledOp


class Spool:
    """This process's segment of a spool folder; safe to write from several threads."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._outstanding: set[str] = set()
        self._lock = threading.Lock()
        self._file = self._new_segment()

    def _new_segment(self) -> BinaryIO:
        self.folder.mkdir(parents=True, exist_ok=True)  # another process may have removed it
        path = self.folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}{_SUFFIX}"
        handle = path.open("ab")
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path = path
        return handle

    def _write(self, key: str, kind: bytes, *parts: bytes) -> None:
        size = sum(map(len, parts))
        with self._lock:
            if self._file.closed:  # written after close: a new segment, for the next process
                self._file = self._new_segment()
            self._file.writelines([_RECORD.pack(kind, size), *parts])
            self._file.flush()
            self._outstanding.add(key)

    def append(self, key: str, run_id: str, batches: list[PointBatch]) -> bytes:
        """Record a batch before it is delivered; returns its encoded frame (to send as is)."""
        encoded_run = run_id.encode()
        frame = encode_batches(batches, key)
        self._write(key, _BATCH, struct.pack("<H", len(encoded_run)), encoded_run, frame)
        return frame

    def append_op(self, key: str, op: str, args: dict[str, Any]) -> None:
        """Record a store call to replay, in order with the batches around it."""
        self._write(key, _OP, json.dumps({"key": key, "op": op, "args": args}).encode())

    def ack(self, key: str) -> None:
        """Record that the store has the batch; a fully acknowledged big segment restarts."""
        payload = key.encode()
        with self._lock:
            if self._file.closed:
                return  # closing left the segment for the next process: it replays once
            self._file.write(_RECORD.pack(_ACK, len(payload)) + payload)
            self._file.flush()
            self._outstanding.discard(key)
            if not self._outstanding and self._file.tell() > _ROTATE_BYTES:
                old = self.path
                self._file.close()
                old.unlink(missing_ok=True)
                self._file = self._new_segment()

    @property
    def outstanding(self) -> int:
        """Batches written but not acknowledged."""
        return len(self._outstanding)

    def close(self) -> None:
        """Delete the segment if everything was acknowledged, else leave it for a sync."""
        with self._lock:
            self._file.close()
        if not self._outstanding:
            self.path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty: other processes use it
                self.folder.rmdir()
        else:
            log.warning(
                "%d batches not yet acknowledged stay in %s; `runyard sync` uploads them",
                len(self._outstanding),
                self.path,
            )


def _records(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    offset = 0
    while offset + _RECORD.size <= len(data):
        kind, size = _RECORD.unpack_from(data, offset)
        start = offset + _RECORD.size
        if start + size > len(data):
            return  # the process died in the middle of this record: it was never sent
        yield kind, data[start : start + size]
        offset = start + size


def read_pending(path: Path) -> list[Spooled]:
    """The batches and calls of a segment never acknowledged, in the order written.

    What was spooled passed the writer's limits; this reader's own do not apply.
    """
    pending: dict[str, Spooled] = {}
    for kind, payload in _records(path.read_bytes()):
        if kind == _BATCH:
            (length,) = struct.unpack_from("<H", payload)
            run_id = payload[2 : 2 + length].decode()
            key, batches = decode_batches(payload[2 + length :], STORED_LIMITS, max_points=2**62)
            if key is not None:
                pending[key] = SpooledBatch(key, run_id, batches)
        elif kind == _OP:
            record = json.loads(payload)
            pending[record["key"]] = SpooledOp(record["key"], record["op"], record["args"])
        elif kind == _ACK:
            pending.pop(payload.decode(), None)
    return list(pending.values())


@contextlib.contextmanager
def claim(path: Path) -> Iterator[bool]:
    """Lock a segment if its writer is gone; yields whether it was claimed."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        yield False
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False  # its process is alive and owns it
            return
        yield True


def orphan_segments(folder: Path) -> list[Path]:
    """Segments of a spool folder whose writing process has ended."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"*{_SUFFIX}")):
        with claim(path) as claimed:
            if claimed:
                found.append(path)
    return found

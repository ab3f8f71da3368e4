"""The logging pipeline: `run.log` enqueues, a background flusher writes batches.

A logging call costs a tuple appended to a deque; the flusher wakes at least every
`interval` seconds, groups what is queued by run and metric and hands each run's
points to the store in one bulk call. Errors the store reports for a run (a limit,
a kind clash with another process) are kept and raised at that run's next call.

With a spool (the HTTP transport), every batch is written to it under an idempotency
key before it is sent and acknowledged once stored, and a failed send is retried with
the same key: nothing is lost when the process, the server or the network dies, and
nothing is stored twice. Store calls that must not be lost either (a final status while
the server is down; every mutation in offline mode) travel the same way, in order.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from runyard.client.base import FileStore
from runyard.client.batching import (
    BatchItem,
    Call,
    OpItem,
    Points,
    ScalarItem,
    describe,
    group_work,
)
from runyard.client.spool import Spool, Spooled, SpooledBatch, upload_orphans
from runyard.core.entities import NewRun, RunError
from runyard.core.errors import (
    ConflictError,
    LimitExceededError,
    NotFoundError,
    RunyardError,
    TransportError,
)
from runyard.core.limits import Limits
from runyard.core.metrics import PointBatch
from runyard.core.status import Status
from runyard.store.base import TrackingStore

log = logging.getLogger("runyard.pipeline")


def flush_timeout() -> float:
    """How long ending a run waits for queued points (RUNYARD_FLUSH_TIMEOUT, seconds)."""
    return float(os.environ.get("RUNYARD_FLUSH_TIMEOUT", "60"))


@runtime_checkable
class FrameSender(Protocol):
    """A store that takes points as an encoded frame (the HTTP one): no second encoding."""

    def send_frame(self, run_id: str, frame: bytes) -> bool: ...


_ORPHAN_RETRY = 30.0


class LoggingPipeline:
    """Queues metric points (and spooled calls) of any number of runs for one store."""

    def __init__(
        self,
        store: TrackingStore,
        limits: Limits,
        *,
        spool: Spool | None = None,
        files: FileStore | None = None,
        offline: bool = False,
        interval: float = 0.1,
        heartbeat_interval: float = 15.0,
        chunk_points: int = 250_000,
        max_pending: int = 2_000_000,
    ) -> None:
        self.store = store
        self.limits = limits
        self.spool = spool
        self.files = files
        #: Offline: everything stays in the spool until `runyard sync`.
        self.offline = offline
        self.interval = interval
        self.heartbeat_interval = heartbeat_interval
        self.chunk_points = chunk_points
        #: Past this many queued points a logging call writes a chunk itself (back-pressure).
        self.max_pending = max_pending
        self.queue: deque[ScalarItem | BatchItem | OpItem] = deque()
        #: True while some run has an error waiting to be raised; checked on the hot path.
        self.failed = False
        self._errors: dict[str, list[RunyardError]] = {}
        self._retry: list[Points | Call] = []
        self._counts: dict[tuple[str, str, str], int] = {}
        self._seeded: set[str] = set()
        self._watched: set[str] = set()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="runyard-flusher", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # What runs use
    def enqueue_batch(self, run_id: str, batch: PointBatch) -> None:
        """Queue points of a non-scalar kind (lists, rows, images, structured metrics)."""
        self.queue.append((run_id, batch))
        if len(self.queue) > self.max_pending:
            self.relieve()

    def enqueue_op(self, op: str, args: dict[str, Any]) -> None:
        """Queue a store call to be made (and spooled) in order with the points around it."""
        self.queue.append((uuid.uuid4().hex, op, args))

    def relieve(self) -> None:
        """Write one chunk from the calling thread: the queue has grown past `max_pending`."""
        with self._write_lock:
            self._write_chunk()

    def watch(self, run_id: str) -> None:
        """Send heartbeats for this run while it is active in this process."""
        self._watched.add(run_id)

    def unwatch(self, run_id: str) -> None:
        """Stop sending heartbeats for this run."""
        self._watched.discard(run_id)

    def raise_errors(self, run_id: str) -> None:
        """Raise the first error the store reported for this run's points, if any."""
        errors = self._errors.pop(run_id, None)
        self.failed = bool(self._errors)
        if errors:
            first = errors[0]
            if len(errors) > 1:
                first.args = (f"{first.args[0]} (and {len(errors) - 1} more errors)",)
            raise first

    # Flushing
    def flush(self, timeout: float | None = None) -> int:
        """Write everything queued before this call; returns how many points are still waiting.

        With a timeout the wait is bounded: what is left is written later by the flusher
        (or, with a spool, by the next process or `runyard sync`).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        acquired = self._write_lock.acquire(timeout=-1 if timeout is None else max(timeout, 0))
        if not acquired:
            return self.pending()
        try:
            # Only what was queued before the call: others may keep logging meanwhile.
            initial = len(self.queue)
            drained = 0
            while (self._retry and not self.offline) or (self.queue and drained < initial):
                drained += self._write_chunk()
                expired = deadline is not None and time.monotonic() >= deadline
                if self._retry and not self.offline:
                    if deadline is None or expired:
                        break
                    time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
                elif expired:
                    break
            return self.pending()
        finally:
            self._write_lock.release()

    def spool_pending(self, timeout: float = 5.0) -> bool:
        """Put everything queued into the spool now (sending it stays the flusher's job),
        so it survives this process ending right away. False if the lock was not had."""
        if self.spool is None:
            return True
        if not self._write_lock.acquire(timeout=timeout):
            return False
        try:
            while self.queue:
                self._retry.extend(self._spool_fresh(self._drain()))
            return True
        finally:
            self._write_lock.release()

    def pending(self) -> int:
        """Points queued, or spooled and not yet acknowledged."""
        waiting = sum(
            len(b.values) for w in self._retry if isinstance(w, Points) for b in w.batches
        )
        try:
            queued = sum(
                1 if len(i) == 6 else len(i[1].values) if len(i) == 2 else 0
                for i in list(self.queue)
            )
        except RuntimeError:  # the deque changed under us: a count of items will do
            queued = len(self.queue)
        return waiting + queued

    def close(self, timeout: float | None = None) -> None:
        """Stop the flusher and write what is left, waiting at most `timeout` seconds.

        With a spool, what is left is spooled first and the wait is short: an unreachable
        server must not hold the process at exit; the next process or `runyard sync` sends.
        """
        if self._closed:
            return
        self._closed = True
        wait = flush_timeout() if timeout is None else timeout
        self._stop.set()
        self._wake.set()
        self._thread.join(wait)
        if self.spool is not None:
            self.spool_pending(wait)
            wait = min(wait, 5.0)
        left = self.flush(wait)
        if left and self.spool is None:
            log.error("%d metric points could not be written before exit", left)
        if self.spool is not None:
            self.spool.close()
        atexit.unregister(self.close)

    def _loop(self) -> None:
        backoff = self.interval
        beat_at = orphans_at = 0.0
        while not self._stop.is_set():
            self._wake.wait(backoff)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                with self._write_lock:
                    while self.queue and not self._stop.is_set():
                        self._write_chunk()
                    if self._retry and not self.offline:
                        self._write_chunk()
                backoff = self.interval if not self._retry else min(backoff * 2, 5.0)
                now = time.monotonic()
                if self.spool is not None and not self.offline and now >= orphans_at:
                    orphans_at = now + _ORPHAN_RETRY
                    self._upload_orphans()
                if self._watched and not self.offline and now >= beat_at:
                    beat_at = now + self.heartbeat_interval
                    self._beat()
            except Exception as exc:  # the flusher must survive anything and keep trying
                log.warning("runyard flusher: %s; retrying", exc)
                backoff = min(backoff * 2, 5.0)

    def _beat(self) -> None:
        """Heartbeats of the watched runs; a failed one only waits for the next round."""
        for run_id in list(self._watched):
            try:
                self.store.heartbeat(run_id)
            except Exception as exc:
                log.debug("heartbeat of run %s failed: %s", run_id, exc)

    def _upload_orphans(self) -> None:
        """Send what processes that died left in the spool folder."""
        assert self.spool is not None
        sent, points = upload_orphans(self.spool.folder, self.replay, self.limits)
        if sent:
            log.info(
                "uploaded %d spooled batches (%d points) left by ended processes", sent, points
            )

    def replay(self, item: Spooled) -> None:
        """Send one spooled item now; refused items are logged and dropped, an unreachable
        server raises TransportError."""
        try:
            if isinstance(item, SpooledBatch):
                self.store.log_points(item.run_id, item.batches, item.key)
            else:
                self._apply(Call(item.key, item.op, item.args))
        except TransportError:
            raise
        except RunyardError as exc:
            log.warning("a spooled %s was refused and dropped: %s", describe(item), exc)

    # Under the write lock
    def _drain(self) -> list[ScalarItem | BatchItem | OpItem]:
        items: list[ScalarItem | BatchItem | OpItem] = []
        popleft = self.queue.popleft
        budget = self.chunk_points
        try:
            while budget > 0:
                item = popleft()
                items.append(item)
                budget -= 1 if len(item) != 2 else len(item[1].values)
        except IndexError:
            pass
        return items

    def _record_error(self, run_id: str, error: RunyardError) -> None:
        self._errors.setdefault(run_id, []).append(error)
        self.failed = True

    def _within_limit(self, run_id: str, batches: list[PointBatch]) -> list[PointBatch]:
        """Cut batches that would take a metric past its point limit, recording the error."""
        if run_id not in self._seeded and not self.offline:
            try:
                for info in self.store.list_metrics(run_id):
                    self._counts[(run_id, info.name, info.column)] = info.count
                self._seeded.add(run_id)
            except NotFoundError:
                self._seeded.add(run_id)  # created offline, not synced yet: the server counts
            except TransportError:
                pass  # the server is away: count from here, ask again next time
        limit = self.limits.max_points_per_metric
        kept = []
        for batch in batches:
            have = self._counts.get((run_id, batch.name, batch.column), 0)
            room = max(limit - have, 0)
            given = len(batch.values)
            if len(batch.values) > room:
                self._record_error(
                    run_id,
                    LimitExceededError(
                        f"metric {batch.name!r} reached its limit of {limit} points; "
                        f"{len(batch.values) - room} later points were not stored "
                        "(raise it with RUNYARD_LIMIT_MAX_POINTS_PER_METRIC)"
                    ),
                )
                del batch.steps[room:], batch.values[room:], batch.times[room:]
            if batch.values or not given:  # an empty log_list still makes the metric
                kept.append(batch)
            self._counts[(run_id, batch.name, batch.column)] = have + len(batch.values)
        return kept

    def _apply(self, op: Call) -> None:
        """Make a spooled store call; replays of calls already made are harmless."""
        args = op.args
        try:
            if op.op == "create_runs":
                self.store.create_runs([NewRun.model_validate(r) for r in args["runs"]])
            elif op.op == "set_status":
                error = RunError.model_validate(args["error"]) if args.get("error") else None
                self.store.set_status(args["run_id"], Status(args["status"]), error)
            elif op.op == "upload_file":
                assert self.files is not None
                self.files.put_file(args["prefix"], args["name"], args["path"])
                if args.get("spooled_copy"):
                    Path(args["path"]).unlink(missing_ok=True)
            elif op.op in (
                "set_tags",
                "remove_tags",
                "add_properties",
                "log_params",
                "update_run",
                "append_log_lines",
            ):
                getattr(self.store, op.op)(**args)
            else:
                raise RunyardError(f"unknown spooled call {op.op!r}")
        except ConflictError as exc:  # e.g. the run exists already: done before
            log.info("spooled %s already applied: %s", op.op, exc)

    def _spool_fresh(self, items: list[ScalarItem | BatchItem | OpItem]) -> list[Points | Call]:
        """Group drained items into work, checked against limits and written to the spool."""
        fresh = group_work(items)
        for entry in fresh:
            if isinstance(entry, Points):
                entry.batches = self._within_limit(entry.run_id, entry.batches)
                if self.spool is not None:
                    entry.key = uuid.uuid4().hex
                    if entry.batches:
                        entry.frame = self.spool.append(entry.key, entry.run_id, entry.batches)
            elif self.spool is not None:
                self.spool.append_op(entry.key, entry.op, entry.args)
        return fresh

    def _write_chunk(self) -> int:
        """Write one chunk of queued work (earlier failures first); returns items taken."""
        items = self._drain()
        fresh = self._spool_fresh(items)
        work = [*self._retry, *fresh]
        self._retry = []
        if self.offline:
            return len(items)
        for index, entry in enumerate(work):
            try:
                if isinstance(entry, Points):
                    if entry.frame is not None and isinstance(self.store, FrameSender):
                        self.store.send_frame(entry.run_id, entry.frame)
                    elif entry.batches:
                        self.store.log_points(entry.run_id, entry.batches, entry.key)
                else:
                    self._apply(entry)
            except TransportError as exc:
                log.warning("the server is unreachable (%s); will retry", exc)
                self._retry = work[index:]
                return len(items)
            except RunyardError as exc:
                # Permanent: the store refuses this; the run's next call says why.
                run_id = entry.run_id if isinstance(entry, Points) else entry.args.get("run_id", "")
                log.error("%s refused: %s", describe(entry), exc)
                self._record_error(run_id, exc)
            except Exception as exc:  # a bug, not the data's fault: report it, do not stall
                log.exception("writing %s failed", describe(entry))
                run_id = entry.run_id if isinstance(entry, Points) else entry.args.get("run_id", "")
                self._record_error(run_id, RunyardError(f"writing metric points failed: {exc!r}"))
            if self.spool is not None:
                key = entry.key
                if key is not None:
                    self.spool.ack(key)
        return len(items)

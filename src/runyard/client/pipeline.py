"""The logging pipeline: `run.log` enqueues, the journaler spools, the deliverer stores.

A logging call costs a tuple appended to a list, nothing more: it never spools, groups or
encodes. A point's way to durable storage never waits on a database or a network: the
journaler thread wakes every `interval` seconds (50 ms), takes what is queued in slices
of up to `chunk_points`, splits each slice into columns per run and metric with C-level
`map`s (no Python work per point) and appends it to this process's spool segment, one
sequential write per slice, which a `kill -9` cannot undo. It spools a million points in
a fraction of the time a loop takes to log them, so it keeps ahead of any logging loop
without the logging thread's help. Only then does the deliverer (delivery.py, its own
thread) hand the slice to the store or server, under an idempotency key, and record the
ack; whatever a killed process had not delivered is delivered by the next runyard
process or `runyard sync`, once (orphans.py).

Memory is bounded: past `max_pending` queued points, or that many undelivered ones, a
logging call waits for the journaler or the store to catch up (it still never spools).

Store calls that must keep their place among the points (a mutation the server could
not take, every mutation in offline mode) are queued as named items and travel the
same way, replayed through the table in operations.py. Heartbeats run on their own.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
from typing import Any

from runyard.client.base import FileStore
from runyard.client.batching import (
    BatchItem,
    CallItem,
    Points,
    QueueItem,
    group_work,
    item_points,
)
from runyard.client.delivery import Deliverer, FrameSender, RunErrors
from runyard.client.heartbeats import Heartbeats
from runyard.client.spool import Spool
from runyard.core.limits import Limits
from runyard.core.metrics import PointBatch
from runyard.store.base import TrackingStore

log = logging.getLogger("runyard.pipeline")

_now = time.time

#: How long closing waits for delivery to a server before leaving the rest to the spool.
_REMOTE_EXIT_WAIT = 5.0


def flush_timeout() -> float:
    """How long ending a run waits for queued points (RUNYARD_FLUSH_TIMEOUT, seconds)."""
    return float(os.environ.get("RUNYARD_FLUSH_TIMEOUT", "60"))


class LoggingPipeline:
    """Queues, spools and delivers the metric points and calls of any number of runs."""

    def __init__(
        self,
        store: TrackingStore,
        limits: Limits,
        *,
        spool: Spool | None = None,
        files: FileStore | None = None,
        offline: bool = False,
        remote: bool = False,
        interval: float = 0.05,
        heartbeat_interval: float = 15.0,
        chunk_points: int = 50_000,
        max_pending: int = 2_000_000,
    ) -> None:
        self.store = store
        self.limits = limits
        self.spool = spool
        #: Offline: everything stays in the spool until `runyard sync`.
        self.offline = offline
        #: A server, not an embedded store: exit does not wait long for it.
        self.remote = remote
        self.interval = interval
        #: The most points the journaler spools (and the deliverer stores) as one unit.
        self.chunk_points = chunk_points
        #: Past this many queued points a logging call waits for the journaler, and past
        #: this many undelivered ones for the store (back-pressure: bounded memory).
        self.max_pending = max_pending
        #: What a logging call compares the queue's length with (`run.log` reads it
        #: inline): `max_pending`, or 0 while delivery lags, so the next call waits.
        self.room = max_pending
        #: The queue: appended to by logging calls (`run.log` appends `ScalarPoint`
        #: tuples itself, its one shortcut), taken from the front by the journaler only;
        #: never replaced by another list.
        self.queue: list[QueueItem] = []
        #: Whether some run has an error waiting to be raised: a plain attribute (a mirror of
        #: `errors.failed`), as run.log reads it on every call.
        self.failed = False
        self.errors = RunErrors(on_change=self._mirror_failed)
        self._journal_lock = threading.Lock()
        self._seq = 0
        self._keep_frames = isinstance(store, FrameSender)
        self.deliverer = Deliverer(
            store,
            limits,
            self.errors,
            spool=spool,
            files=files,
            offline=offline,
            spool_first=self._journal_if_queued,
        )
        self.heartbeats = Heartbeats(store, heartbeat_interval)
        self._wake = threading.Event()
        #: Set by the journaler after each slice: a logging call waiting for room looks again.
        self._took = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="runyard-journal", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def _mirror_failed(self, failed: bool) -> None:
        self.failed = failed

    # What runs use
    def enqueue_scalar(
        self, run_id: str, name: str, value: Any, step: int | None, description: str
    ) -> None:
        """Queue one scalar point, already checked (`run.log` does the same two lines inline)."""
        queue = self.queue
        queue.append((run_id, name, value, step, _now(), description))
        if len(queue) > self.room:
            self.relieve()

    def enqueue_point(self, run_id: str, name: str, value: float, step: int, ms: int) -> None:
        """Queue one checked scalar point that carries its own time in epoch milliseconds
        (MLflow's metrics: their timestamp is kept exactly, not the time of the call)."""
        queue = self.queue
        queue.append((run_id, name, value, step, ms / 1000.0, ""))
        if len(queue) > self.room:
            self.relieve()

    def enqueue_batch(self, run_id: str, batch: PointBatch) -> None:
        """Queue points of a non-scalar kind (lists, rows, images, structured metrics)."""
        self.queue.append(BatchItem(run_id, batch))
        if len(self.queue) > self.room:
            self.relieve()

    def enqueue_op(self, op: str, args: dict[str, Any]) -> None:
        """Queue a store call to be spooled and made in order with the points around it."""
        self.queue.append(CallItem(uuid.uuid4().hex, op, args))

    def spool_call(self, op: str, args: dict[str, Any]) -> None:
        """Queue a store call and spool it (with everything queued before) before returning:
        the process may end the next moment."""
        self.enqueue_op(op, args)
        self.journal()

    def relieve(self) -> None:
        """Back-pressure, from a logging thread: wait while `max_pending` points are queued
        (for the journaler) or undelivered (for the store; not for one that is unreachable:
        the spool keeps what it cannot take). Spooling stays the journaler's job."""
        while len(self.queue) > self.max_pending // 2:
            if not self._thread.is_alive():  # closed: nobody else will spool them
                self.journal()
                break
            self._took.clear()
            self._wake.set()
            self._took.wait(0.1)
        if self.deliverer.pending_points > self.max_pending:
            self.deliverer.wait_below(self.max_pending // 2)
        self.room = self.max_pending

    def watch(self, run_id: str) -> None:
        """Send heartbeats for this run while it is active in this process."""
        if not self.offline:
            self.heartbeats.watch(run_id)

    def unwatch(self, run_id: str) -> None:
        """Stop sending heartbeats for this run."""
        self.heartbeats.unwatch(run_id)

    def raise_errors(self, run_id: str) -> None:
        """Raise the first error the store reported for this run's points, if any."""
        self.errors.raise_for(run_id)

    def calls_pending(self) -> bool:
        """Whether store calls wait for delivery (a later call must queue behind them);
        spool_call spools at once, so they wait in the deliverer, not in the queue."""
        return self.deliverer.pending_calls > 0

    # Flushing
    def journal(self) -> int:
        """Spool everything queued now; returns the number of the last unit of work spooled."""
        with self._journal_lock:
            return self._journal(len(self.queue))

    def _journal_if_queued(self) -> None:
        if self.queue:
            self.journal()

    def flush(self, timeout: float | None = None) -> int:
        """Store everything queued before this call; returns how many points still wait.

        Everything is spooled at once; with a timeout the wait for the store is bounded
        and what is left is delivered later (by this process, the next one or `runyard
        sync`). Without one, the wait lasts while the store is reachable.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last = self.journal()
        self.deliverer.wait(last, deadline)
        return self.pending()

    def pending(self) -> int:
        """Points queued, or spooled and not yet delivered."""
        return sum(map(item_points, self.queue[:])) + self.deliverer.pending_points

    def close(self, timeout: float | None = None) -> None:
        """Stop the threads and deliver what is left, waiting at most `timeout` seconds.

        Everything is spooled first; a server gets at most a few seconds more (an
        unreachable one must not hold the process at exit): the next runyard process or
        `runyard sync` delivers the rest.
        """
        if self._closed:
            return
        self._closed = True
        wait = flush_timeout() if timeout is None else timeout
        self._stop.set()
        self._wake.set()
        self._thread.join(wait)
        self.journal()
        self.heartbeats.stop()
        if self.remote:
            wait = min(wait, _REMOTE_EXIT_WAIT)
        self.deliverer.close(0.0 if self.offline else wait)
        left = self.deliverer.pending_points
        if left and self.spool is None:
            log.error("%d metric points could not be written before exit", left)
        if self.spool is not None:
            self.spool.close()
        atexit.unregister(self.close)

    # The journaler
    def _loop(self) -> None:
        wait = self.interval
        while not self._stop.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return
            # In a burst, look again after a fifth of the interval: what is queued when the
            # burst ends (and must be on disk within ~100 ms, on a loaded machine too) is
            # small. Slices stay big enough: ~10,000 points at a loop's full speed.
            wait = self.interval / 5 if self.queue else self.interval
            try:
                self.journal()
            except Exception:  # the thread must survive anything and keep going
                log.exception("runyard journal: spooling queued points failed; retrying")

    def _journal(self, count: int) -> int:
        """Under the journal lock: spool the first `count` queued items, slice by slice,
        and hand each slice to the deliverer; returns the last unit's number."""
        queue = self.queue
        while count > 0:
            take = min(count, self.chunk_points)
            # Only this lock's holder removes items; logging calls only append at the end.
            items = queue[:take]
            del queue[:take]
            count -= take
            work = group_work(items)
            for entry in work:
                if isinstance(entry, Points):
                    entry.key = uuid.uuid4().hex
                self._spool(entry)
            self._seq += len(work)
            self.deliverer.submit(work, self._seq)
            self._took.set()
        if self.deliverer.pending_points > self.max_pending and not self.offline:
            self.room = 0  # the next logging call waits for delivery to catch up
        return self._seq

    def _spool(self, entry: Points | Any) -> None:
        if self.spool is None:
            return
        try:
            if isinstance(entry, Points):
                frame = self.spool.append(entry.key or "", entry.run_id, entry.batches)
                if self._keep_frames:
                    entry.frame = frame
            else:
                self.spool.append_op(entry.key, entry.op, entry.args)
        except OSError as exc:  # a full disk: still deliver, without the safety net
            log.error("cannot write the spool (%s): %s is delivered unspooled", exc, entry)

"""The logging pipeline: `run.log` enqueues, the journaler spools, the deliverer stores.

A logging call costs a tuple appended to a list. A point's way to durable storage never
waits on a database or a network: the journaler thread wakes every `interval` seconds
(50 ms), takes everything queued, groups it by run and metric (column-wise, no Python
work per point for a burst of one metric) and appends it to this process's spool
segment — one sequential write per chunk, which a `kill -9` cannot undo. A logging call
that finds the journaler overdue by 100 ms, or `spool_every` items queued, spools them
itself (unless the journaler is at it): a journaler starved of CPU cannot fall behind a
logging loop, and chunks stay big enough for the store to take in few transactions. Only then does
the deliverer (delivery.py, its own thread) hand it to the store or server, under an
idempotency key, and record the ack; whatever a killed process had not delivered is
delivered by the next runyard process or `runyard sync`, once (orphans.py).

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
        spool_every: int = 8_192,
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
        self.chunk_points = chunk_points
        #: Past this many queued points a logging call spools a chunk itself, and past this
        #: many undelivered ones it waits for the store (back-pressure: bounded memory).
        self.max_pending = max_pending
        #: Past this many queued items (or 100 ms) a logging call spools them itself, unless
        #: the journaler is at it: what waits at the end of a burst stays small.
        self.spool_every = spool_every
        #: What the hot path compares the queue's length with: 0 while delivery lags.
        self._room = spool_every
        #: When the journaler is overdue: a logging call after that spools the queue itself.
        self._due = _now() + 2 * interval
        #: The queue: appended to by logging calls, taken from the front by the journaler.
        self.queue: list[QueueItem] = []
        self.errors = RunErrors()
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
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="runyard-journal", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # What runs use
    @property
    def failed(self) -> bool:
        """Whether some run has an error waiting to be raised."""
        return self.errors.failed

    def enqueue_scalar(
        self, run_id: str, name: str, value: Any, step: int | None, description: str
    ) -> None:
        """Queue one scalar point, already checked (run.log's hot path: keep it short)."""
        queue = self.queue
        now = _now()
        queue.append((run_id, name, value, step, now, description))
        if len(queue) > self._room or now > self._due:
            self.relieve()

    def enqueue_point(self, run_id: str, name: str, value: float, step: int, ms: int) -> None:
        """Queue one checked scalar point that carries its own time in epoch milliseconds
        (MLflow's metrics: their timestamp is kept exactly, not the time of the call)."""
        queue = self.queue
        queue.append((run_id, name, value, step, ms / 1000.0, ""))
        if len(queue) > self._room or _now() > self._due:
            self.relieve()

    def enqueue_batch(self, run_id: str, batch: PointBatch) -> None:
        """Queue points of a non-scalar kind (lists, rows, images, structured metrics)."""
        self.queue.append(BatchItem(run_id, batch))
        if len(self.queue) > self._room:
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
        """Back-pressure, from the logging thread: spool what is queued unless the journaler
        is at it (all of it past `max_pending`, waiting for the lock), and wait while
        delivery lags `max_pending` points behind (not for a store that is unreachable:
        the spool keeps what it cannot take)."""
        if len(self.queue) > self.max_pending:
            self.journal()
        elif self._journal_lock.acquire(blocking=False):
            try:
                self._journal(len(self.queue))
            finally:
                self._journal_lock.release()
        if self.deliverer.pending_points > self.max_pending:
            self.deliverer.wait_below(self.max_pending // 2)
        self._room = self.spool_every

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
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.journal()
            except Exception:  # the thread must survive anything and keep going
                log.exception("runyard journal: spooling queued points failed; retrying")

    def _journal(self, count: int) -> int:
        """Under the journal lock: spool the first `count` queued items, chunk by chunk,
        and hand each chunk to the deliverer; returns the last unit's number."""
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
        if self.deliverer.pending_points > self.max_pending and not self.offline:
            self._room = 0  # the next logging call waits for delivery to catch up
        self._due = _now() + 2 * self.interval
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

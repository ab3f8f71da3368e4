"""The logging pipeline: `run.log` enqueues, a background flusher writes batches.

A logging call costs a tuple appended to a deque; the flusher wakes at least every
`interval` seconds, groups what is queued by run and metric and hands each run's
points to the store in one bulk call. Errors the store reports for a run (a limit,
a kind clash with another process) are kept and raised at that run's next call.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from typing import Any

from runyard.core.errors import LimitExceededError, RunyardError
from runyard.core.limits import Limits
from runyard.core.metrics import MetricKind, PointBatch
from runyard.store.base import TrackingStore

log = logging.getLogger("runyard.pipeline")

#: A queued scalar: (run_id, name, value, step, time, description).
ScalarItem = tuple[str, str, Any, int | None, float, str]
#: A queued batch of any kind: (run_id, batch).
BatchItem = tuple[str, PointBatch]

_SCALAR = MetricKind.SCALAR


class LoggingPipeline:
    """Queues metric points of any number of runs and writes them to one store."""

    def __init__(
        self,
        store: TrackingStore,
        limits: Limits,
        *,
        interval: float = 0.1,
        chunk_points: int = 250_000,
        max_pending: int = 2_000_000,
    ) -> None:
        self.store = store
        self.limits = limits
        self.interval = interval
        self.chunk_points = chunk_points
        #: Past this many queued points a logging call writes a chunk itself (back-pressure).
        self.max_pending = max_pending
        self.queue: deque[ScalarItem | BatchItem] = deque()
        #: True while some run has an error waiting to be raised; checked on the hot path.
        self.failed = False
        self._errors: dict[str, list[RunyardError]] = {}
        self._retry: list[tuple[str, list[PointBatch]]] = []
        self._counts: dict[tuple[str, str, str], int] = {}
        self._seeded: set[str] = set()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="runyard-flusher", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # What logging calls use
    def enqueue_batch(self, run_id: str, batch: PointBatch) -> None:
        """Queue points of a non-scalar kind (lists, rows, images, structured metrics)."""
        self.queue.append((run_id, batch))
        if len(self.queue) > self.max_pending:
            self.relieve()

    def relieve(self) -> None:
        """Write one chunk from the calling thread: the queue has grown past `max_pending`."""
        with self._write_lock:
            self._write_chunk()

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
        """Write everything queued before this call; returns how many points are still queued.

        With a timeout the wait is bounded: what is left is written later by the flusher.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        acquired = self._write_lock.acquire(timeout=-1 if timeout is None else max(timeout, 0))
        if not acquired:
            return self.pending()
        try:
            # Only what was queued before the call: others may keep logging meanwhile.
            initial = len(self.queue)
            drained = 0
            while self._retry or (self.queue and drained < initial):
                drained += self._write_chunk()
                expired = deadline is not None and time.monotonic() >= deadline
                if self._retry:
                    if deadline is None or expired:
                        break
                    time.sleep(0.05)
                elif expired:
                    break
            return self.pending()
        finally:
            self._write_lock.release()

    def pending(self) -> int:
        """Points queued or waiting for a retry."""
        retry = sum(len(b.values) for _, batches in self._retry for b in batches)
        try:
            queued = sum(1 if len(i) == 6 else len(i[1].values) for i in list(self.queue))
        except RuntimeError:  # the deque changed under us: a count of items will do
            queued = len(self.queue)
        return retry + queued

    def close(self, timeout: float = 30.0) -> None:
        """Stop the flusher and write what is left, waiting at most `timeout` seconds."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        left = self.flush(timeout)
        if left:
            log.error("%d metric points could not be written before exit", left)
        atexit.unregister(self.close)

    def _loop(self) -> None:
        backoff = self.interval
        while not self._stop.is_set():
            self._wake.wait(backoff)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                with self._write_lock:
                    while self.queue and not self._stop.is_set():
                        self._write_chunk()
                    if self._retry:
                        self._write_chunk()
                backoff = self.interval if not self._retry else min(backoff * 2, 5.0)
            except Exception:  # the flusher must survive anything and keep trying
                log.exception("runyard flusher failed; retrying")
                backoff = min(backoff * 2, 5.0)

    # Under the write lock
    def _drain(self) -> list[ScalarItem | BatchItem]:
        items: list[ScalarItem | BatchItem] = []
        popleft = self.queue.popleft
        budget = self.chunk_points
        try:
            while budget > 0:
                item = popleft()
                items.append(item)
                budget -= 1 if len(item) == 6 else len(item[1].values)
        except IndexError:
            pass
        return items

    @staticmethod
    def _group(items: list[ScalarItem | BatchItem]) -> dict[str, dict[tuple[str, str], PointBatch]]:
        runs: dict[str, dict[tuple[str, str], PointBatch]] = {}
        for item in items:
            if len(item) == 6:
                run_id, name, value, step, t, description = item
                key = (name, "")
                group = runs.get(run_id)
                if group is None:
                    group = runs[run_id] = {}
                batch = group.get(key)
                if batch is None:
                    batch = group[key] = PointBatch(name, _SCALAR, "", description)
                elif description and not batch.description:
                    batch.description = description
                batch.steps.append(step)
                batch.values.append(value)
                batch.times.append(t)
            else:
                run_id, incoming = item
                group = runs.setdefault(run_id, {})
                key = (incoming.name, incoming.column)
                batch = group.get(key)
                if batch is None:
                    group[key] = PointBatch(
                        incoming.name,
                        incoming.kind,
                        incoming.column,
                        incoming.description,
                        list(incoming.steps),
                        list(incoming.values),
                        list(incoming.times),
                    )
                else:
                    batch.steps.extend(incoming.steps)
                    batch.values.extend(incoming.values)
                    batch.times.extend(incoming.times)
                    batch.description = batch.description or incoming.description
        return runs

    def _record_error(self, run_id: str, error: RunyardError) -> None:
        self._errors.setdefault(run_id, []).append(error)
        self.failed = True

    def _within_limit(self, run_id: str, batches: list[PointBatch]) -> list[PointBatch]:
        """Cut batches that would take a metric past its point limit, recording the error."""
        if run_id not in self._seeded:
            for info in self.store.list_metrics(run_id):
                self._counts[(run_id, info.name, info.column)] = info.count
            self._seeded.add(run_id)
        limit = self.limits.max_points_per_metric
        kept = []
        for batch in batches:
            have = self._counts.get((run_id, batch.name, batch.column), 0)
            room = limit - have
            if len(batch.values) > room:
                self._record_error(
                    run_id,
                    LimitExceededError(
                        f"metric {batch.name!r} reached its limit of {limit} points; "
                        f"{len(batch.values) - max(room, 0)} later points were not stored "
                        "(raise it with RUNYARD_LIMIT_MAX_POINTS_PER_METRIC)"
                    ),
                )
                del batch.steps[max(room, 0) :], batch.values[max(room, 0) :]
                del batch.times[max(room, 0) :]
            if batch.values:
                kept.append(batch)
        return kept

    def _write_chunk(self) -> int:
        """Write one chunk of queued points (and earlier failures first); returns points taken."""
        work = self._retry
        self._retry = []
        items = self._drain()
        for run_id, group in self._group(items).items():
            work.append((run_id, list(group.values())))
        taken = len(items)
        for index, (run_id, batches) in enumerate(work):
            try:
                batches = self._within_limit(run_id, batches)
                self.store.log_points(run_id, batches)
            except RunyardError as exc:
                # Permanent: the store refuses these points; the run's next call says why.
                log.error("metric points of run %s refused: %s", run_id, exc)
                self._record_error(run_id, exc)
                continue
            except Exception as exc:
                log.warning("writing metric points failed (%s); will retry", exc)
                self._retry.extend(work[index:])
                return taken
            for batch in batches:
                key = (run_id, batch.name, batch.column)
                self._counts[key] = self._counts.get(key, 0) + len(batch.values)
            log.debug("wrote %d metrics of run %s", len(batches), run_id)
        return taken

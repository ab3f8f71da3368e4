"""Delivery: spooled work goes to the store (a database or a server) on its own thread.

The pipeline's journaler hands over work already on disk; the deliverer sends it in
order, records the ack, and on an unreachable server keeps it at the head and tries
again with growing pauses. Nothing here can delay a point's way to the spool.
Errors the store reports for a run's points (a limit, a kind clash with another
process) are kept in `RunErrors` and raised at that run's next call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from runyard.client.base import FileStore
from runyard.client.batching import Call, Points, Work, describe
from runyard.client.operations import apply
from runyard.client.orphans import replayer, upload_orphans
from runyard.client.spool import Spool
from runyard.core.errors import LimitExceededError, NotFoundError, RunyardError, TransportError
from runyard.core.limits import Limits
from runyard.core.metrics import PointBatch
from runyard.store.base import TrackingStore

log = logging.getLogger("runyard.pipeline")

#: Seconds between two looks for what ended processes left in the spool folder.
ORPHAN_RETRY = 30.0
#: The longest pause between two tries while the store is unreachable.
MAX_BACKOFF = 5.0


@runtime_checkable
class FrameSender(Protocol):
    """A store that takes points as an encoded frame (the HTTP one): no second encoding."""

    def send_frame(self, run_id: str, frame: bytes) -> bool: ...


class RunErrors:
    """Errors the store reported for runs' points, kept until each run's next call."""

    def __init__(self, on_change: Callable[[bool], None] | None = None) -> None:
        #: True while some run has an error waiting.
        self.failed = False
        #: Told each new value of `failed` (the pipeline mirrors it for run.log's hot path).
        self._on_change = on_change
        self._errors: dict[str, list[RunyardError]] = {}
        self._lock = threading.Lock()

    def _set_failed(self, failed: bool) -> None:
        self.failed = failed
        if self._on_change is not None:
            self._on_change(failed)

    def record(self, run_id: str, error: RunyardError) -> None:
        """Keep an error for the run's next call."""
        with self._lock:
            self._errors.setdefault(run_id, []).append(error)
            self._set_failed(True)

    def raise_for(self, run_id: str) -> None:
        """Raise the first error kept for this run, if any (saying how many more there were)."""
        with self._lock:
            errors = self._errors.pop(run_id, None)
            self._set_failed(bool(self._errors))
        if errors:
            first = errors[0]
            if len(errors) > 1:
                first.args = (f"{first.args[0]} (and {len(errors) - 1} more errors)",)
            raise first


class Deliverer:
    """Sends spooled work to the store in the order it was spooled, on its own thread."""

    def __init__(
        self,
        store: TrackingStore,
        limits: Limits,
        errors: RunErrors,
        *,
        spool: Spool | None = None,
        files: FileStore | None = None,
        offline: bool = False,
        interval: float = 0.1,
        spool_first: Callable[[], object] | None = None,
    ) -> None:
        self.store = store
        self.files = files
        self.limits = limits
        self.errors = errors
        self.spool = spool
        #: Offline: nothing is delivered; everything waits in the spool for `runyard sync`.
        self.offline = offline
        self.interval = interval
        #: Called before each delivery: spooling what is queued comes first, so this
        #: thread helps the journaler rather than competing with it for the interpreter.
        self._spool_first = spool_first
        #: Whether the last try met an unreachable store (waiting for it to come back).
        self.failing = False
        self._work: deque[tuple[int, Work, int]] = deque()  # (number, work, its points)
        self._submitted = 0
        self._delivered = 0
        self._calls = 0
        self._points = 0
        self._counts: dict[tuple[str, str, str], int] = {}
        self._seeded: set[str] = set()
        self._recovered = threading.Event()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="runyard-delivery", daemon=True)
        self._thread.start()

    # What the pipeline uses
    def submit(self, work: list[Work], last_seq: int) -> None:
        """Take work already spooled, numbered up to `last_seq` (its last entry's number)."""
        with self._changed:
            if self.offline:  # it stays in the spool for `runyard sync`, not in memory
                self._submitted = self._delivered = last_seq
                return
            first = last_seq - len(work) + 1
            for offset, entry in enumerate(work):
                points = entry.count if isinstance(entry, Points) else 0
                self._work.append((first + offset, entry, points))
                self._points += points
                self._calls += isinstance(entry, Call)
            self._submitted = last_seq
            self._changed.notify_all()

    def wait(self, seq: int, deadline: float | None) -> None:
        """Wait until everything numbered up to `seq` is delivered, or the deadline; without
        a deadline, only while the store is reachable."""
        if self.offline or not self._thread.is_alive():
            return  # closed: what is left waits in the spool for the next process
        self._recovered.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        with self._changed:
            while self._delivered < seq:
                if deadline is None and self.failing:
                    return
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return
                self._changed.wait(0.2 if left is None else min(left, 0.2))

    def wait_below(self, points: int) -> None:
        """Wait until at most `points` points wait for delivery, while the store is reachable."""
        with self._changed:
            while self._points > points and not self.failing and not self._stop.is_set():
                self._changed.wait(0.2)

    @property
    def pending_points(self) -> int:
        """Points spooled and not yet delivered."""
        return self._points

    @property
    def pending_calls(self) -> int:
        """Store calls spooled and not yet delivered."""
        return self._calls

    @property
    def backlog(self) -> int:
        """How far delivery is behind the spool, in units of work."""
        return self._submitted - self._delivered

    def close(self, timeout: float) -> None:
        """Deliver what was submitted for at most `timeout` seconds, then stop."""
        self.wait(self._submitted, time.monotonic() + timeout)
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(max(0.0, min(timeout, 1.0)))

    # The thread
    def _loop(self) -> None:
        backoff = self.interval
        orphans_at = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if not self.offline and self.spool is not None and now >= orphans_at:
                orphans_at = now + ORPHAN_RETRY
                self._upload_orphans()
            self._recovered.set()
            if self._spool_first is not None:
                self._spool_first()
            with self._changed:
                if not self._work:
                    self._changed.wait(self.interval)
                    continue
                seq, entry, points = self._work[0]
            if self.offline:
                self._stop.wait(self.interval)
                continue
            try:
                self._deliver(entry)
            except TransportError as exc:
                if not self.failing:
                    log.warning("the server is unreachable (%s); will retry", exc)
                self.failing = True
                with self._changed:
                    self._changed.notify_all()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            except Exception as exc:  # the thread must survive anything and keep going
                log.exception("delivering %s failed", describe(entry))
                self._record(entry, RunyardError(f"writing metric points failed: {exc!r}"))
            self.failing = False
            backoff = self.interval
            if self.spool is not None:
                self.spool.ack(entry.key or "")
            with self._changed:
                self._work.popleft()
                self._delivered = seq
                self._points -= points
                self._calls -= isinstance(entry, Call)
                self._changed.notify_all()

    def _deliver(self, entry: Work) -> None:
        """Send one unit of work; a refusal is recorded for its run's next call."""
        try:
            if isinstance(entry, Points):
                self._within_limit(entry)
                if entry.frame is not None and isinstance(self.store, FrameSender):
                    self.store.send_frame(entry.run_id, entry.frame)
                elif entry.batches:
                    self.store.log_points(entry.run_id, entry.batches, entry.key)
            else:
                apply(entry.op, entry.args, self.store, self.files)
        except TransportError:
            raise
        except RunyardError as exc:
            log.error("%s refused: %s", describe(entry), exc)
            self._record(entry, exc)

    def _record(self, entry: Work, error: RunyardError) -> None:
        run_id = entry.run_id if isinstance(entry, Points) else entry.args.get("run_id", "")
        self.errors.record(run_id, error)

    def _upload_orphans(self) -> None:
        assert self.spool is not None
        try:
            sent, points = upload_orphans(self.spool.folder, replayer(self.store, self.files))
        except TransportError as exc:
            log.info("what ended processes spooled waits for the server: %s", exc)
            return
        except Exception:
            log.exception("delivering what ended processes spooled failed")
            return
        if sent:
            log.info("delivered %d spooled items (%d points) left by ended processes", sent, points)

    def _within_limit(self, entry: Points) -> None:
        """Cut batches that would take a metric past its point limit, recording the error.

        Done once per unit (a retry must not count its points twice); a cut unit is
        encoded again when sent.
        """
        if entry.limited:
            return
        run_id = entry.run_id
        if run_id not in self._seeded:
            try:
                for info in self.store.list_metrics(run_id):
                    self._counts[(run_id, info.name, info.column)] = info.count
                self._seeded.add(run_id)
            except NotFoundError:
                self._seeded.add(run_id)  # created offline, not synced yet: the server counts
            except TransportError:
                pass  # the server is away: count from here, ask again next time
        limit = self.limits.max_points_per_metric
        kept: list[PointBatch] = []
        for batch in entry.batches:
            have = self._counts.get((run_id, batch.name, batch.column), 0)
            room = max(limit - have, 0)
            given = len(batch.values)
            if given > room:
                self.errors.record(
                    run_id,
                    LimitExceededError(
                        f"metric {batch.name!r} reached its limit of {limit} points; "
                        f"{given - room} later points were not stored "
                        "(raise it with RUNYARD_LIMIT_MAX_POINTS_PER_METRIC)"
                    ),
                )
                del batch.steps[room:], batch.values[room:], batch.times[room:]
                entry.frame = None
            if batch.values or not given:  # an empty log_list still makes the metric
                kept.append(batch)
            self._counts[(run_id, batch.name, batch.column)] = have + len(batch.values)
        entry.batches = kept
        entry.limited = True

"""Live run events for any number of streams at the cost of one: a watcher per run.

A server process keeps at most one `RunWatcher` per run that has open streams. It reads
the run's news from the store (new points, log lines, status) once and hands the same
events to every subscriber's queue; it is woken by PostgreSQL notifications (written by
any server process) or, on SQLite, by a per-process check that something was committed.
The last subscriber to leave stops it. A new subscriber reads what came before it joined
itself (a catch-up), then takes the shared events, skipping what its catch-up had.

Nothing else runs per stream: a stream waits on its queue with no timer of its own. One
task of the hub re-checks, once a second, each distinct credential of the open streams
(a revoked token closes its streams) and sends the keep-alive pings; a stream whose
client left is cancelled by the server (and its next write would fail anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool

from runyard.core.errors import RunyardError
from runyard.core.log_lines import LogLine
from runyard.core.metrics import MetricSeries
from runyard.core.status import Status
from runyard.store.base import TrackingStore
from runyard.store.changes import ChangeListener, DataVersion
from runyard.store.database import Database

log = logging.getLogger("runyard.server")

#: Events a subscriber may have waiting before it is told to catch up from the store
#: itself (a slow client must not make the server hold an unbounded backlog).
MAX_QUEUED = 2_000
#: PostgreSQL: without a notification, a watcher still looks at its run this often
#: (seconds): changes no writer announces (a run marked NotResponding) arrive within this
#: delay. SQLite sees every commit through data_version; its watchers rarely look unasked.
SAFETY_POLL = {"postgresql": 2.0, "sqlite": 30.0}


#: Worker threads the streams of a process share for their own store reads.
STREAM_READERS = 4
#: How often the credentials of open streams are checked again (seconds): with the grant
#: cache's few seconds, a revoked token's streams close within about three seconds.
CHECK_INTERVAL = 1.0
#: Every open stream gets a comment this often (seconds): keeps proxies from closing it.
PING_INTERVAL = 15.0
#: News is handed to this many streams at a time, then other requests get their turn: a
#: run GET waits behind a slice of a thousand streams' writes, not behind all of them.
FANOUT_SLICE = 100


@dataclass(slots=True)
class MetricNews:
    """New points of one metric."""

    series: MetricSeries
    #: The event every subscriber that takes all of it sends, built once.
    shared: Any = None


@dataclass(slots=True)
class LogNews:
    """New lines of one log stream."""

    stream: str
    lines: list[LogLine]
    shared: Any = None


@dataclass(slots=True)
class StatusNews:
    """The run's status changed."""

    status: Status
    error: Any
    shared: Any = None


@dataclass(slots=True)
class EndNews:
    """The run has ended and everything it logged was handed out."""

    status: Status
    shared: Any = None


class Lagged:
    """Put in a lagging subscriber's emptied queue: read the store yourself now."""


class Ping:
    """Send a keep-alive comment."""


@dataclass(slots=True)
class Closed:
    """End the stream: what opened it no longer grants access."""

    error: RunyardError


News = MetricNews | LogNews | StatusNews | EndNews | Lagged | Ping | Closed
_PING = Ping()


@dataclass(eq=False)
class Subscriber:
    """One open stream: its queue of shared news and what it wants."""

    metrics: bool
    logs: bool
    queue: asyncio.Queue[News] = field(default_factory=asyncio.Queue)
    #: Set when the queue overflowed: the stream catches up from the store by itself.
    lagging: bool = False
    watcher: RunWatcher | None = None
    #: Raises RunyardError once what opened the stream no longer grants access (run in a
    #: worker thread, once per `grant` for all the streams that share it).
    recheck: Callable[[], None] | None = None
    #: Streams with equal grants (workspace, credential, role needed) are checked together.
    grant: Hashable = None

    def offer(self, news: News) -> None:
        """Queue news, unless the stream lags (then it reads the store itself)."""
        if self.lagging:
            return
        if self.queue.qsize() >= MAX_QUEUED:
            self.lagging = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(Lagged())
            return
        self.queue.put_nowait(news)

    def close(self, error: RunyardError) -> None:
        """End the stream after what it has queued (even when lagging)."""
        self.queue.put_nowait(Closed(error))


class RunWatcher:
    """Reads one run's news for all its subscribers; woken by the hub."""

    def __init__(self, store: TrackingStore, run_id: str, poll: float, safety: float) -> None:
        self.store = store
        self.run_id = run_id
        self.subscribers: set[Subscriber] = set()
        #: How many subscribers want metrics, and logs: a poll asks without a pass over them.
        self.wanted = {"metrics": 0, "logs": 0}
        self.polls = 0
        self._poll = poll
        self._safety = safety
        self._wake = asyncio.Event()
        self._cursors: dict[tuple[str, str], tuple[int, int]] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._log_after: dict[str, int] = {}
        self._status: Status | None = None
        self._ended = False
        self._again = False
        self._failed: Exception | None = None
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name=f"runyard-watch-{run_id}")

    async def ready(self) -> None:
        """Wait until the watcher knows where the run stands (news after that is shared)."""
        await self._ready.wait()
        if self._failed is not None:
            raise self._failed

    def add(self, subscriber: Subscriber) -> None:
        """A stream joins."""
        if subscriber not in self.subscribers:
            self.subscribers.add(subscriber)
            self.wanted["metrics"] += subscriber.metrics
            self.wanted["logs"] += subscriber.logs

    def remove(self, subscriber: Subscriber) -> None:
        """A stream leaves."""
        if subscriber in self.subscribers:
            self.subscribers.discard(subscriber)
            self.wanted["metrics"] -= subscriber.metrics
            self.wanted["logs"] -= subscriber.logs

    def wake(self) -> None:
        """Look at the run now."""
        self._wake.set()

    def cancel(self) -> None:
        """Stop watching (a read in progress finishes in its thread, unused)."""
        self._task.cancel()

    @property
    def running(self) -> bool:
        """Whether the watcher's task is still going."""
        return not self._task.done()

    def _start_state(self) -> None:
        """Cursors at the run's present: only what is committed from now on is news."""
        store = self.store
        doc = store.get_run(self.run_id)
        self._status = doc.status
        for info in store.list_metrics(self.run_id):
            key = (info.name, info.column)
            self._counts[key] = info.count
            if info.last_step is not None:
                self._cursors[key] = (info.last_step, info.count - 1)
        for stream, count in store.list_log_streams(self.run_id).items():
            self._log_after[stream] = count - 1

    def _read_news(self, metrics: bool, logs: bool) -> list[News]:
        """What was committed since the last read (runs in a worker thread)."""
        store = self.store
        news: list[News] = []
        if metrics:
            for series in store.read_points_since(self.run_id, self._cursors, counts=self._counts):
                assert series.seqs is not None
                self._cursors[(series.name, series.column)] = (series.steps[-1], series.seqs[-1])
                news.append(MetricNews(series))
        if logs:
            for stream, count in store.list_log_streams(self.run_id).items():
                after = self._log_after.get(stream, -1)
                if count - 1 > after:
                    lines = store.read_log_lines(self.run_id, stream, after)
                    if lines:
                        self._log_after[stream] = lines[-1].seq
                        news.append(LogNews(stream, lines))
        doc = store.get_run(self.run_id)
        if doc.status is not self._status:
            self._status = doc.status
            news.append(StatusNews(doc.status, doc.error))
        if doc.status.is_terminal:
            if any(isinstance(n, (MetricNews, LogNews)) for n in news):
                self._again = True  # look again: the end comes after a read with no news
            else:
                news.append(EndNews(doc.status))
        return news

    async def _loop(self) -> None:
        try:
            await run_in_threadpool(self._start_state)
        except Exception as exc:
            self._failed = exc
            self._ended = True
        finally:
            self._ready.set()
        while not self._ended:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._safety)
            self._wake.clear()
            metrics = self.wanted["metrics"] > 0
            logs = self.wanted["logs"] > 0
            try:
                news = await run_in_threadpool(self._read_news, metrics, logs)
            except Exception as exc:  # the database may be away for a moment
                log.warning("watching run %s: %s", self.run_id, exc)
                await asyncio.sleep(self._poll)
                continue
            self.polls += 1
            if self._again:
                self._again = False
                self._wake.set()
            for item in news:
                # A stream that joins meanwhile reads the store itself after joining.
                subscribers = list(self.subscribers)
                for start in range(0, len(subscribers), FANOUT_SLICE):
                    if start:
                        await asyncio.sleep(0)
                    for subscriber in subscribers[start : start + FANOUT_SLICE]:
                        subscriber.offer(item)
                if isinstance(item, EndNews):
                    self._ended = True


class StreamHub:
    """The watchers of one server process, keyed by workspace and run, and what wakes them."""

    def __init__(self, db: Database, poll: float) -> None:
        self.db = db
        self.poll = poll
        self.watchers: dict[tuple[str, str], RunWatcher] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: ChangeListener | None = None
        self._version: DataVersion | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        #: The open streams that need re-checking, by grant.
        self.grants: dict[Hashable, set[Subscriber]] = {}
        #: Worker threads for streams' own reads (joining, catching up): few, so that many
        #: streams opening at once wait for each other, not for the rest of the server.
        self.reads = anyio.CapacityLimiter(STREAM_READERS)

    async def start(self) -> None:
        """Begin listening for changes (PostgreSQL) or checking for commits (SQLite)."""
        self._loop = asyncio.get_running_loop()
        self._keeper = asyncio.create_task(self._keep(), name="runyard-stream-keeper")
        if self.db.is_pg:
            self._listener = ChangeListener(self.db, self._changed_threadsafe)
            self._listener.start()
        else:
            self._version = await run_in_threadpool(DataVersion, self.db)
            self._ticker = asyncio.create_task(self._tick(), name="runyard-stream-ticker")

    async def close(self) -> None:
        """Stop every watcher and the change feed."""
        for task in (self._ticker, self._keeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for watcher in list(self.watchers.values()):
            watcher.cancel()
        self.watchers.clear()
        if self._listener is not None:
            await run_in_threadpool(self._listener.stop)
        if self._version is not None:
            self._version.close()

    def wake(self, workspace: str, run_id: str) -> None:
        """A request of this process wrote to the run: its watcher looks now."""
        watcher = self.watchers.get((workspace, run_id))
        if watcher is not None:
            watcher.wake()

    def _changed_threadsafe(self, run_id: str) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._changed, run_id)

    def _changed(self, run_id: str) -> None:
        # Run ids are unique across workspaces: the id alone names the watcher's run.
        for (_, watched), watcher in self.watchers.items():
            if watched == run_id:
                watcher.wake()

    async def _tick(self) -> None:
        """SQLite: one cheap check per tick for the whole process; watchers read only then."""
        assert self._version is not None
        while True:
            await asyncio.sleep(self.poll)
            if self.watchers and self._version.changed():
                for watcher in self.watchers.values():
                    watcher.wake()

    async def _keep(self) -> None:
        """Re-check each grant of the open streams once per interval (one worker-thread
        call for all the streams that share it), and ping every stream now and then."""
        pinged = time.monotonic()
        while True:
            await asyncio.sleep(CHECK_INTERVAL)
            for members in list(self.grants.values()):
                if not members:
                    continue
                recheck = next(iter(members)).recheck
                assert recheck is not None
                try:
                    await run_in_threadpool(recheck)
                except RunyardError as lost:
                    for subscriber in list(members):
                        subscriber.close(lost)
                except Exception as exc:  # the database may be away: keep the streams
                    log.warning("re-checking the access of open streams: %s", exc)
            if time.monotonic() - pinged >= PING_INTERVAL:
                pinged = time.monotonic()
                for watcher in list(self.watchers.values()):
                    for subscriber in list(watcher.subscribers):
                        subscriber.offer(_PING)

    async def subscribe(
        self, store: TrackingStore, workspace: str, run_id: str, subscriber: Subscriber
    ) -> RunWatcher:
        """Join (or start) the run's watcher; news from the moment this returns is queued."""
        watcher = self.watchers.get((workspace, run_id))
        if watcher is None or not watcher.running:
            safety = SAFETY_POLL["postgresql" if self.db.is_pg else "sqlite"]
            watcher = RunWatcher(store, run_id, self.poll, safety)
            self.watchers[(workspace, run_id)] = watcher
        watcher.add(subscriber)
        subscriber.watcher = watcher
        if subscriber.recheck is not None:
            self.grants.setdefault(subscriber.grant, set()).add(subscriber)
        try:
            await watcher.ready()
        except BaseException:
            self.unsubscribe(workspace, run_id, subscriber)
            raise
        return watcher

    def unsubscribe(self, workspace: str, run_id: str, subscriber: Subscriber) -> None:
        """Leave; the last one out stops the watcher. Synchronous, so it also runs in a
        stream's cleanup after its client went away (when every await is cancelled)."""
        members = self.grants.get(subscriber.grant)
        if members is not None:
            members.discard(subscriber)
            if not members:
                del self.grants[subscriber.grant]
        watcher = subscriber.watcher
        if watcher is None:
            return
        subscriber.watcher = None
        watcher.remove(subscriber)
        if not watcher.subscribers:
            watcher.cancel()
            if self.watchers.get((workspace, run_id)) is watcher:
                del self.watchers[(workspace, run_id)]

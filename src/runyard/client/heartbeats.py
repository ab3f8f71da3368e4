"""Heartbeats: a run active in this process tells its store so, every so often.

They run on their own thread: a heartbeat waits on the network, and neither journaling
nor delivering points may wait on a heartbeat (or the other way round).
"""

from __future__ import annotations

import logging
import threading

from runyard.store.base import TrackingStore

log = logging.getLogger("runyard.pipeline")


class Heartbeats:
    """Sends a heartbeat for each watched run every `interval` seconds."""

    def __init__(self, store: TrackingStore, interval: float = 15.0) -> None:
        self.store = store
        self.interval = interval
        self._watched: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def watch(self, run_id: str) -> None:
        """Send heartbeats for this run from now on."""
        self._watched.add(run_id)
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._loop, name="runyard-heartbeats", daemon=True
                )
                self._thread.start()

    def unwatch(self, run_id: str) -> None:
        """Stop sending heartbeats for this run."""
        self._watched.discard(run_id)

    @property
    def watched(self) -> set[str]:
        """The runs heartbeats are sent for (a copy)."""
        return set(self._watched)

    def beat(self) -> None:
        """One heartbeat per watched run; a failed one only waits for the next round."""
        for run_id in list(self._watched):
            try:
                self.store.heartbeat(run_id)
            except Exception as exc:
                log.debug("heartbeat of run %s failed: %s", run_id, exc)

    def stop(self) -> None:
        """Stop the thread (it is a daemon: a heartbeat in flight does not hold exit)."""
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.interval)

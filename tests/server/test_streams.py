"""Event streams share one watcher per run: their cost does not grow with their number.

The server runs in this process (uvicorn on a loopback port, real connections) so the
tests can look at its watchers and count the statements it sends to the database.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import event

from runyard.core.entities import NewRun
from runyard.core.metrics import MetricKind, PointBatch
from runyard.core.status import Status
from runyard.server.app import create_app
from runyard.server.config import ServerConfig
from runyard.server.streams import StreamHub
from runyard.store.database import Database
from runyard.store.sql import SqlTrackingStore
from tests.conftest import ServerProcess, free_port


@dataclass
class LiveServer:
    app: FastAPI
    url: str
    statements: list[str]

    @property
    def hub(self) -> StreamHub:
        return self.app.state.streams  # type: ignore[no-any-return]

    def api(self, workspace: str = "live") -> str:
        return f"{self.url}/api/v1/workspaces/{workspace}"


@pytest.fixture
def live(store_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The server app on a loopback port, in a thread of this process."""
    config = ServerConfig(
        store_url=store_url,
        artifacts_url=str(tmp_path / "artifacts"),
        port=free_port(),
        liveness_interval=3600,
    )
    app = create_app(config)
    statements: list[str] = []
    db = Database.open(store_url)

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.read_engine, "before_cursor_execute", count)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=config.port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield LiveServer(app, f"http://127.0.0.1:{config.port}", statements)
    finally:
        server.should_exit = True
        thread.join(10)
        event.remove(db.read_engine, "before_cursor_execute", count)


def _new_run(store_url: str, run_id: str, workspace: str = "live") -> SqlTrackingStore:
    store = SqlTrackingStore(store_url, workspace=workspace)
    store.create_runs([NewRun(run_id=run_id, experiment_name="streams", status=Status.RUNNING)])
    return store


def _points(values: list[float]) -> list[PointBatch]:
    n = len(values)
    return [PointBatch("loss", MetricKind.SCALAR, "", "", [None] * n, values, [1.0] * n)]


class Stream:
    """One event stream on its own socket, read in a thread, its events collected.

    A raw socket, so that closing it (shutdown) reaches the server at once even while the
    reading thread is blocked in recv.
    """

    def __init__(self, url: str, stack: ExitStack) -> None:
        parsed = httpx.URL(url)
        self.events: list[tuple[str, Any]] = []
        self._sock = socket.create_connection((parsed.host, parsed.port or 80), timeout=60)
        target = parsed.raw_path.decode()
        self._sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {parsed.host}\r\n\r\n".encode())
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        stack.callback(self.close)

    def _chunks(self) -> Iterator[bytes]:
        """The body of a chunked response, chunk by chunk."""
        buffer = b""

        def fill() -> bool:
            nonlocal buffer
            data = self._sock.recv(65536)
            buffer += data
            return bool(data)

        while b"\r\n\r\n" not in buffer:
            if not fill():
                return
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200"), head
        while True:
            while b"\r\n" not in buffer:
                if not fill():
                    return
            size_line, rest = buffer.split(b"\r\n", 1)
            size = int(size_line, 16)
            while len(rest) < size + 2:
                if not fill():
                    return
                rest = buffer.split(b"\r\n", 1)[1]
            if size == 0:
                return
            yield rest[:size]
            buffer = rest[size + 2 :]

    def _read(self) -> None:
        kind = ""
        text = ""
        try:
            for chunk in self._chunks():
                text += chunk.decode()
                *lines, text = text.split("\n")
                for line in lines:
                    line = line.rstrip("\r")
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        self.events.append((kind, json.loads(line[6:])))
        except OSError:
            pass

    def values(self) -> list[float]:
        return [v for k, d in self.events if k == "metric" for v in d["values"]]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


def _wait(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_streams_of_a_run_share_one_watcher_and_idle_streams_cost_nothing(
    live: LiveServer, store_url: str
) -> None:
    store = _new_run(store_url, "shared")
    store.log_points("shared", _points([1.0, 2.0]))
    n = 30
    with ExitStack() as stack:
        streams = [Stream(f"{live.api()}/runs/shared/events", stack) for _ in range(n)]
        _wait(lambda: all(s.values() == [1.0, 2.0] for s in streams))
        assert len(live.hub.watchers) == 1
        (watcher,) = live.hub.watchers.values()
        assert len(watcher.subscribers) == n
        # Idle: before, every stream polled the store four times a second (over a thousand
        # statements in this window); now nothing on SQLite, and on PostgreSQL the one
        # watcher's safety poll (every two seconds, about ten statements).
        live.statements.clear()
        time.sleep(2.5)
        assert len(live.statements) <= 25, live.statements
        polls = watcher.polls
        store.log_points("shared", _points([3.0]))
        _wait(lambda: all(s.values() == [1.0, 2.0, 3.0] for s in streams))
        assert watcher.polls - polls <= 3  # read once for all thirty streams
        store.set_status("shared", Status.COMPLETED)
        _wait(lambda: all(s.events and s.events[-1][0] == "end" for s in streams))
    _wait(lambda: not live.hub.watchers)


def test_a_stream_whose_client_left_stops_its_watcher(live: LiveServer, store_url: str) -> None:
    _new_run(store_url, "left")
    with ExitStack() as stack:
        stream = Stream(f"{live.api()}/runs/left/events", stack)
        _wait(lambda: bool(stream.events))
        assert ("live", "left") in live.hub.watchers
        watcher = live.hub.watchers[("live", "left")]
        stream.close()
    _wait(lambda: not live.hub.watchers, timeout=5)
    _wait(lambda: not watcher.running, timeout=5)
    live.statements.clear()
    time.sleep(2.5)
    assert live.statements == []  # no store work left for a run nobody follows


def test_a_stream_opened_later_gets_the_history_then_shared_news_once(
    live: LiveServer, store_url: str
) -> None:
    store = _new_run(store_url, "late")
    store.log_points("late", _points([1.0]))
    with ExitStack() as stack:
        first = Stream(f"{live.api()}/runs/late/events", stack)
        _wait(lambda: first.values() == [1.0])
        store.log_points("late", _points([2.0]))
        second = Stream(f"{live.api()}/runs/late/events", stack)
        now = Stream(f"{live.api()}/runs/late/events?from_start=false", stack)
        _wait(lambda: second.values() == [1.0, 2.0] and first.values() == [1.0, 2.0])
        _wait(lambda: any(k == "status" for k, _ in now.events))
        store.log_points("late", _points([3.0]))
        store.append_log_lines("late", "stdout", ["hello"])
        store.set_status("late", Status.COMPLETED)
        for stream in (first, second, now):
            _wait(lambda s=stream: bool(s.events) and s.events[-1][0] == "end")
    assert first.values() == second.values() == [1.0, 2.0, 3.0]
    assert now.values() == [3.0]
    logs = [line for k, d in second.events if k == "log" for line in d["lines"]]
    assert logs == ["hello"]


@pytest.mark.parametrize("backend", ["postgres"])
def test_streams_see_what_another_server_process_wrote(store_url: str, tmp_path: Path) -> None:
    """Two server processes over one PostgreSQL: the writer's NOTIFY wakes the reader's
    watcher (its safety poll alone would take two seconds)."""
    reader = ServerProcess(store_url, tmp_path / "a").start(timeout=90)
    writer = ServerProcess(store_url, tmp_path / "a").start(timeout=90)
    try:
        api_r = f"{reader.url}/api/v1/workspaces/two"
        api_w = f"{writer.url}/api/v1/workspaces/two"
        httpx.post(
            f"{api_w}/runs",
            json={"runs": [{"run_id": "x", "experiment_name": "e", "status": "Running"}]},
        ).raise_for_status()
        with ExitStack() as stack:
            stream = Stream(f"{api_r}/runs/x/events", stack)
            _wait(lambda: bool(stream.events))
            delays = []
            for i in range(5):
                body = {"batches": [{"name": "loss", "kind": "scalar", "values": [float(i)],
                                     "times": [time.time()]}]}  # fmt: skip
                start = time.monotonic()
                httpx.post(f"{api_w}/runs/x/points", json=body).raise_for_status()
                _wait(lambda i=i: len(stream.values()) == i + 1)
                delays.append(time.monotonic() - start)
            httpx.post(f"{api_w}/runs/x/status", json={"status": "Completed"}).raise_for_status()
            _wait(lambda: stream.events[-1][0] == "end")
        assert stream.values() == [0.0, 1.0, 2.0, 3.0, 4.0]
        assert sorted(delays)[2] < 1.5, delays  # the median: notified, not polled
    finally:
        reader.stop()
        writer.stop()


def test_an_event_is_encoded_once_for_all_its_streams_and_idle_streams_have_no_timers(
    live: LiveServer, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.server.routes import events

    encoded: list[str] = []
    real_event = events._event

    def counted_event(kind: str, data: Any) -> bytes:
        encoded.append(kind)
        return real_event(kind, data)

    monkeypatch.setattr(events, "_event", counted_event)
    control = live.app.state.access
    rechecks: list[object] = []
    real_recheck = control.recheck

    def counted_recheck(access: Any) -> None:
        rechecks.append(access)
        real_recheck(access)

    monkeypatch.setattr(control, "recheck", counted_recheck)
    store = _new_run(store_url, "fan")
    n = 40
    with ExitStack() as stack:
        streams = [Stream(f"{live.api()}/runs/fan/events", stack) for _ in range(n)]
        _wait(lambda: all(any(k == "status" for k, _ in s.events) for s in streams))
        # Idle: the access of all forty streams is re-checked once a second in all, not
        # once a second per stream.
        rechecks.clear()
        time.sleep(3.2)
        assert 1 <= len(rechecks) <= 5, len(rechecks)
        encoded.clear()
        store.log_points("fan", _points([1.0, 2.0]))
        store.append_log_lines("fan", "stdout", ["a line"])
        _wait(lambda: all(s.values() == [1.0, 2.0] for s in streams))
        _wait(lambda: all(any(k == "log" for k, _ in s.events) for s in streams))
        store.set_status("fan", Status.COMPLETED)
        _wait(lambda: all(s.events[-1][0] == "end" for s in streams))
    assert sorted(encoded) == ["end", "log", "metric", "status"]

"""Live streams, heartbeats and chart history, against a real server process."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runyard import Experiment, Workspace
from runyard.sdk.workspace import close_all
from tests.conftest import ServerProcess, poll_until


@pytest.fixture
def server(store_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server whose heartbeat timeout is short enough to watch a run go silent."""
    process = ServerProcess(
        store_url,
        tmp_path / "artifacts",
        "--heartbeat-timeout",
        "1.5",
        env={"RUNYARD_LIVENESS_INTERVAL": "0.2"},
    ).start()
    yield process
    close_all()
    process.stop()


def _api(server: ServerProcess, workspace: str) -> str:
    return f"{server.url}/api/v1/workspaces/{workspace}"


def _events(url: str, until: str, timeout: float = 20.0) -> list[tuple[str, dict]]:
    """Read server-sent events until an event of kind `until` (or the deadline)."""
    found: list[tuple[str, dict]] = []
    kind = ""
    deadline = time.monotonic() + timeout
    with httpx.stream("GET", url, timeout=timeout) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                found.append((kind, json.loads(line[6:])))
                if kind == until:
                    return found
            if time.monotonic() > deadline:
                break
    return found


def test_event_stream_carries_points_logs_and_status_then_ends(
    server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    ws = Workspace("live", server_url=server.url)
    run = Experiment(ws, "stream").start_logging()
    for i in range(5):
        run.log("loss", 1.0 / (i + 1))
    run.log("loss", math.nan)
    ws.transport.store.append_log_lines(run.id, "stdout", ["epoch 1", "<b>not html</b>"])
    run.complete()
    events = _events(f"{_api(server, 'live')}/runs/{run.id}/events", until="end")
    kinds = [k for k, _ in events]
    assert kinds[0] == "status" and kinds[-1] == "end"
    points = [d for k, d in events if k == "metric" and d["name"] == "loss"]
    values = [v for d in points for v in d["values"]]
    assert values[:5] == [1.0, 0.5, 1 / 3, 0.25, 0.2] and values[5] == "NaN"
    logs = [line for k, d in events if k == "log" for line in d["lines"]]
    assert logs == ["epoch 1", "<b>not html</b>"]
    assert events[-1][1]["status"] == "Completed"


def test_event_stream_follows_a_running_run(
    server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    ws = Workspace("follow", server_url=server.url)
    run = Experiment(ws, "stream").start_logging()
    run.log("acc", 0.1)
    run.flush()
    url = f"{_api(server, 'follow')}/runs/{run.id}/events"
    seen: list[float] = []
    with httpx.stream("GET", url, timeout=20) as response:
        kind = ""
        logged_more = False
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "metric":
                seen.extend(json.loads(line[6:])["values"])
                if not logged_more:  # the stream is open: what is logged now must arrive
                    logged_more = True
                    run.log("acc", 0.2)
                    run.log("acc", 0.3)
                    run.complete()
            elif line.startswith("data: ") and kind == "end":
                break
    assert seen == [0.1, 0.2, 0.3]


def _sse(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    kind = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield kind, json.loads(line[6:])


def test_a_dropped_stream_resumes_from_its_cursor_without_losing_or_repeating(
    server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    ws = Workspace("resume", server_url=server.url)
    store = ws.transport.store
    run = Experiment(ws, "stream").start_logging()
    for i in range(5):
        run.log("loss", float(i))
    run.flush()
    store.append_log_lines(run.id, "stdout", ["before 0", "before 1"])
    url = f"{_api(server, 'resume')}/runs/{run.id}/events?from_start=false"
    # The first stream: what was logged before it opened is skipped (the page read it),
    # what comes while it is open arrives; then the connection drops.
    cursor: dict = {}
    values: list[float] = []
    lines: list[str] = []
    with httpx.stream("GET", url, timeout=20) as response:
        for kind, data in _sse(response):
            if kind == "cursor":
                cursor = data
                assert cursor == {"m": [["loss", "", 4, 4]], "l": [["stdout", 1]]}
                for i in range(5, 8):
                    run.log("loss", float(i))
                run.flush()
                store.append_log_lines(run.id, "stdout", ["open 2", "open 3"])
            elif kind == "metric":
                values.extend(data["values"])
                cursor["m"] = [["loss", "", data["steps"][-1], data["last_seq"]]]
            elif kind == "log":
                lines.extend(data["lines"])
                cursor["l"] = [[data["stream"], data["first"] + len(data["lines"]) - 1]]
            if len(values) == 3 and len(lines) == 2:
                break  # dropped
    assert values == [5.0, 6.0, 7.0] and lines == ["open 2", "open 3"]
    # Logged while no stream was open:
    for i in range(8, 12):
        run.log("loss", float(i))
    run.flush()
    store.append_log_lines(run.id, "stdout", ["gap 4", "gap 5"])
    run.complete()
    resumed = httpx.get(url, params={"resume": json.dumps(cursor)}, timeout=20)
    events = list(_sse(resumed))
    assert events[1] == ("cursor", cursor)
    again = [v for k, d in events if k == "metric" for v in d["values"]]
    assert again == [8.0, 9.0, 10.0, 11.0]  # each missed point once, none repeated
    assert [ln for k, d in events if k == "log" for ln in d["lines"]] == ["gap 4", "gap 5"]
    assert events[-1][0] == "end"
    bad = httpx.get(url, params={"resume": '{"m": [["loss", 1]]}'}, timeout=20)
    assert bad.status_code == 400 and "resume" in bad.json()["error"]["message"]


def test_silent_run_becomes_not_responding_and_comes_back(
    server: ServerProcess, tmp_path: Path
) -> None:
    api = _api(server, "beats")
    created = httpx.post(
        f"{api}/runs",
        json={"runs": [{"run_id": "beating", "experiment_name": "hb", "status": "Running"}]},
    )
    assert created.status_code == 200
    assert httpx.post(f"{api}/runs/beating/heartbeat").status_code == 204

    def status() -> str:
        return str(httpx.get(f"{api}/runs/beating").json()["status"])

    poll_until(lambda: status() == "NotResponding", 15, "the silent run to be NotResponding")
    assert httpx.post(f"{api}/runs/beating/heartbeat").status_code == 204
    assert status() == "Running"


def test_run_without_heartbeats_is_left_alone(server: ServerProcess) -> None:
    api = _api(server, "quiet")
    httpx.post(
        f"{api}/runs",
        json={"runs": [{"run_id": "quiet-run", "experiment_name": "hb", "status": "Running"}]},
    )
    done = httpx.post(
        f"{api}/runs",
        json={"runs": [{"run_id": "probe", "experiment_name": "hb", "status": "Running"}]},
    )
    assert done.status_code == 200
    httpx.post(f"{api}/runs/probe/heartbeat")
    poll_until(
        lambda: httpx.get(f"{api}/runs/probe").json()["status"] == "NotResponding",
        15,
        "the probe run to be NotResponding",
    )
    assert httpx.get(f"{api}/runs/quiet-run").json()["status"] == "Running"


def test_history_of_a_long_series_is_downsampled_keeping_spikes(
    server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    ws = Workspace("charts", server_url=server.url)
    run = Experiment(ws, "history").start_logging()
    n = 100_000
    for i in range(n):
        run.log("signal", math.sin(i / 500) if i != 77_777 else 1000.0)
    run.log("short", 1.0)
    run.complete()
    api = _api(server, "charts")
    history = httpx.get(
        f"{api}/runs/{run.id}/metrics/history", params={"name": "signal", "max_points": 1000}
    ).json()
    assert history["downsampled"] is True and history["count"] == n
    assert len(history["steps"]) <= 1000
    assert max(history["max"]) == 1000.0  # the spike survives bucketing
    assert sum(history["counts"]) == n
    assert history["steps"] == sorted(history["steps"])
    short = httpx.get(
        f"{api}/runs/{run.id}/metrics/history", params={"name": "short", "max_points": 10}
    ).json()
    assert short["downsampled"] is False and short["values"] == [1.0]
    missing = httpx.get(f"{api}/runs/{run.id}/metrics/history", params={"name": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["error"]["message"]

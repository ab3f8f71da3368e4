"""Many open event streams on one server: delivery delay, other requests, idle cost.

A `runyard server` (SQLite, one worker) on loopback; N clients (real TCP connections,
asyncio in this process) follow one running run's event stream. Measured:

- idle cost: the server's CPU use over a few seconds with N streams open and no news;
- delivery: a point is logged every 0.5 s (its value is the time it was sent); each
  stream's delay from sending to receiving, over every stream and point;
- other requests: a run GET's latency with the N streams open vs. with none.

Targets (issue 7, item 12): 1,000 streams, events delivered within 1 s (p99), other
requests unaffected (p50 within 2x + 20 ms of the no-stream figure).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from _common import cli, note, percentile, print_table, row, temp_folder
from bench_server import runyard_server

CONNECT_TIMEOUT = 120.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Follower:
    """One stream: a raw connection whose metric events' delays are recorded."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.delays: list[float] = []
        self.writer: asyncio.StreamWriter | None = None

    async def follow(self, host: str, port: int, path: str) -> None:
        reader, self.writer = await asyncio.open_connection(host, port)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await self.writer.drain()
        kind = b""
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"event: "):
                    kind = line[7:].strip()
                    if kind == b"status":
                        self.connected.set()
                elif line.startswith(b"data: ") and kind == b"metric":
                    now = time.time()
                    for sent in json.loads(line[6:])["values"]:
                        self.delays.append(now - sent)
        except (ConnectionError, asyncio.IncompleteReadError):
            return

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _probe(client: httpx.AsyncClient, url: str, seconds: float) -> list[float]:
    """Latencies (ms) of a run GET, four times a second."""
    found = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.perf_counter()
        answer = await client.get(url)
        answer.raise_for_status()
        found.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.25)
    return found


async def _measure(url: str, pid: int, streams: int, seconds: float) -> dict[str, Any]:
    workspace = f"s{uuid.uuid4().hex[:8]}"
    api = f"{url}/api/v1/workspaces/{workspace}"
    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or 80
    async with httpx.AsyncClient(timeout=60) as client:
        body = {"runs": [{"run_id": "followed", "experiment_name": "e", "status": "Running"}]}
        (await client.post(f"{api}/runs", json=body)).raise_for_status()
        run_url = f"{api}/runs/followed"
        note("streams: run GET latency without streams …")
        quiet = await _probe(client, run_url, 4)
        note(f"streams: opening {streams:,} streams …")
        followers = [Follower() for _ in range(streams)]
        path = f"/api/v1/workspaces/{workspace}/runs/followed/events"
        opened = time.monotonic()
        tasks = []
        for i, f in enumerate(followers):
            tasks.append(asyncio.create_task(f.follow(host, port, path)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(f.connected.wait() for f in followers)), CONNECT_TIMEOUT
            )
        connected = sum(f.connected.is_set() for f in followers)
        open_s = time.monotonic() - opened
        note(f"streams: {connected:,} connected in {open_s:.1f} s; idle cost …")
        await asyncio.sleep(1.0)
        cpu0, t0 = _cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(4.0)
        idle_cpu = (_cpu_seconds(pid) - cpu0) / (time.monotonic() - t0) * 100
        note(f"streams: logging a point every 0.5 s for {seconds:.0f} s …")
        sent = 0

        async def write() -> None:
            nonlocal sent
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                batch = {"name": "t", "kind": "scalar", "values": [time.time()]}
                batch["times"] = [time.time()]
                (
                    await client.post(f"{api}/runs/followed/points", json={"batches": [batch]})
                ).raise_for_status()
                sent += 1
                await asyncio.sleep(0.5)

        writing = asyncio.create_task(write())
        loaded = await _probe(client, run_url, seconds)
        await writing
        await asyncio.sleep(3.0)  # the last points' delivery
        rss = _rss_mb(pid)
        closed = time.monotonic()
        for f in followers:
            f.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        cpu1 = _cpu_seconds(pid)
        await asyncio.sleep(3.0)
        after_cpu = (_cpu_seconds(pid) - cpu1) / (time.monotonic() - closed) * 100
    delays = [d for f in followers for d in f.delays]
    expected = sent * connected
    return {
        "connected": connected,
        "open_s": open_s,
        "idle_cpu": idle_cpu,
        "after_cpu": after_cpu,
        "rss": rss,
        "delivered": len(delays),
        "expected": expected,
        "p50": statistics.median(delays) if delays else None,
        "p99": percentile(delays, 99) if delays else None,
        "max": max(delays) if delays else None,
        "get_quiet": statistics.median(quiet),
        "get_quiet_p99": percentile(quiet, 99),
        "get_loaded": statistics.median(loaded),
        "get_loaded_p99": percentile(loaded, 99),
    }


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Open the streams, measure; rows for the table."""
    streams, seconds = (100, 6.0) if quick else (1_000, 15.0)
    with temp_folder("streams") as folder:
        server, url = runyard_server(f"sqlite:///{folder}/runyard.db", folder)
        try:
            m = asyncio.run(_measure(url, server.proc.pid, streams, seconds))
        finally:
            server.stop()
    n = m["connected"]
    rows = [
        row(f"streams open (of {streams:,})", n, "streams", target=streams, lower_is_better=False),
        row(f"  time to open {n:,} streams", m["open_s"], "s"),
        row(f"server CPU, {n:,} idle streams", m["idle_cpu"], "% of a core", target=10.0),
        row(
            f"events delivered ({m['expected']:,} expected)",
            m["delivered"],
            "events",
            target=m["expected"],
            lower_is_better=False,
        ),
        row("delivery delay p50", (m["p50"] or 0) * 1000, "ms"),
        row("delivery delay p99", (m["p99"] or 0) * 1000, "ms", target=1000.0),
        row("delivery delay max", (m["max"] or 0) * 1000, "ms"),
        row("run GET p50, no streams", m["get_quiet"], "ms"),
        row(
            f"run GET p50, {n:,} streams + points",
            m["get_loaded"],
            "ms",
            target=2 * m["get_quiet"] + 20,
        ),
        row(f"run GET p99, {n:,} streams + points", m["get_loaded_p99"], "ms"),
        row("server RSS with the streams", m["rss"], "MB"),
        row("server CPU after the clients left", m["after_cpu"], "% of a core", target=5.0),
    ]
    print_table(
        "Event streams on one server (SQLite, 1 worker)",
        rows,
        caption="clients and server share this machine; one repetition",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

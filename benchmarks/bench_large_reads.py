"""Reading a very long series through a server: memory stays bounded, others are served.

A run with one N-point metric is written straight into a SQLite store, then a `runyard
server` (one worker) serves it. Measured: `run.get_metrics()` over HTTP (every point; the
client follows the series pages), the chart history without `max_points`, the server's
peak RSS during the reads, and a run GET's latency while the big read is in flight.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from _common import cli, note, percentile, print_table, row, temp_folder
from bench_server import runyard_server


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _fill(store_url: str, n: int) -> None:
    """One run "long" with an n-point "loss" metric, in chunks of 500,000."""
    from runyard.core.entities import NewRun
    from runyard.core.metrics import MetricKind, PointBatch
    from runyard.store.sql import SqlTrackingStore

    store = SqlTrackingStore(store_url, workspace="reads")
    store.create_runs([NewRun(run_id="long", experiment_name="reads")])
    chunk = 500_000
    for first in range(0, n, chunk):
        size = min(chunk, n - first)
        values = [float(i % 1000) for i in range(first, first + size)]
        store.log_points(
            "long",
            [PointBatch("loss", MetricKind.SCALAR, "", "", [None] * size, values, [1.0] * size)],
        )
    store.close()


class Sampler:
    """The server's peak RSS and a run GET's latencies, sampled while a read runs."""

    def __init__(self, pid: int, url: str) -> None:
        self.pid = pid
        self.url = url
        self.peak = 0.0
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._memory, daemon=True),
            threading.Thread(target=self._probe, daemon=True),
        ]

    def __enter__(self) -> Sampler:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _memory(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb(self.pid))
            time.sleep(0.05)

    def _probe(self) -> None:
        with httpx.Client(timeout=120) as client:
            while not self._stop.is_set():
                start = time.perf_counter()
                client.get(self.url).raise_for_status()
                self.latencies.append((time.perf_counter() - start) * 1000)
                time.sleep(0.1)


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Fill, serve, read; rows for the table."""
    n = 300_000 if quick else 3_000_000
    rows: list[dict[str, Any]] = []
    with temp_folder("reads") as folder:
        store_url = f"sqlite:///{folder}/runyard.db"
        note(f"large reads: writing {n:,} points …")
        _fill(store_url, n)
        server, url = runyard_server(store_url, folder)
        try:
            pid = server.proc.pid
            api = f"{url}/api/v1/workspaces/reads/runs/long"
            httpx.get(f"{api}/metrics").raise_for_status()
            idle = _rss_mb(pid)
            quiet = []
            for _ in range(10):
                start = time.perf_counter()
                httpx.get(api).raise_for_status()
                quiet.append((time.perf_counter() - start) * 1000)
            note("large reads: get_metrics over HTTP …")
            os.environ["RUNYARD_SPOOL_DIR"] = str(folder / "spool")
            from runyard import Experiment, Workspace
            from runyard.sdk.run import Run
            from runyard.sdk.workspace import close_all

            run = Run(Experiment(Workspace("reads", server_url=url), "reads"), "long")
            with Sampler(pid, api) as sampled:
                start = time.perf_counter()
                values = run.get_metrics("loss")["loss"]
                elapsed = time.perf_counter() - start
            close_all()
            if len(values) != n:
                raise RuntimeError(f"get_metrics returned {len(values)} points, expected {n}")
            note("large reads: history without max_points …")
            with Sampler(pid, api) as sampled_history:
                start = time.perf_counter()
                history = httpx.get(f"{api}/metrics/history", params={"name": "loss"}, timeout=600)
                history_s = time.perf_counter() - start
            history.raise_for_status()
            answer = history.json()
        finally:
            server.stop()
    rows = [
        row(f"get_metrics over HTTP, {n:,} points", elapsed, "s"),
        row("  server RSS before the read", idle, "MB"),
        row("  server peak RSS during the read", sampled.peak, "MB", target=idle + 400),
        row("  run GET p50, no read", statistics.median(quiet), "ms"),
        row(
            "  run GET p99 during the read",
            percentile(sampled.latencies, 99) if sampled.latencies else 0.0,
            "ms",
            target=1000.0,
        ),
        row(
            f"history without max_points ({len(answer['steps']):,} entries, "
            f"{'downsampled' if answer['downsampled'] else 'raw'})",
            history_s * 1000,
            "ms",
        ),
        row("  server peak RSS during the history", sampled_history.peak, "MB"),
    ]
    print_table(
        "Large reads through a server (SQLite, 1 worker)",
        rows,
        caption="one repetition; the machine is shared; client and server on loopback",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

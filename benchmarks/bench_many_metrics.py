"""Ingest spread over many metric names costs about what one metric costs (within 2×).

Three shapes of the same kind of work, each logged with `run.log(name, value)` in a loop
and timed from the first call until `run.flush()` returns (every point committed):
one metric × N points, 1,000 metrics × 1,000 steps, 100,000 metrics × 1 point. Each runs
in-process (embedded store) and through a `runyard server` process on loopback, on SQLite
and, when it answers (RUNYARD_TEST_PG), on PostgreSQL.
The stored counts are checked afterwards. Target: every spread shape at least half the
single-metric throughput of the same transport.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from _common import cli, note, print_table, row, temp_folder
from bench_server import drop_schema, pg_schema, runyard_server


def _shapes(quick: bool) -> list[tuple[str, int, int]]:
    """(label, metric names, points per name)."""
    if quick:
        return [
            ("1 metric × 100,000 points", 1, 100_000),
            ("100 metrics × 1,000 steps", 100, 1_000),
            ("10,000 metrics × 1 point", 10_000, 1),
        ]
    return [
        ("1 metric × 1,000,000 points", 1, 1_000_000),
        ("1,000 metrics × 1,000 steps", 1_000, 1_000),
        ("100,000 metrics × 1 point", 100_000, 1),
    ]


def _log_and_flush(ws: Any, names: int, steps: int) -> float:
    """Seconds from the first log call to flushed; checks every point was stored."""
    from runyard import Experiment

    run = Experiment(ws, "many").start_logging()
    labels = [f"layer{i}/grad_norm" for i in range(names)]
    log = run.log
    start = time.perf_counter()
    for step in range(steps):
        value = step * 0.001
        for label in labels:
            log(label, value)
    left = run.flush(timeout_seconds=3600)
    elapsed = time.perf_counter() - start
    if left:
        raise RuntimeError(f"{left} points still queued after flush()")
    # `_transport` before Workspace.transport existed: the script also measures older trees.
    transport = ws.transport if hasattr(ws, "transport") else ws._transport
    infos = transport.store.list_metrics(run.id)
    stored = sum(i.count for i in infos)
    if len(infos) != names or stored != names * steps:
        raise RuntimeError(
            f"expected {names} metrics with {names * steps} points; "
            f"found {len(infos)} metrics with {stored}"
        )
    run.complete()
    return elapsed


def in_process(store: str, folder: Path, names: int, steps: int) -> float:
    """Points per second into an embedded store."""
    from runyard import Workspace
    from runyard.sdk.workspace import close_all

    try:
        ws = Workspace(f"many{names}", store_url=store, artifacts_url=f"{folder}/artifacts")
        return names * steps / _log_and_flush(ws, names, steps)
    finally:
        close_all()


def through_server(url: str, folder: Path, names: int, steps: int) -> float:
    """Points per second through a server (client in this process)."""
    from runyard import Workspace
    from runyard.sdk.workspace import close_all

    os.environ["RUNYARD_SPOOL_DIR"] = str(folder / f"spool-{names}")
    try:
        ws = Workspace(f"many{names}", server_url=url)
        return names * steps / _log_and_flush(ws, names, steps)
    finally:
        close_all()


def _backend(
    backend: str, store: str, folder: Path, shapes: list[tuple[str, int, int]]
) -> list[dict[str, Any]]:
    """Every shape on both transports over one store; rows for the table."""
    rows: list[dict[str, Any]] = []
    for transport in ("in-process", "server"):
        server = None
        if transport == "server":
            server, url = runyard_server(store, folder)
        try:
            single = None
            for label, names, steps in shapes:
                note(f"many metrics: {backend}, {transport}, {label} …")
                if server is None:
                    rate = in_process(store, folder, names, steps)
                else:
                    rate = through_server(url, folder, names, steps)
                workload = f"{backend} {transport}: {label}"
                if single is None:
                    single = rate
                    rows.append(row(workload, rate, "points/s"))
                else:
                    rows.append(
                        row(workload, rate, "points/s", target=single / 2, lower_is_better=False)
                    )
        finally:
            if server is not None:
                server.stop()
    return rows


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Every shape on both transports and both databases; rows for the table."""
    shapes = _shapes(quick)
    with temp_folder("many") as folder:
        rows = _backend("SQLite", f"sqlite:///{folder}/runyard.db", folder, shapes)
    pg = pg_schema()
    if pg is not None:
        schema, store = pg
        try:
            with temp_folder("many-pg") as folder:
                rows += _backend("PostgreSQL", store, folder, shapes)
        finally:
            drop_schema(schema)
    print_table(
        "Ingest spread over many metric names",
        rows,
        caption="one repetition each; target: ≥ half the single-metric rate of the transport",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

"""How soon a burst is on disk: the durability margin behind "every point logged 150 ms
before a kill -9 is stored".

runyard: 1,000,000 `run.log` calls as fast as a loop goes (embedded SQLite, spool in a
temporary folder); the clock runs from the last call until the journaler has spooled
everything (the queue is empty and `journal()` returns, which waits for a slice being
written). Median of the repetitions. Also: one slice of 1,000,000 points grouped, encoded
and written at once, what a journaler starved for the whole burst would face. No MLflow
figure: MLflow has no local journal (each `log_metric` writes synchronously).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

from _common import cli, note, print_table, row, runyard_workspace, temp_folder

BOUND_MS = 150.0


def burst_lags(n: int, repeats: int) -> tuple[list[float], float, float]:
    """(ms from the last call to all spooled, per repetition), loop seconds, one-slice ms."""
    from runyard import Experiment

    lags = []
    loops = []
    with temp_folder("burst") as folder:
        os.environ["RUNYARD_SPOOL_DIR"] = str(folder / "spool")
        with runyard_workspace(folder) as ws:
            run = Experiment(ws, "bench").start_logging()
            pipeline = run._pipeline
            log = run.log
            values = [float(i) for i in range(n)]
            log("x", 0.0)
            for i in range(repeats):
                note(f"burst_spool: {n:,} points, repetition {i + 1}/{repeats}")
                start = time.perf_counter()
                for v in values:
                    log("x", v)
                logged = time.perf_counter()
                while pipeline.queue:
                    time.sleep(0.002)  # coarse: a busy poll would take the GIL from the journaler
                pipeline.journal()  # waits for the slice being written; nothing left to add
                lags.append((time.perf_counter() - logged) * 1000)
                loops.append(logged - start)
                run.flush()
            note(f"burst_spool: one slice of {n:,} points")
            chunk = pipeline.chunk_points
            pipeline.chunk_points = n
            now = time.time()
            with pipeline._journal_lock:  # the journaler must not take part of it meanwhile
                pipeline.queue.extend((run.id, "x", v, None, now, "") for v in values)
                start = time.perf_counter()
                pipeline._journal(n)
                one_slice = (time.perf_counter() - start) * 1000
            pipeline.chunk_points = chunk
            run.complete()
    return lags, statistics.median(loops), one_slice


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the workload; returns the result rows (and prints them as a table)."""
    n, repeats = (100_000, 3) if quick else (1_000_000, 5)
    lags, loop, one_slice = burst_lags(n, repeats)
    rows = [
        row(
            f"{n:,}-point burst: all spooled, after the last run.log",
            statistics.median(lags),
            "ms",
            target=BOUND_MS,
        ),
        row("  worst repetition", max(lags), "ms", target=BOUND_MS),
        row(f"  the burst's loop ({n:,} run.log calls)", loop, "s"),
        row(f"one slice of {n:,} points grouped, encoded, written", one_slice, "ms"),
    ]
    spread = ", ".join(f"{lag:.0f}" for lag in lags)
    print_table(
        "Burst durability margin (embedded SQLite, spool on local disk)",
        rows,
        caption=f"runyard: median of {repeats} bursts (ms each: {spread})",
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

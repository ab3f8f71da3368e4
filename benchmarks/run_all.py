"""Run every benchmark, each in a fresh process, then print one summary table.

    python benchmarks/run_all.py [--quick] [bench_ingest ...]

Exit code 0 when every script ran (targets missed show as FAIL), 1 if a script failed.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import console, mlflow_version, print_table

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    "bench_log_call",
    "bench_ingest",
    "bench_burst_spool",
    "bench_get_metrics",
    "bench_search",
    "bench_server",
    "bench_mlflow",
    "bench_many_metrics",
    "bench_streams",
    "bench_large_reads",
    "bench_mlflow_artifacts",
    "bench_mlflow_plugin",
)


def run_script(name: str, quick: bool) -> tuple[list[dict[str, Any]], float, int]:
    """Run one script in a subprocess; (its rows, seconds, exit code)."""
    with tempfile.TemporaryDirectory(prefix="runyard-bench-") as folder:
        out = Path(folder) / "rows.json"
        command = [sys.executable, str(HERE / f"{name}.py"), "--json", str(out)]
        if quick:
            command.append("--quick")
        start = time.perf_counter()
        code = subprocess.run(command, check=False).returncode
        elapsed = time.perf_counter() - start
        rows = json.loads(out.read_text()) if code == 0 and out.exists() else []
    return rows, elapsed, code


def error_row(name: str, code: int) -> dict[str, Any]:
    """The summary row of a script that did not finish."""
    return {
        "workload": f"{name}: ERROR (exit code {code})",
        "runyard": "—",
        "target": "—",
        "result": "ERROR",
        "MLflow": "—",
        "runyard vs MLflow": "—",
    }


def main(quick: bool = False, only: list[str] | None = None) -> int:
    """Run the scripts, print the summary; the exit code."""
    names = [n for n in SCRIPTS if not only or n in only]
    summary: list[dict[str, Any]] = []
    timings = []
    failed = False
    for name in names:
        console.rule(f"[bold]{name}[/]")
        rows, elapsed, code = run_script(name, quick)
        timings.append(f"{name.removeprefix('bench_')} {elapsed:.0f} s")
        if code != 0:
            failed = True
            summary.append(error_row(name, code))
        summary.extend(rows)
    version = mlflow_version()
    misses = [r["workload"].strip() for r in summary if r.get("result") == "FAIL"]
    console.rule("[bold]summary[/]")
    print_table(
        "runyard benchmarks" + (" (--quick sizes)" if quick else ""),
        summary,
        caption=(
            f"MLflow {version or 'not installed'} · Python {platform.python_version()} · "
            f"targets: {len([r for r in summary if r.get('result') == 'PASS'])} pass, "
            f"{len(misses)} fail · {', '.join(timings)}"
        ),
    )
    for workload in misses:
        console.print(f"[bold red]missed:[/] {workload}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("only", nargs="*", metavar="SCRIPT", help=f"any of {', '.join(SCRIPTS)}")
    args = parser.parse_args()
    unknown = sorted(set(args.only) - set(SCRIPTS))
    if unknown:
        parser.error(f"unknown script(s): {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}")
    sys.exit(main(args.quick, args.only))

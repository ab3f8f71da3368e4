"""Shared helpers of the benchmark scripts: arguments, result rows, tables, MLflow set-up."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

#: Wide enough for the tables when the output is a pipe (rich would wrap at 80).
console = Console(width=None if sys.stdout.isatty() else 160)
COLUMNS = ("workload", "runyard", "target", "result", "MLflow", "runyard vs MLflow")


# Numbers
def fmt(value: float | None, unit: str) -> str:
    """A figure with its unit: '0.42 µs', '3,012 µs', '312,000 points/s'."""
    if value is None:
        return "—"
    if unit.endswith("/s"):
        return f"{value:,.0f} {unit}"
    digits = 3 if value < 1 else 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:,.{digits}f} {unit}"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def row(
    workload: str,
    value: float,
    unit: str,
    *,
    target: float | None = None,
    lower_is_better: bool = True,
    mlflow: float | None = None,
    mlflow_note: str = "",
    mlflow_missing: str | None = None,
    ratio: float | None = None,
) -> dict[str, Any]:
    """One result row. `ratio` (how many times better runyard is) is computed from the two
    figures unless given, e.g. when the MLflow figure was measured at another size."""
    passed = None
    if target is not None:
        passed = value <= target if lower_is_better else value >= target
    if ratio is None and mlflow is not None and value > 0 and mlflow > 0:
        ratio = mlflow / value if lower_is_better else value / mlflow
    if mlflow_missing is not None:
        mlflow_text = mlflow_missing
    elif mlflow is None:
        mlflow_text = "—"
    else:
        mlflow_text = fmt(mlflow, unit) + (f" ({mlflow_note})" if mlflow_note else "")
    target_text = "—"
    if target is not None:
        target_text = f"{'≤' if lower_is_better else '≥'} {fmt(target, unit)}"
    return {
        "workload": workload,
        "runyard": fmt(value, unit),
        "target": target_text,
        "result": "info" if passed is None else "PASS" if passed else "FAIL",
        "MLflow": mlflow_text,
        "runyard vs MLflow": _ratio_text(ratio),
        "value": value,
        "unit": unit,
        "target_value": target,
        "passed": passed,
        "mlflow_value": mlflow,
        "ratio": ratio,
    }


def _ratio_text(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    if ratio < 1:
        return f"{1 / ratio:,.1f}× slower"
    return f"{ratio:,.{0 if ratio >= 10 else 1}f}× faster"


def print_table(title: str, rows: list[dict[str, Any]], caption: str | None = None) -> None:
    """The rows as a rich table, PASS green and FAIL red."""
    table = Table(title=title, caption=caption, show_lines=False)
    for name in COLUMNS:
        if name == "workload":
            table.add_column(name, no_wrap=True)
        else:
            table.add_column(name, justify="right")
    colours = {"PASS": "[green]PASS[/]", "FAIL": "[bold red]FAIL[/]"}
    for r in rows:
        table.add_row(*(colours.get(str(r[c]), str(r[c])) for c in COLUMNS))
    console.print(table)


def note(text: str) -> None:
    """A progress line (dim, on stderr so tables stay readable)."""
    Console(stderr=True).print(f"[dim]{text}[/]")


# Running a script
def cli(main: Callable[[bool], list[dict[str, Any]]], description: str) -> int:
    """Parse --quick/--json, run `main`, write the rows as JSON if asked; the exit code."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--json", metavar="PATH", help="also write the result rows here")
    args = parser.parse_args()
    rows = main(args.quick)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


@contextlib.contextmanager
def temp_folder(prefix: str) -> Iterator[Path]:
    """A temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=f"runyard-bench-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def runyard_workspace(folder: Path) -> Iterator[Any]:
    """A local workspace in `folder`; every pipeline and store is closed on exit."""
    from runyard import Workspace
    from runyard.sdk.workspace import close_all

    try:
        yield Workspace(
            "bench", store_url=f"sqlite:///{folder}/runyard.db", artifacts_url=f"{folder}/artifacts"
        )
    finally:
        close_all()


# MLflow
def mlflow_missing() -> str | None:
    """None when mlflow can be imported, else the text for the MLflow column."""
    try:
        import mlflow  # noqa: F401
    except Exception as exc:
        return f"not installed ({type(exc).__name__})"
    return None


def mlflow_version() -> str | None:
    """The installed mlflow version, None when there is none."""
    try:
        import mlflow
    except Exception:
        return None
    return str(mlflow.__version__)


def quiet_mlflow() -> None:
    """Silence MLflow's and Alembic's logging and warnings."""
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    warnings.filterwarnings("ignore")
    for name in ("mlflow", "alembic", "sqlalchemy", "urllib3", "git"):
        logging.getLogger(name).setLevel(logging.ERROR)


def mlflow_client(folder: Path) -> tuple[Any, str]:
    """(MlflowClient on a SQLite file in `folder`, id of experiment "bench").

    This creates MLflow's schema (several seconds): call it before any timing starts.
    """
    quiet_mlflow()
    from mlflow import MlflowClient

    quiet_mlflow()  # importing mlflow configures its own loggers
    client = MlflowClient(tracking_uri=f"sqlite:///{folder}/mlflow.db")
    experiment_id = client.create_experiment(
        "bench", artifact_location=(folder / "mlartifacts").as_uri()
    )
    return client, experiment_id


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server process on loopback, stopped by its pid."""

    def __init__(self, command: list[str], health: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{' '.join(command[:4])} exited with {self.proc.returncode}")
            try:
                if httpx.get(health, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{' '.join(command[:4])} did not answer")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)

"""MLflow's artifact proxy: the same MlflowClient calls against `runyard server` and
`mlflow server` (both on SQLite, artifacts on local disk, one worker), measured in one run.

Workloads: log_artifact of many small files (per call), one large file up and down
(throughput), and list_artifacts of a run holding those files (per call).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    Server,
    cli,
    free_port,
    mlflow_missing,
    note,
    print_table,
    quiet_mlflow,
    row,
    temp_folder,
)
from bench_server import runyard_server

MB = 1024 * 1024


def mlflow_server(folder: Path) -> tuple[Server, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{folder}/mlflow.db",
        "--artifacts-destination",
        str(folder / "mlartifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    return Server(command, f"{url}/health"), url


def workload(url: str, folder: Path, small: int, large_mb: int) -> dict[str, float]:
    """Timings of the same client calls against the server at `url`."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=url)
    run_id = client.create_run(client.create_experiment(f"bench-{time.time_ns()}")).info.run_id
    source = folder / f"src-{time.time_ns()}"
    source.mkdir()
    files = []
    for i in range(small):
        path = source / f"small-{i:04d}.txt"
        path.write_bytes(os.urandom(1024))
        files.append(path)
    big = source / "big.bin"
    big.write_bytes(os.urandom(large_mb * MB))
    client.log_artifact(run_id, str(files[0]), artifact_path="warm")  # caches the repo
    start = time.perf_counter()
    for path in files:
        client.log_artifact(run_id, str(path), artifact_path="small")
    small_ms = (time.perf_counter() - start) / small * 1000
    start = time.perf_counter()
    client.log_artifact(run_id, str(big))
    up = large_mb / (time.perf_counter() - start)
    target = folder / f"down-{time.time_ns()}"
    target.mkdir()
    start = time.perf_counter()
    got = client.download_artifacts(run_id, "big.bin", str(target))
    down = large_mb / (time.perf_counter() - start)
    assert Path(got).stat().st_size == large_mb * MB
    start = time.perf_counter()
    listed = client.list_artifacts(run_id, "small")
    list_ms = (time.perf_counter() - start) * 1000
    assert len(listed) == small
    return {"small_ms": small_ms, "up": up, "down": down, "list_ms": list_ms}


def main(quick: bool) -> list[dict[str, Any]]:
    """Both servers, the same calls; rows for the table."""
    small, large_mb = (50, 16) if quick else (200, 128)
    quiet_mlflow()
    missing = mlflow_missing()
    with temp_folder("mlflow-artifacts") as folder:
        note("measuring runyard server …")
        server, url = runyard_server(f"sqlite:///{folder}/runyard.db", folder)
        try:
            ours = workload(url, folder, small, large_mb)
        finally:
            server.stop()
        theirs: dict[str, float] = {}
        if missing is None:
            note("measuring mlflow server …")
            ml_server, ml_url = mlflow_server(folder)
            try:
                theirs = workload(ml_url, folder, small, large_mb)
            finally:
                ml_server.stop()
    rows = [
        row(
            f"log_artifact, 1 KB file (×{small})",
            ours["small_ms"],
            "ms",
            mlflow=theirs.get("small_ms"),
            mlflow_missing=missing,
        ),
        row(
            f"log_artifact, {large_mb} MB",
            ours["up"],
            "MB/s",
            lower_is_better=False,
            mlflow=theirs.get("up"),
            mlflow_missing=missing,
        ),
        row(
            f"download_artifacts, {large_mb} MB",
            ours["down"],
            "MB/s",
            lower_is_better=False,
            mlflow=theirs.get("down"),
            mlflow_missing=missing,
        ),
        row(
            f"list_artifacts of {small} files",
            ours["list_ms"],
            "ms",
            mlflow=theirs.get("list_ms"),
            mlflow_missing=missing,
        ),
    ]
    print_table("MLflow artifact proxy: runyard server vs mlflow server", rows)
    return rows


if __name__ == "__main__":
    raise SystemExit(cli(main, __doc__ or ""))

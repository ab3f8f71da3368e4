"""Through the server: run.log cost, ingest with 1 and 4 clients (SQLite and PostgreSQL),
a 1M-point history downsampled to 1,000 points, and a run search over 100,000 runs.

Side by side with `mlflow server` on SQLite (synchronous log_metric, log_batch ingest,
get_metric_history, search_runs), each measured here in the same run. The 100,000 runs of
the search workload are written straight into the server's database (the API would take
minutes); every other figure goes through HTTP.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from _common import (
    Server,
    cli,
    free_port,
    mlflow_missing,
    note,
    percentile,
    print_table,
    quiet_mlflow,
    row,
    temp_folder,
)

PG_URL = os.environ.get("RUNYARD_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/test")


def runyard_server(store: str, folder: Path, workers: int = 1) -> tuple[Server, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = Server(
        [
            sys.executable,
            "-m",
            "runyard",
            "server",
            "--port",
            str(port),
            "--store",
            store,
            "--artifacts",
            str(folder / "artifacts"),
            "--workers",
            str(workers),
        ],
        f"{url}/api/v1/health",
    )
    return server, url


def pg_schema() -> tuple[str, str] | None:
    """A fresh PostgreSQL schema (name, store URL), None when PostgreSQL is not there."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    except Exception as exc:
        note(f"PostgreSQL not available ({exc}); its rows are skipped")
        return None
    return schema, f"{PG_URL}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


CLIENT = textwrap.dedent(
    """
    import sys, time, math
    from runyard import Experiment, Workspace
    ws = Workspace(sys.argv[2], server_url=sys.argv[1])
    n = int(sys.argv[3])
    values = [math.sin(i / 1000) + 1.5 for i in range(n)]
    run = Experiment(ws, "ingest").start_logging()
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    for v in values:
        run.log("loss", v)
    left = run.flush()
    print(time.perf_counter() - start, left, flush=True)
    run.complete()
    """
)


def ingest(url: str, clients: int, points: int, folder: Path) -> float:
    """Points per second from `clients` processes logging `points` each, first log to flushed."""
    script = folder / "client.py"
    script.write_text(CLIENT)
    env = {**os.environ, "RUNYARD_SPOOL_DIR": str(folder / "spool")}
    workspace = f"w{uuid.uuid4().hex[:8]}"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), url, workspace, str(points)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(clients)
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        start = time.perf_counter()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            assert p.stdout is not None
            _, left = p.stdout.readline().split()
            if int(left):
                raise RuntimeError(f"a client still had {left} points queued")
        wall = time.perf_counter() - start
        for p in procs:
            p.wait(120)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    counted = 0
    api = f"{url}/api/v1/workspaces/{workspace}"
    runs = httpx.post(
        f"{api}/runs/search", json={"filter": {"experiment_name": "ingest"}, "limit": 100}
    ).json()["runs"]
    for r in runs:
        counted += sum(m["count"] for m in httpx.get(f"{api}/runs/{r['runId']}/metrics").json())
    if counted != clients * points:
        raise RuntimeError(f"expected {clients * points} stored points, found {counted}")
    return clients * points / wall


def log_call_cost(url: str, folder: Path, calls: int) -> tuple[float, float]:
    """Median and p99 per-call µs of run.log to a server (batches of 1,000 calls)."""
    os.environ["RUNYARD_SPOOL_DIR"] = str(folder / "spool-log")
    from runyard import Experiment, Workspace
    from runyard.sdk.workspace import close_all

    run = Experiment(Workspace("logcost", server_url=url), "cost").start_logging()
    per_call = []
    clock = time.perf_counter_ns
    log = run.log
    for _ in range(calls // 1000):
        start = clock()
        for i in range(1000):
            log("loss", 0.001 * i)
        per_call.append((clock() - start) / 1000 / 1000)
    run.complete()
    close_all()
    return statistics.median(per_call), percentile(per_call, 99)


def history_ms(url: str, folder: Path, points: int) -> float:
    """Median ms of a downsampled (1,000 points) history of a `points`-point series."""
    os.environ["RUNYARD_SPOOL_DIR"] = str(folder / "spool-hist")
    from runyard import Experiment, Workspace
    from runyard.sdk.workspace import close_all

    run = Experiment(Workspace("history", server_url=url), "history").start_logging()
    for i in range(points):
        run.log("signal", math.sin(i / 1000))
    run.complete()
    close_all()
    api = f"{url}/api/v1/workspaces/history/runs/{run.id}/metrics/history"
    timings = []
    with httpx.Client() as client:
        for _ in range(7):
            start = time.perf_counter()
            answer = client.get(api, params={"name": "signal", "max_points": 1000}).json()
            timings.append((time.perf_counter() - start) * 1000)
            assert answer["count"] == points and len(answer["steps"]) <= 1000
    return statistics.median(timings)


def fill_runs(store_url: str, runs: int) -> None:
    """`runs` runs with tags and an "acc" metric, written straight into the database."""
    from sqlalchemy import insert

    from runyard.core.entities import NewRun
    from runyard.store.schema import metrics
    from runyard.store.sql import SqlTrackingStore

    store = SqlTrackingStore(store_url, workspace="search")
    rng = random.Random(7)
    for start in range(0, runs, 1000):
        docs = store.create_runs(
            [
                NewRun(
                    run_id=f"run-{i:06d}",
                    experiment_name="search",
                    tags={"group": f"g{i % 1000}", "quality": "good" if i % 10 else "bad"},
                )
                for i in range(start, min(runs, start + 1000))
            ]
        )
        with store.db.write() as conn:
            pks = {d.run_id: store._run_pk(conn, d.run_id) for d in docs}
            conn.execute(
                insert(metrics),
                [
                    {
                        "run_id": pk,
                        "name": "acc",
                        "column": "",
                        "kind": "scalar",
                        "description": "",
                        "count": 1,
                        "value_types": 1,
                        "last_step": 0,
                        "max_step": 0,
                        "last_number": rng.random(),
                        "last_vtype": 0,
                    }
                    for pk in pks.values()
                ],
            )
    store.close()


def search_ms(url: str) -> float:
    """Median ms of: tag filter + metric filter, ordered by the metric, first page."""
    body = {
        "filter": {
            "experiment_name": "search",
            "tags": {"group": "g7"},
            "metrics": [{"name": "acc", "op": ">", "value": 0.5}],
            "order_by_metric": "acc",
        },
        "limit": 100,
    }
    timings = []
    with httpx.Client() as client:
        for _ in range(7):
            start = time.perf_counter()
            found = client.post(f"{url}/api/v1/workspaces/search/runs/search", json=body).json()
            timings.append((time.perf_counter() - start) * 1000)
            values = [r for r in found["runs"]]
            assert 0 < len(values) <= 100
    return statistics.median(timings)


# MLflow server
def mlflow_figures(folder: Path, quick: bool) -> dict[str, Any]:
    quiet_mlflow()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = Server(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder}/mlflow.db",
            "--default-artifact-root",
            str(folder / "mlart"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        f"{url}/health",
    )
    try:
        from mlflow import MlflowClient
        from mlflow.entities import Metric

        client = MlflowClient(tracking_uri=url)
        exp = client.create_experiment("bench")
        run_id = client.create_run(exp).info.run_id
        calls = 30 if quick else 100
        start = time.perf_counter()
        for i in range(calls):
            client.log_metric(run_id, "loss", 0.1 * i, step=i)
        per_call_ms = (time.perf_counter() - start) / calls * 1000
        n = 5_000 if quick else 20_000
        now = int(time.time() * 1000)
        start = time.perf_counter()
        for b in range(0, n, 1000):
            client.log_batch(
                run_id, metrics=[Metric("series", float(i), now, i) for i in range(b, b + 1000)]
            )
        batch_rate = n / (time.perf_counter() - start)
        start = time.perf_counter()
        history = client.get_metric_history(run_id, "series")
        history_s = time.perf_counter() - start
        assert len(history) == n
        runs = 100 if quick else 300
        for i in range(runs):
            client.create_run(exp, tags={"group": f"g{i % 10}"})
        start = time.perf_counter()
        found = client.search_runs([exp], "tags.group = 'g7'")
        search = (time.perf_counter() - start) * 1000
        return {
            "log_metric_ms": per_call_ms,
            "batch_rate": batch_rate,
            "history_points": n,
            "history_s": history_s,
            "search_runs": runs,
            "search_ms": search,
            "found": len(found),
        }
    finally:
        server.stop()


def main(quick: bool) -> list[dict[str, Any]]:
    """Every server workload; rows for the table."""
    points = 50_000 if quick else 250_000
    per_client = 25_000 if quick else 125_000
    long_series = 100_000 if quick else 1_000_000
    runs = 5_000 if quick else 100_000
    rows: list[dict[str, Any]] = []
    ml: dict[str, Any] = {}
    missing = mlflow_missing()
    with temp_folder("server") as folder:
        if missing is None:
            note("measuring mlflow server …")
            ml = mlflow_figures(folder, quick)
        store = f"sqlite:///{folder}/runyard.db"
        note(f"filling {runs:,} runs …")
        fill_runs(store, runs)
        server, url = runyard_server(store, folder, workers=2)
        try:
            note("run.log cost …")
            median, p99 = log_call_cost(url, folder, 200_000)
            rows.append(
                row(
                    "run.log to a server: median per call",
                    median,
                    "µs",
                    target=5.0,
                    mlflow=ml.get("log_metric_ms", 0) * 1000 or None,
                    mlflow_note="sync log_metric",
                    mlflow_missing=missing,
                )
            )
            rows.append(row("run.log to a server: p99 of 1k-call batches", p99, "µs"))
            note("ingest, SQLite …")
            one = ingest(url, 1, points, folder)
            rows.append(
                row(
                    f"ingest into SQLite, 1 client ({points:,} points)",
                    one,
                    "points/s",
                    target=200_000,
                    lower_is_better=False,
                    mlflow=ml.get("batch_rate"),
                    mlflow_note="log_batch ×1,000",
                    mlflow_missing=missing,
                )
            )
            four = ingest(url, 4, per_client, folder)
            rows.append(
                row(
                    f"ingest into SQLite, 4 clients ({4 * per_client:,} points)",
                    four,
                    "points/s",
                    target=one,
                    lower_is_better=False,
                )
            )
            note("history …")
            ms = history_ms(url, folder, long_series)
            ratio = None
            if ml.get("history_s"):
                ratio = ml["history_s"] * 1000 * (long_series / ml["history_points"]) / ms
            rows.append(
                row(
                    f"{long_series:,}-point history downsampled to 1,000",
                    ms,
                    "ms",
                    target=100.0,
                    mlflow=ml.get("history_s", 0) * 1000 or None,
                    mlflow_note=f"full history of {ml.get('history_points', 0):,} points",
                    mlflow_missing=missing,
                    ratio=ratio,
                )
            )
            note("search …")
            ms = search_ms(url)
            rows.append(
                row(
                    f"search: tag + metric filter, by metric, {runs:,} runs",
                    ms,
                    "ms",
                    target=100.0,
                    mlflow=ml.get("search_ms"),
                    mlflow_note=f"tag filter, {ml.get('search_runs', 0)} runs",
                    mlflow_missing=missing,
                )
            )
        finally:
            server.stop()
        schema = pg_schema()
        if schema is not None:
            server, url = runyard_server(schema[1], folder, workers=2)
            try:
                note("ingest, PostgreSQL …")
                one = ingest(url, 1, points, folder)
                rows.append(
                    row(
                        f"ingest into PostgreSQL, 1 client ({points:,} points)",
                        one,
                        "points/s",
                        target=200_000,
                        lower_is_better=False,
                    )
                )
                four = ingest(url, 4, per_client, folder)
                rows.append(
                    row(
                        f"ingest into PostgreSQL, 4 clients ({4 * per_client:,} points)",
                        four,
                        "points/s",
                        target=one,
                        lower_is_better=False,
                    )
                )
            finally:
                server.stop()
                drop_schema(schema[0])
    print_table("runyard server vs mlflow server", rows)
    return rows


if __name__ == "__main__":
    sys.exit(cli(main, __doc__ or ""))

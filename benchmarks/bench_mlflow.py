"""MLflow's REST API: runyard's server beside a real `mlflow server`, same SQLite backend
kind, same data, same client (`MlflowClient`), in one run.

    python benchmarks/bench_mlflow.py [--quick]

Workloads: log_batch ingest (1,000 metrics a call), one Lightning-style log_batch of 10
metrics (p50 of the round trip through MlflowClient), search_runs with a metric + tag filter
over 20,000 runs, and get_metric_history of 200,000 points. The runs and points of the last
two are written straight into each server's database before it starts (through runyard's
store and MLflow's own SQLAlchemy tables), the same ids and values on both sides; every
timed call goes through HTTP and the real client.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
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

TAG_FILTER = "metrics.acc > 0.5 AND tags.group = 'g7'"


def start_runyard(folder: Path) -> tuple[Server, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "runyard", "server", "--port", str(port)]
    command += ["--store", f"sqlite:///{folder}/runyard.db"]
    command += ["--artifacts", str(folder / "artifacts"), "--workers", "1"]
    return Server(command, f"{url}/api/v1/health"), url


def start_mlflow(folder: Path) -> tuple[Server, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "mlflow", "server"]
    command += ["--backend-store-uri", f"sqlite:///{folder}/mlflow.db"]
    command += ["--default-artifact-root", str(folder / "mlartifacts")]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    # Its GenAI job runner (a process and several huey consumers, polling) is no part of
    # tracking and would take CPU from both servers while they are timed.
    quiet = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    return Server(command, f"{url}/health", quiet), url


# The same data for both
def dataset(runs: int, points: int) -> dict[str, Any]:
    """Run ids, tags and an "acc" value per run, and one long "loss" history."""
    rng = random.Random(11)
    now = int(time.time() * 1000)
    return {
        "runs": [
            {
                "run_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                "start": now - (runs - i) * 1000,
                "group": f"g{i % 100}",
                "acc": rng.random(),
            }
            for i in range(runs)
        ],
        "history_run": uuid.UUID(int=rng.getrandbits(128)).hex,
        "history": [(i, 1.0 / (i + 1), now + i) for i in range(points)],
    }


def seed_runyard(folder: Path, data: dict[str, Any]) -> None:
    """The runs and the long history, written through runyard's store in big transactions."""
    from runyard.core.entities import NewRun
    from runyard.core.metrics import MetricKind, PointBatch
    from runyard.core.status import Status
    from runyard.store.ingest import write_points
    from runyard.store.sql import SqlTrackingStore

    store = SqlTrackingStore(f"sqlite:///{folder}/runyard.db")
    store.get_or_create_experiment("search")
    store.get_or_create_experiment("history")
    runs = data["runs"]
    for start in range(0, len(runs), 1000):
        chunk = runs[start : start + 1000]
        store.create_runs(
            [
                NewRun(
                    run_id=r["run_id"],
                    experiment_name="search",
                    status=Status.RUNNING,
                    run_type="mlflow",
                    tags={"group": r["group"]},
                )
                for r in chunk
            ]
        )
        with store.db.write() as conn:
            for r in chunk:
                batch = PointBatch(
                    name="acc",
                    kind=MetricKind.SCALAR,
                    steps=[0],
                    values=[r["acc"]],
                    times=[r["start"] / 1000],
                )
                write_points(conn, store._run_pk(conn, r["run_id"]), [batch], 10**9)
    store.create_runs([NewRun(run_id=data["history_run"], experiment_name="history")])
    steps, values, times = zip(*data["history"], strict=True)
    store.log_points(
        data["history_run"],
        [
            PointBatch(
                name="loss",
                kind=MetricKind.SCALAR,
                steps=list(steps),
                values=list(values),
                times=[t / 1000 for t in times],
            )
        ],
    )
    store.close()


def seed_mlflow(folder: Path, data: dict[str, Any]) -> None:
    """The same runs and history in MLflow's own tables (its SQLAlchemy store's schema)."""
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlRun,
        SqlTag,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{folder}/mlflow.db", str(folder / "mlartifacts"))
    search = store.create_experiment("search")
    history = store.create_experiment("history")
    runs = data["runs"]

    def run_row(run_id: str, experiment_id: str, start: int) -> dict[str, Any]:
        return {
            "run_uuid": run_id,
            "name": run_id[:8],
            "experiment_id": int(experiment_id),
            "user_id": "bench",
            "status": "RUNNING",
            "start_time": start,
            "lifecycle_stage": "active",
            "artifact_uri": f"{folder}/mlartifacts/{experiment_id}/{run_id}/artifacts",
            "source_type": "LOCAL",
            "source_name": "",
            "entry_point_name": "",
            "source_version": "",
        }

    with store.engine.begin() as conn:
        conn.execute(
            SqlRun.__table__.insert(), [run_row(r["run_id"], search, r["start"]) for r in runs]
        )
        conn.execute(
            SqlTag.__table__.insert(),
            [{"key": "group", "value": r["group"], "run_uuid": r["run_id"]} for r in runs],
        )
        metric = [
            {
                "key": "acc",
                "value": r["acc"],
                "timestamp": r["start"],
                "step": 0,
                "is_nan": False,
                "run_uuid": r["run_id"],
            }
            for r in runs
        ]
        conn.execute(SqlMetric.__table__.insert(), metric)
        conn.execute(SqlLatestMetric.__table__.insert(), metric)
        first = data["history"][0][2]
        conn.execute(SqlRun.__table__.insert(), [run_row(data["history_run"], history, first)])
        points = [
            {
                "key": "loss",
                "value": value,
                "timestamp": when,
                "step": step,
                "is_nan": False,
                "run_uuid": data["history_run"],
            }
            for step, value, when in data["history"]
        ]
        conn.execute(SqlMetric.__table__.insert(), points)
        step, value, when = data["history"][-1]
        conn.execute(
            SqlLatestMetric.__table__.insert(),
            [
                {
                    "key": "loss",
                    "value": value,
                    "timestamp": when,
                    "step": step,
                    "is_nan": False,
                    "run_uuid": data["history_run"],
                }
            ],
        )
    store.engine.dispose()


# Timed through the client
def ingest_figures(url: str, quick: bool) -> dict[str, Any]:
    """log_batch of 1,000 metrics (points/s) and of 10 (ms), through the client and raw."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric
    from mlflow.protos.service_pb2 import LogBatch
    from mlflow.utils.proto_json_utils import message_to_json

    client = MlflowClient(tracking_uri=url)
    experiment_id = client.create_experiment(f"ingest-{uuid.uuid4().hex[:6]}")
    run_id = client.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)
    batches = 5 if quick else 20
    client.log_batch(run_id, metrics=[Metric("warm", 0.0, now, 0)])
    payloads = [
        [Metric("series", float(i), now + i, i) for i in range(b * 1000, (b + 1) * 1000)]
        for b in range(batches)
    ]
    start = time.perf_counter()
    for metrics in payloads:
        client.log_batch(run_id, metrics=metrics)
    ingest_rate = batches * 1000 / (time.perf_counter() - start)

    calls = 50 if quick else 300
    small = [[Metric(f"m{k}", float(i + k), now + i, i) for k in range(10)] for i in range(calls)]
    timings = []
    for metrics in small:
        start = time.perf_counter()
        client.log_batch(run_id, metrics=metrics)
        timings.append((time.perf_counter() - start) * 1000)
    # The server's answer alone: the body MlflowClient would send, encoded beforehand and
    # posted on one kept-alive connection.
    encoded = [
        message_to_json(LogBatch(run_id=run_id, metrics=[m.to_proto() for m in metrics]))
        for metrics in small
    ]
    answers = []
    with httpx.Client(headers={"Content-Type": "application/json"}) as http:
        for body in encoded:
            start = time.perf_counter()
            answer = http.post(f"{url}/api/2.0/mlflow/runs/log-batch", content=body)
            answers.append((time.perf_counter() - start) * 1000)
            answer.raise_for_status()
    # Ingest as the server takes it: the same 1,000-metric bodies, encoded beforehand (the
    # client's own protobuf encoding costs tens of ms a batch on either server).
    bulk = [
        message_to_json(
            LogBatch(
                run_id=run_id,
                metrics=[Metric("raw", m.value, m.timestamp, m.step).to_proto() for m in metrics],
            )
        )
        for metrics in payloads
    ]
    with httpx.Client(headers={"Content-Type": "application/json"}, timeout=600) as http:
        start = time.perf_counter()
        for body in bulk:
            http.post(f"{url}/api/2.0/mlflow/runs/log-batch", content=body).raise_for_status()
        raw_rate = batches * 1000 / (time.perf_counter() - start)
    return {
        "raw_ingest_rate": raw_rate,
        "ingest_rate": ingest_rate,
        "batch10_p50": percentile(timings, 50),
        "batch10_p95": percentile(timings, 95),
        "answer10_p50": percentile(answers, 50),
    }


def search_figures(url: str, data: dict[str, Any], quick: bool) -> dict[str, Any]:
    """Median ms of search_runs with the metric + tag filter, through the client."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=url)
    search_id = client.get_experiment_by_name("search").experiment_id
    expected = sum(1 for r in data["runs"] if r["acc"] > 0.5 and r["group"] == "g7")
    search_ms = []
    for _ in range(3 if quick else 7):
        start = time.perf_counter()
        found = client.search_runs([search_id], TAG_FILTER, max_results=1000)
        search_ms.append((time.perf_counter() - start) * 1000)
        if len(found) != expected:
            raise AssertionError(f"{url} found {len(found)} runs, expected {expected}")
    return {"search_ms": statistics.median(search_ms), "found": expected}


def history_figures(url: str, data: dict[str, Any], quick: bool) -> dict[str, Any]:
    """Seconds to read the long history through the client, and as the server's raw pages."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=url)
    history_s = []
    for _ in range(2 if quick else 3):
        start = time.perf_counter()
        history = client.get_metric_history(data["history_run"], "loss")
        history_s.append(time.perf_counter() - start)
        if len(history) != len(data["history"]):
            raise AssertionError(f"{url} gave {len(history)} points")
    # The server's answers alone: the same 25,000-point pages the client asks for, read as
    # bytes (the client's own parsing costs about as much again on either server).
    raw_s = []
    with httpx.Client(timeout=600) as http:
        for _ in range(2 if quick else 3):
            start = time.perf_counter()
            token, got = None, 0
            for _page in range(100):
                params = {"run_id": data["history_run"], "metric_key": "loss"}
                params["max_results"] = "25000"
                if token:
                    params["page_token"] = token
                answer = http.get(f"{url}/api/2.0/mlflow/metrics/get-history", params=params)
                answer.raise_for_status()
                page = answer.json()
                got += len(page.get("metrics", []))
                token = page.get("next_page_token")
                if not token:
                    break
            raw_s.append(time.perf_counter() - start)
            if got != len(data["history"]):
                raise AssertionError(f"{url} served {got} points")
    return {"history_s": statistics.median(history_s), "history_raw_s": statistics.median(raw_s)}


def main(quick: bool) -> list[dict[str, Any]]:
    missing = mlflow_missing()
    if missing is not None:
        raise SystemExit(f"mlflow is needed for this benchmark: {missing}")
    quiet_mlflow()
    runs = 2_000 if quick else 20_000
    points = 20_000 if quick else 200_000
    data = dataset(runs, points)
    with temp_folder("mlflow") as folder:
        note(f"seeding {runs:,} runs and a {points:,}-point history into both databases")
        seed_runyard(folder, data)
        seed_mlflow(folder, data)
        # Both servers up at once, each workload run on one then the other straight away,
        # so both see the same load on a shared machine.
        ours, mine = start_runyard(folder)
        try:
            theirs, their_url = start_mlflow(folder)
        except BaseException:
            ours.stop()
            raise
        r: dict[str, Any] = {}
        m: dict[str, Any] = {}
        try:
            for name, workload in (
                ("ingest", lambda url: ingest_figures(url, quick)),
                ("search", lambda url: search_figures(url, data, quick)),
                ("history", lambda url: history_figures(url, data, quick)),
            ):
                note(f"{name}: runyard server")
                r.update(workload(mine))
                note(f"{name}: mlflow server")
                m.update(workload(their_url))
        finally:
            theirs.stop()
            ours.stop()
    load = os.getloadavg()
    rows = [
        row(
            "log_batch ingest (1,000 metrics a call), through MlflowClient",
            r["ingest_rate"],
            "points/s",
            lower_is_better=False,
            mlflow=m["ingest_rate"],
        ),
        row(
            "log_batch ingest (1,000 metrics a call), server answers (httpx)",
            r["raw_ingest_rate"],
            "points/s",
            lower_is_better=False,
            mlflow=m["raw_ingest_rate"],
        ),
        row(
            "one log_batch of 10 metrics, p50 server answer (httpx)",
            r["answer10_p50"],
            "ms",
            target=2.0,
            mlflow=m["answer10_p50"],
        ),
        row(
            "one log_batch of 10 metrics, p50 through MlflowClient",
            r["batch10_p50"],
            "ms",
            mlflow=m["batch10_p50"],
        ),
        row(
            "one log_batch of 10 metrics, p95 through MlflowClient",
            r["batch10_p95"],
            "ms",
            mlflow=m["batch10_p95"],
        ),
        row(
            f"search_runs {TAG_FILTER!r} over {runs:,} runs ({r['found']} found)",
            r["search_ms"],
            "ms",
            mlflow=m["search_ms"],
        ),
        row(
            f"get_metric_history of {points:,} points, through MlflowClient",
            r["history_s"] * 1000,
            "ms",
            mlflow=m["history_s"] * 1000,
        ),
        row(
            f"get_metric_history of {points:,} points, server answers (httpx)",
            r["history_raw_s"] * 1000,
            "ms",
            mlflow=m["history_raw_s"] * 1000,
        ),
    ]
    wanted = {0: 20.0, 1: 20.0, 5: 10.0, 6: 10.0, 7: 10.0}
    for index, ratio in wanted.items():
        got = rows[index]["ratio"]
        rows[index]["target"] = f"≥ {ratio:g}× MLflow"
        rows[index]["target_value"] = ratio
        rows[index]["passed"] = got is not None and got >= ratio
        rows[index]["result"] = "PASS" if rows[index]["passed"] else "FAIL"
    print_table(
        "MLflow REST API: runyard server vs mlflow server (SQLite, MlflowClient)",
        rows,
        caption=f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    )
    return rows


if __name__ == "__main__":
    raise SystemExit(cli(main, __doc__ or ""))

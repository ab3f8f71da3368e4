"""The logging pipeline on a real SQLite store: spooled before delivered, never waiting on
the database, delivered once, calls replayed through the table of operations."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from runyard.client.local import InProcessTransport
from runyard.client.operations import OPERATIONS, apply
from runyard.client.orphans import replayer, upload_orphans
from runyard.client.pipeline import LoggingPipeline
from runyard.client.spool import Spool, SpooledBatch, read_pending
from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits
from runyard.core.metrics import MetricKind, PointBatch
from tests.client.conftest import new_run
from tests.conftest import poll_until


def _spooled_points(spool: Spool) -> int:
    return sum(
        len(b.values)
        for item in read_pending(spool.path)
        if isinstance(item, SpooledBatch)
        for b in item.batches
    )


def _stored(local: InProcessTransport, run_id: str, name: str = "x") -> list[float]:
    (series,) = local.store.get_metric_series(run_id, [name])
    return list(series.values)  # type: ignore[arg-type]


def test_points_reach_the_spool_while_the_database_is_locked(
    local: InProcessTransport, tmp_path: Path
) -> None:
    """Durability never waits on the database: a writer holding SQLite's lock delays
    delivery, not spooling."""
    run_id = new_run(local)
    spool = Spool(tmp_path / "spool")
    pipeline = LoggingPipeline(local.store, Limits(), spool=spool)
    blocker = sqlite3.connect(tmp_path / "runyard.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the database is busy for everyone else
    try:
        for i in range(100_000):
            pipeline.enqueue_scalar(run_id, "x", float(i), None, "")
        logged = time.monotonic()
        while _spooled_points(spool) < 100_000:
            assert time.monotonic() - logged < 2.0, "points did not reach the spool"
            time.sleep(0.01)
        assert _stored_count(local, run_id) == 0, "delivered through a locked database?"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert pipeline.flush(60) == 0
    assert _stored(local, run_id) == [float(i) for i in range(100_000)]
    pipeline.close()
    assert not spool.path.exists(), "everything was acknowledged: the segment goes"


def _stored_count(local: InProcessTransport, run_id: str) -> int:
    return sum(m.count for m in local.store.list_metrics(run_id))


def test_a_closed_pipelines_leftovers_are_delivered_once_by_the_next(
    local: InProcessTransport, tmp_path: Path
) -> None:
    """What one pipeline spooled but did not deliver (its process died) is delivered by
    the next pipeline on the same folder, and replaying it again stores nothing twice."""
    run_id = new_run(local)
    folder = tmp_path / "spool"
    dead = Spool(folder)
    dead.append("k1", run_id, [_batch(1.0, 2.0)])
    dead.append_op("k2", "set_tags", {"run_id": run_id, "tags": {"stage": "spooled"}})
    dead.close()  # not acknowledged: left for the next process
    segment = dead.path
    copy = segment.read_bytes()
    pipeline = LoggingPipeline(local.store, Limits(), spool=Spool(folder))
    pipeline.flush(30)  # waits for what ended processes left, too
    assert _stored(local, run_id) == [1.0, 2.0]
    assert local.store.get_run(run_id).tags == {"stage": "spooled"}
    assert not segment.exists()
    pipeline.close()
    folder.mkdir(exist_ok=True)  # an empty spool folder goes at close
    segment.write_bytes(copy)  # as if the first delivery died before deleting it
    assert upload_orphans(folder, replayer(local.store, None)) == (2, 2)
    assert _stored(local, run_id) == [1.0, 2.0], "replayed points were stored twice"


def _batch(*values: float, name: str = "x") -> PointBatch:
    n = len(values)
    return PointBatch(name, MetricKind.SCALAR, "", "", [None] * n, list(values), [1.0] * n)


def test_calls_are_made_in_order_with_the_points(local: InProcessTransport, tmp_path: Path) -> None:
    run_id = new_run(local)
    pipeline = LoggingPipeline(local.store, Limits(), spool=Spool(tmp_path / "spool"))
    pipeline.enqueue_scalar(run_id, "x", 1.0, None, "")
    pipeline.enqueue_op("set_tags", {"run_id": run_id, "tags": {"stage": "one"}})
    pipeline.enqueue_batch(run_id, _batch(2.0, 3.0, name="y"))
    pipeline.enqueue_op("set_tags", {"run_id": run_id, "tags": {"stage": "two"}})
    pipeline.enqueue_op("add_properties", {"run_id": run_id, "properties": {"seed": "1"}})
    pipeline.enqueue_op("update_run", {"run_id": run_id, "display_name": "named"})
    assert pipeline.flush(30) == 0
    doc = local.store.get_run(run_id)
    assert (doc.tags, doc.properties, doc.display_name) == (
        {"stage": "two"},
        {"seed": "1"},
        "named",
    )
    assert _stored(local, run_id) == [1.0]
    assert _stored(local, run_id, "y") == [2.0, 3.0]
    pipeline.close()


def test_a_refusal_is_raised_at_the_runs_next_call(
    local: InProcessTransport, tmp_path: Path
) -> None:
    run_id = new_run(local)
    pipeline = LoggingPipeline(
        local.store, Limits(max_points_per_metric=3), spool=Spool(tmp_path / "spool")
    )
    for i in range(5):
        pipeline.enqueue_scalar(run_id, "x", float(i), None, "")
    pipeline.flush(30)
    assert pipeline.failed
    with pytest.raises(LimitExceededError, match="limit of 3 points"):
        pipeline.raise_errors(run_id)
    assert not pipeline.failed
    assert _stored(local, run_id) == [0.0, 1.0, 2.0]
    pipeline.close()


def test_every_operation_replays_and_an_unknown_one_is_refused(
    local: InProcessTransport, tmp_path: Path
) -> None:
    run_id = new_run(local)
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    calls = {
        "create_runs": {"runs": [{"run_id": "run-2", "experiment_name": "client"}]},
        "set_status": {"run_id": run_id, "status": "Running", "error": None},
        "set_tags": {"run_id": run_id, "tags": {"a": "1", "b": "2"}},
        "remove_tags": {"run_id": run_id, "keys": ["b"]},
        "add_properties": {"run_id": run_id, "properties": {"seed": "7"}},
        "log_params": {"run_id": run_id, "params": {"lr": "0.01"}},
        "update_run": {"run_id": run_id, "description": "described"},
        "append_log_lines": {"run_id": run_id, "stream": "stdout", "lines": ["hello"]},
        "upload_file": {"prefix": f"client/{run_id}", "name": "outputs/m.bin", "path": str(source)},
    }
    assert set(calls) == set(OPERATIONS), "a new operation needs a case here"
    for _ in range(2):  # a replay of calls already made changes nothing
        for op, args in calls.items():
            apply(op, args, local.store, local.files)
    doc = local.store.get_run(run_id)
    assert doc.status.value == "Running"
    assert doc.tags == {"a": "1"} and doc.properties == {"seed": "7"}
    assert doc.params == {"lr": "0.01"}
    assert doc.description == "described"
    assert local.store.get_run("run-2").experiment_name == "client"
    assert [line.line for line in local.store.read_log_lines(run_id, "stdout")] == [
        "hello",
        "hello",
    ]
    assert local.files.read_bytes(f"client/{run_id}", "outputs/m.bin") == b"weights"
    with pytest.raises(ValidationError, match=r"unknown spooled call 'drop_table'.*known: "):
        apply("drop_table", {}, local.store, local.files)


def test_offline_keeps_everything_in_the_spool_and_never_waits(
    local: InProcessTransport, tmp_path: Path
) -> None:
    """Offline, nothing is delivered: past `max_pending` a logging call must not wait for
    a delivery that never comes, and the spool holds every point."""
    spool = Spool(tmp_path / "spool")
    pipeline = LoggingPipeline(local.store, Limits(), spool=spool, offline=True, max_pending=1_000)
    started = time.monotonic()
    for i in range(5_000):
        pipeline.enqueue_scalar("run-offline", "x", float(i), None, "")
    pipeline.flush(5)
    assert time.monotonic() - started < 5
    assert _spooled_points(spool) == 5_000
    pipeline.close()
    assert spool.path.exists(), "left for `runyard sync`"


def _record_spool_writers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that write spool records, in order (the real Spool)."""
    writers: list[str] = []
    write = Spool._write

    def recording(spool: Spool, key: str, kind: bytes, *parts: bytes) -> None:
        writers.append(threading.current_thread().name)
        write(spool, key, kind, *parts)

    monkeypatch.setattr(Spool, "_write", recording)
    return writers


def test_the_logging_thread_never_writes_the_spool(
    local: InProcessTransport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst far past a slice (and the old 8,192-item catch-up point) is spooled by the
    journaler alone: the logging call only appends, whatever the queue's length."""
    writers = _record_spool_writers(monkeypatch)
    run_id = new_run(local)
    spool = Spool(tmp_path / "spool")
    pipeline = LoggingPipeline(local.store, Limits(), spool=spool, chunk_points=20_000)
    for i in range(300_000):
        pipeline.enqueue_scalar(run_id, "x", float(i), None, "")
    poll_until(lambda: not pipeline.queue, 10, "the journaler to take the queue")
    assert len(writers) >= 15, "300,000 points in slices of at most 20,000"
    assert threading.current_thread().name not in writers
    assert set(writers) <= {"runyard-journal", "runyard-delivery"}
    assert pipeline.flush(60) == 0
    assert _stored(local, run_id) == [float(i) for i in range(300_000)]
    pipeline.close()


def test_run_log_never_writes_the_spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's run.log (which inlines enqueue_scalar) leaves spooling to the journaler."""
    from runyard import Experiment, Workspace
    from runyard.sdk.workspace import close_all

    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    writers = _record_spool_writers(monkeypatch)
    ws = Workspace(
        "client",
        store_url=f"sqlite:///{tmp_path / 'sdk.db'}",
        artifacts_url=str(tmp_path / "sdk-artifacts"),
    )
    try:
        run = Experiment(ws, "journal").start_logging()
        for i in range(200_000):
            run.log("x", float(i))
        poll_until(lambda: not run._pipeline.queue, 10, "the journaler to take the queue")
        assert writers, "nothing was spooled"
        assert threading.current_thread().name not in writers
        run.complete()
        assert run.get_metrics("x")["x"] == [float(i) for i in range(200_000)]
    finally:
        close_all()

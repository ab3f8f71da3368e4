"""The spool file: records in order, acks, a record cut short by a kill, orphan segments."""

from __future__ import annotations

from pathlib import Path

from runyard.client.spool import (
    Spool,
    SpooledBatch,
    SpooledOp,
    orphan_segments,
    read_pending,
    spool_folder,
)
from runyard.core.metrics import MetricKind, PointBatch


def _batch(*values: float) -> list[PointBatch]:
    n = len(values)
    return [PointBatch("x", MetricKind.SCALAR, "", "", [None] * n, list(values), [1.0] * n)]


def test_unacknowledged_items_are_read_back_in_the_order_written(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append("k1", "run-1", _batch(1.0))
    spool.append_op("k2", "set_tags", {"run_id": "run-1", "tags": {"a": "1"}})
    spool.append("k3", "run-1", _batch(2.0, 3.0))
    spool.ack("k1")
    pending = read_pending(spool.path)
    assert [type(p) for p in pending] == [SpooledOp, SpooledBatch]
    assert pending[0] == SpooledOp("k2", "set_tags", {"run_id": "run-1", "tags": {"a": "1"}})
    assert isinstance(pending[1], SpooledBatch) and pending[1].batches[0].values == [2.0, 3.0]
    assert spool.outstanding == 2
    spool.close()


def test_a_record_cut_short_by_a_kill_is_ignored(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append("k1", "run-1", _batch(1.0))
    spool.append("k2", "run-1", _batch(2.0))
    spool.close()
    data = spool.path.read_bytes()
    spool.path.write_bytes(data[:-5])  # the process died while writing the second
    (only,) = read_pending(spool.path)
    assert isinstance(only, SpooledBatch) and only.key == "k1"


def test_a_live_segment_is_not_an_orphan_and_a_closed_one_with_work_left_is(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path)
    spool.append("k1", "run-1", _batch(1.0))
    assert orphan_segments(tmp_path) == [], "its process holds it"
    spool.close()
    assert orphan_segments(tmp_path) == [spool.path]


def test_a_fully_acknowledged_segment_is_deleted_at_close(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append("k1", "run-1", _batch(1.0))
    spool.ack("k1")
    spool.close()
    assert not spool.path.exists()


def test_each_store_and_workspace_has_its_own_folder(tmp_path: Path) -> None:
    folders = {
        spool_folder("http://127.0.0.1:8000", "a"),
        spool_folder("http://127.0.0.1:8000/", "a"),
        spool_folder("http://127.0.0.1:8000", "b"),
        spool_folder(f"sqlite:///{tmp_path / 'runyard.db'}", "a"),
    }
    assert len(folders) == 3

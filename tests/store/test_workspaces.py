import pytest

from runyard.core.entities import NewRun, RunFilter
from runyard.core.errors import NotFoundError
from runyard.core.metrics import MetricKind, PointBatch
from runyard.store.sql import SqlTrackingStore


def test_a_workspace_sees_only_its_own_experiments_and_runs(store_url: str) -> None:
    team_a = SqlTrackingStore(store_url, workspace="team-a")
    team_b = SqlTrackingStore(store_url, workspace="team-b")
    team_a.create_runs([NewRun(run_id="a-run", experiment_name="shared-name")])
    team_b.create_runs([NewRun(run_id="b-run", experiment_name="shared-name")])
    assert [d.run_id for d in team_a.search_runs(RunFilter())[0]] == ["a-run"]
    assert [d.run_id for d in team_b.search_runs(RunFilter(experiment_name="shared-name"))[0]] == [
        "b-run"
    ]
    with pytest.raises(NotFoundError):
        team_a.get_run("b-run")
    with pytest.raises(NotFoundError):
        team_a.set_tags("b-run", {"x": "y"})
    with pytest.raises(NotFoundError):
        team_a.log_points(
            "b-run", [PointBatch("m", MetricKind.SCALAR, "", "", [None], [1.0], [0.0])]
        )
    with pytest.raises(NotFoundError):
        team_a.create_runs([NewRun(run_id="child", experiment_name="x", parent_run_id="b-run")])
    assert team_b.list_metrics("b-run") == []
    team_a.close()


def test_idempotency_key_stores_a_batch_once(store_url: str) -> None:
    store = SqlTrackingStore(store_url)
    store.create_runs([NewRun(run_id="r", experiment_name="e")])
    batch = PointBatch("m", MetricKind.SCALAR, "", "", [None, None], [1.0, 2.0], [0.0, 0.0])
    assert store.log_points("r", [batch], idempotency_key="k1") is True
    assert store.log_points("r", [batch], idempotency_key="k1") is False
    assert store.log_points("r", [batch], idempotency_key="k2") is True
    (series,) = store.get_metric_series("r")
    assert series.values == [1.0, 2.0, 1.0, 2.0]
    store.close()


def test_runs_can_be_filtered_and_ordered_by_a_metric(store_url: str) -> None:
    store = SqlTrackingStore(store_url)
    store.create_runs(
        [NewRun(run_id=f"r{i}", experiment_name="e", tags={"arm": str(i % 2)}) for i in range(6)]
    )
    for i in range(6):
        store.log_points(
            "r" + str(i), [PointBatch("acc", MetricKind.SCALAR, "", "", [None], [i / 10], [0.0])]
        )
    from runyard.core.entities import MetricCondition

    docs, _ = store.search_runs(
        RunFilter(
            tags={"arm": "0"},
            metrics=(MetricCondition(name="acc", op=">", value=0.1),),
            order_by_metric="acc",
        )
    )
    assert [d.run_id for d in docs] == ["r4", "r2"]
    docs, token = store.search_runs(RunFilter(order_by_metric="acc", ascending=True), limit=4)
    assert [d.run_id for d in docs] == ["r0", "r1", "r2", "r3"]
    docs, token = store.search_runs(
        RunFilter(order_by_metric="acc", ascending=True), limit=4, page_token=token
    )
    assert [d.run_id for d in docs] == ["r4", "r5"] and token is None
    store.close()


def test_heartbeat_silence_makes_a_run_not_responding_until_it_beats_again(store_url: str) -> None:
    from runyard.core.status import Status
    from runyard.store.liveness import mark_silent_runs

    store = SqlTrackingStore(store_url)
    store.create_runs([NewRun(run_id="r", experiment_name="e", status=Status.RUNNING)])
    assert mark_silent_runs(store.db, 0.0) == 0  # never sent a heartbeat: left alone
    store.heartbeat("r")
    assert mark_silent_runs(store.db, -1.0) == 1
    assert store.get_run("r").status is Status.NOT_RESPONDING
    store.heartbeat("r")
    assert store.get_run("r").status is Status.RUNNING
    store.close()

"""search_runs over the real MlflowClient: each element of MLflow's filter grammar, order_by
and page tokens, answered by the store's SQL on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import httpx
import pytest
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException

from tests.mlflow.conftest import Door


@pytest.fixture
def seeded(door: Door) -> tuple[Door, str]:
    """Four runs: names r0..r3, a loss, an lr param, team tags, and varied statuses."""
    client = door.mlflow
    experiment_id = client.create_experiment("grammar")
    now = int(time.time() * 1000)
    rows = [
        # name, loss, lr, team, status
        ("r0", 0.9, "0.1", "vision", "FINISHED"),
        ("r1", 0.5, "0.01", "Vision", "FAILED"),
        ("r2", 0.1, None, "nlp", "RUNNING"),
        ("r3", None, "0.001", None, "FINISHED"),
    ]
    for name, loss, lr, team, status in rows:
        run_id = client.create_run(experiment_id, run_name=name).info.run_id
        client.log_batch(
            run_id,
            metrics=[] if loss is None else [Metric("loss", loss, now, 3)],
            params=[] if lr is None else [Param("lr", lr)],
            tags=[] if team is None else [RunTag("team", team)],
        )
        if status != "RUNNING":
            client.set_terminated(run_id, status)
    return door, experiment_id


def _names(
    seeded: tuple[Door, str], filter_string: str, order_by: list[str] | None = None
) -> list[str]:
    door, experiment_id = seeded
    found = door.mlflow.search_runs(
        [experiment_id], filter_string, order_by=order_by or ["attributes.run_name ASC"]
    )
    return [r.info.run_name for r in found]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.loss < 0.5", ["r2"]),
        ("metrics.loss <= 0.5", ["r1", "r2"]),
        ("metrics.loss > 0.5", ["r0"]),
        ("metrics.loss >= 0.5", ["r0", "r1"]),
        ("metrics.loss = 0.5", ["r1"]),
        ("metrics.loss != 0.5", ["r0", "r2"]),
        ("metric.loss IS NULL", ["r3"]),
        ("params.lr = '0.01'", ["r1"]),
        ("params.lr != '0.01'", ["r0", "r3"]),
        ("params.lr LIKE '0.0%'", ["r1", "r3"]),
        ("param.lr IS NULL", ["r2"]),
        ("params.lr IS NOT NULL", ["r0", "r1", "r3"]),
        ("tags.team = 'vision'", ["r0"]),
        ("tags.team LIKE 'vis%'", ["r0"]),
        ("tags.team ILIKE 'vis%'", ["r0", "r1"]),
        ("tags.team IS NULL", ["r3"]),
        ("tags.`team` != 'nlp'", ["r0", "r1"]),
        ("attributes.run_name = 'r2'", ["r2"]),
        ("run_name LIKE 'r_'", ["r0", "r1", "r2", "r3"]),
        ("tags.mlflow.runName ILIKE 'R1'", ["r1"]),
        ("attributes.status = 'FINISHED'", ["r0", "r3"]),
        ("attributes.status != 'FINISHED'", ["r1", "r2"]),
        ("attributes.status LIKE 'F%'", ["r0", "r1", "r3"]),
        ("metrics.loss < 0.95 AND tags.team ILIKE '%VISION'", ["r0", "r1"]),
        ("metrics.loss < 0.95 and params.lr = '0.1' AND attributes.status = 'FINISHED'", ["r0"]),
    ],
)
def test_each_filter_element_selects_the_runs_mlflow_would(
    seeded: tuple[Door, str], filter_string: str, expected: list[str]
) -> None:
    assert _names(seeded, filter_string) == expected


def test_run_id_in_and_not_in_and_start_time(seeded: tuple[Door, str]) -> None:
    door, experiment_id = seeded
    runs = {r.info.run_name: r for r in door.mlflow.search_runs([experiment_id])}
    pair = f"('{runs['r0'].info.run_id}', '{runs['r2'].info.run_id}')"
    assert _names(seeded, f"attributes.run_id IN {pair}") == ["r0", "r2"]
    assert _names(seeded, f"attributes.run_id NOT IN {pair}") == ["r1", "r3"]
    start = runs["r2"].info.start_time
    assert _names(seeded, f"attributes.start_time = {start}") == ["r2"]
    assert _names(seeded, f"attributes.start_time >= {start}") == ["r2", "r3"]
    assert _names(seeded, f"attributes.start_time < {start}") == ["r0", "r1"]
    assert _names(seeded, f"attributes.end_time > 0 AND start_time > {start}") == ["r3"]


def test_a_metric_filter_reads_the_latest_point_by_step_not_the_last_logged(door: Door) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("latest")
    run_id = client.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)
    client.log_metric(run_id, "loss", 0.1, timestamp=now, step=5)
    client.log_metric(run_id, "loss", 0.9, timestamp=now + 10, step=2)
    assert client.get_run(run_id).data.metrics["loss"] == 0.1
    assert len(client.search_runs([experiment_id], "metrics.loss < 0.5")) == 1
    assert len(client.search_runs([experiment_id], "metrics.loss > 0.5")) == 0


def test_order_by_puts_runs_without_the_key_last_in_both_directions(
    seeded: tuple[Door, str],
) -> None:
    assert _names(seeded, "", ["metrics.loss ASC"]) == ["r2", "r1", "r0", "r3"]
    assert _names(seeded, "", ["metrics.loss DESC"]) == ["r0", "r1", "r2", "r3"]
    assert _names(seeded, "", ["params.lr DESC"]) == ["r0", "r1", "r3", "r2"]
    assert _names(seeded, "", ["tags.team"]) == ["r1", "r2", "r0", "r3"]
    assert _names(seeded, "", ["attributes.run_name DESC"]) == ["r3", "r2", "r1", "r0"]
    door, experiment_id = seeded
    newest_first = [r.info.run_name for r in door.mlflow.search_runs([experiment_id])]
    assert newest_first == ["r3", "r2", "r1", "r0"]


def test_page_tokens_walk_every_run_once(seeded: tuple[Door, str]) -> None:
    door, experiment_id = seeded
    seen: list[str] = []
    token = None
    for _ in range(10):
        page = door.mlflow.search_runs(
            [experiment_id], max_results=3, order_by=["metrics.loss"], page_token=token
        )
        seen.extend(r.info.run_name for r in page)
        token = page.token
        if not token:
            break
    assert seen == ["r2", "r1", "r0", "r3"]


def test_search_spans_several_experiments_and_no_other_workspace(door: Door) -> None:
    client = door.mlflow
    first, second = client.create_experiment("one"), client.create_experiment("two")
    client.create_run(first, run_name="a")
    client.create_run(second, run_name="b")
    found = client.search_runs([first, second], order_by=["attributes.run_name"])
    assert [r.info.run_name for r in found] == ["a", "b"]
    assert [r.info.run_name for r in client.search_runs([first])] == ["a"]


@pytest.mark.parametrize(
    ("filter_string", "order_by", "max_results"),
    [
        ("metrics.loss LIKE '0.1'", None, 10),
        ("params.lr < 1", None, 10),
        ("tags.team = vision", None, 10),
        ("colour.red = 'x'", None, 10),
        ("attributes.nothing = 'x'", None, 10),
        ("metrics.loss < 1 OR metrics.loss > 2", None, 10),
        ("attributes.run_id IN 'x'", None, 10),
        ("attributes.run_id IN ('x'", None, 10),
        ("metrics.loss < 1 AND", None, 10),
        ("", ["metrics.loss SIDEWAYS"], 10),
        ("", ["datasets.name"], 10),
        ("", None, 0),
        ("", None, 50_001),
    ],
)
def test_malformed_searches_are_invalid_parameter_value(
    seeded: tuple[Door, str], filter_string: str, order_by: list[str] | None, max_results: int
) -> None:
    door, experiment_id = seeded
    with pytest.raises(MlflowException) as exc:
        door.mlflow.search_runs(
            [experiment_id], filter_string, order_by=order_by, max_results=max_results
        )
    assert str(exc.value.error_code) == "INVALID_PARAMETER_VALUE", exc.value.message
    assert len(door.mlflow.search_runs([experiment_id])) == 4


def test_a_forged_page_token_is_refused(seeded: tuple[Door, str]) -> None:
    door, experiment_id = seeded
    answer = httpx.post(
        f"{door.url}/api/2.0/mlflow/runs/search",
        json={"experiment_ids": [experiment_id], "page_token": "'; drop table runs; --"},
    )
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "page token" in answer.json()["message"]


def test_view_types_choose_active_deleted_or_all(seeded: tuple[Door, str]) -> None:
    door, experiment_id = seeded
    [r3] = door.mlflow.search_runs([experiment_id], "attributes.run_name = 'r3'")
    door.mlflow.delete_run(r3.info.run_id)
    counts = [
        len(door.mlflow.search_runs([experiment_id], run_view_type=view))
        for view in (ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY, ViewType.ALL)
    ]
    assert counts == [3, 1, 4]
    deleted = door.mlflow.search_runs(
        [experiment_id], "attributes.lifecycle_stage = 'deleted'", run_view_type=ViewType.ALL
    )
    assert [r.info.run_name for r in deleted] == ["r3"]


def test_user_id_and_the_mlflow_user_tag_filter_on_the_submitter(door: Door) -> None:
    client = door.mlflow
    experiment_id = client.create_experiment("users")
    client.create_run(experiment_id, run_name="ann's", tags={"mlflow.user": "ann"})
    client.create_run(experiment_id, run_name="bob's", tags={"mlflow.user": "bob"})

    def names(filter_string: str) -> list[str]:
        return [r.info.run_name for r in client.search_runs([experiment_id], filter_string)]

    assert names("attributes.user_id = 'ann'") == ["ann's"]
    assert names("tags.mlflow.user LIKE 'b%'") == ["bob's"]
    assert names("tags.`mlflow.user` != 'bob'") == ["ann's"]

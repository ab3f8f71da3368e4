"""Any iterable is a list, as in Azure ML v1: log_list, log_row values and log_table
columns take generators, ranges, NumPy arrays and pandas Series; a string is one value.

Reference: the v1 logging notebook logs `run.log_list("Fibonacci", (v * 2 for v in …))`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from runyard import Experiment, LimitExceededError, ValidationError
from runyard.core.limits import Limits
from runyard.sdk.offline import OfflineRun

ITERABLES: list[tuple[str, Callable[[], Any]]] = [
    ("generator", lambda: (v * 2 for v in [1, 2, 3])),
    ("range", lambda: range(2, 8, 2)),
    ("numpy", lambda: np.array([2, 4, 6])),
    ("pandas", lambda: pd.Series([2, 4, 6])),
    ("tuple", lambda: (2, 4, 6)),
    ("map", lambda: map(int, ["2", "4", "6"])),
]
IDS = [name for name, _ in ITERABLES]
MAKERS = [make for _, make in ITERABLES]


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_log_list_takes_any_iterable(experiment: Experiment, make: Callable[[], Any]) -> None:
    with experiment.start_logging() as run:
        run.log_list("doubled", make())
    assert run.get_metrics() == {"doubled": [2, 4, 6]}
    assert all(type(v) is int for v in run.get_metrics()["doubled"])


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_log_table_columns_take_any_iterable(
    experiment: Experiment, make: Callable[[], Any]
) -> None:
    with experiment.start_logging() as run:
        run.log_table("t", {"x": make(), "name": ["a", "b", "c"]})
    assert run.get_metrics() == {"t": {"x": [2, 4, 6], "name": ["a", "b", "c"]}}


@pytest.mark.parametrize(("backend", "transport"), [("sqlite", "local")], indirect=True)
@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_log_row_value_that_is_an_iterable_gives_one_row_per_item(
    experiment: Experiment, make: Callable[[], Any]
) -> None:
    with experiment.start_logging() as run:
        run.log_row("r", x=make(), y=np.array([1.0, 2.0, 3.0]))
        run.log_row("r", x=np.int64(8), y="last")  # single values: one row
    assert run.get_metrics() == {"r": {"x": [2, 4, 6, 8], "y": [1.0, 2.0, 3.0, "last"]}}


def test_a_string_is_one_value_not_an_iterable_of_characters(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        with pytest.raises(ValidationError, match="log_list takes a list"):
            run.log_list("letters", "abc")
        run.log_row("row", word="abc")
    assert run.get_metrics() == {"row": {"word": "abc"}}


@pytest.mark.parametrize(("backend", "transport"), [("sqlite", "local")], indirect=True)
def test_endless_generator_stops_at_the_list_limit(experiment: Experiment) -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            yield n
            n += 1

    limit = experiment.workspace.limits.max_list_length
    with (
        experiment.start_logging() as run,
        pytest.raises(LimitExceededError, match=f"more than {limit} values"),
    ):
        run.log_list("endless", endless())


@pytest.mark.parametrize(("backend", "transport"), [("sqlite", "local")], indirect=True)
def test_a_dict_is_refused_with_a_pointer_to_log_table(experiment: Experiment) -> None:
    with (
        experiment.start_logging() as run,
        pytest.raises(ValidationError, match="use log_table"),
    ):
        run.log_list("d", {"a": 1})


def test_offline_run_materialises_iterables_the_same_way(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = OfflineRun(Limits())
    run.log_list("doubled", (v * 2 for v in [1, 2, 3]))
    run.log_table("t", {"x": pd.Series([1, 2])})
    run.log_row("r", x=range(2))
    assert run.get_metrics() == {"doubled": [2, 4, 6], "t": {"x": [1, 2]}, "r": {"x": [0, 1]}}
    assert "[2, 4, 6]" in capsys.readouterr().out

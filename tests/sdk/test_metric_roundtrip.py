"""Every metric kind, logged through the SDK and read back from the store, on both backends.

`get_metrics()` must return exactly what the Azure ML v1 shaping rules say (spec §2): a
scalar logged once is the bare value, N times a list; a row/table metric with one row is
`{col: value}`, with more `{col: [..]}`; a list is a list; a structured metric logged once
is its dict. Values come back equal (NaN as NaN, -0.0 as -0.0) and of the same type.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runyard import Experiment, LimitExceededError, ValidationError
from runyard.core.limits import Limits

LIMITS = Limits()

ROUNDTRIP = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def same(got: Any, want: Any) -> bool:
    """Equal and of the same type, all the way down; NaN equals NaN and -0.0 is not 0.0."""
    if type(got) is not type(want):
        return False
    if isinstance(want, float):
        if math.isnan(want):
            return math.isnan(got)
        return got == want and math.copysign(1.0, got) == math.copysign(1.0, want)
    if isinstance(want, list):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    return bool(got == want)


def assert_same(got: Any, want: Any) -> None:
    assert same(got, want), f"stored {want!r}, got back {got!r}"


# --- Strategies ----------------------------------------------------------------------

SPECIAL_FLOATS = [
    math.nan,
    math.inf,
    -math.inf,
    0.0,
    -0.0,
    5e-324,  # the smallest subnormal
    -5e-324,
    2.2250738585072009e-308,  # the largest subnormal
    2.2250738585072014e-308,  # the smallest normal
    1.7976931348623157e308,
    0.1,
    float(2**53),
    float(2**53 + 2),
]
floats = st.one_of(st.sampled_from(SPECIAL_FLOATS), st.floats(allow_subnormal=True))
ints = st.integers(min_value=-(2**53), max_value=2**53)
bools = st.booleans()
# NUL is left out here: PostgreSQL cannot store it, see test_string_with_nul_round_trips.
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=min(200, LIMITS.max_string_value_length),
)
scalars = st.one_of(floats, ints, bools, texts)
numbers = st.one_of(floats, ints, bools)

names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() != "")


def series_of(values: st.SearchStrategy[Any], min_size: int = 2) -> st.SearchStrategy[list[Any]]:
    return st.lists(values, min_size=min_size, max_size=20)


# A series all of one type (each type has its own read path) or mixed.
scalar_series = st.one_of(
    series_of(floats), series_of(ints), series_of(bools), series_of(texts), series_of(scalars)
)


@st.composite
def increasing_steps(draw: st.DrawFn, n: int) -> list[int]:
    step = draw(st.one_of(st.integers(0, 10**6), st.integers(0, 2**62 - 20 * 10**6)))
    steps = [step]
    for _ in range(n - 1):
        step += draw(st.integers(min_value=1, max_value=10**6))
        steps.append(step)
    return steps


# `log_row(name, description=None, **columns)`, as in Azure: no column can be called
# "name" or "description" there.
row_columns = names.filter(lambda s: s not in ("name", "description"))


@st.composite
def tables(draw: st.DrawFn, min_rows: int = 1, max_rows: int = 8) -> dict[str, list[Any]]:
    columns = draw(
        st.lists(row_columns, min_size=1, max_size=LIMITS.max_columns_per_row, unique=True)
    )
    rows = draw(st.integers(min_value=min_rows, max_value=max_rows))
    return {c: draw(st.lists(scalars, min_size=rows, max_size=rows)) for c in columns}


def shaped_table(columns: dict[str, list[Any]]) -> dict[str, Any]:
    """Azure's shape of a table metric: one row is {col: value}, more {col: [..]}."""
    if all(len(v) == 1 for v in columns.values()):
        return {c: v[0] for c, v in columns.items()}
    return columns


counts = st.integers(min_value=0, max_value=10**6)
fractions = st.floats(min_value=0.0, max_value=1.0)
cells = st.one_of(counts, st.floats(allow_nan=True, allow_infinity=False))
labels = st.one_of(st.text(max_size=10), st.integers(-100, 100))


@st.composite
def confusion_matrices(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=5))
    return {
        "schema_type": "confusion_matrix",
        "schema_version": "1.0.0",
        "data": {
            "class_labels": draw(st.lists(labels, min_size=n, max_size=n, unique=True)),
            "matrix": [draw(st.lists(cells, min_size=n, max_size=n)) for _ in range(n)],
        },
    }


@st.composite
def accuracy_tables(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=4))
    prob = draw(st.lists(fractions, min_size=1, max_size=5))
    perc = draw(st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=1, max_size=5))

    def table(rows: int) -> list[list[int]]:
        return [draw(st.lists(counts, min_size=4, max_size=4)) for _ in range(rows)]

    return {
        "schema_type": "accuracy_table",
        "schema_version": "1.0.1",
        "data": {
            "class_labels": draw(st.lists(labels, min_size=n, max_size=n, unique=True)),
            "probability_tables": [table(len(prob)) for _ in range(n)],
            "percentile_tables": [table(len(perc)) for _ in range(n)],
            "probability_thresholds": prob,
            "percentile_thresholds": perc,
        },
    }


@st.composite
def residuals(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=0, max_value=10))
    return {
        "schema_type": "residuals",
        "schema_version": "1.0.0",
        "data": {
            "bin_edges": sorted(
                draw(st.lists(st.floats(-1e6, 1e6), min_size=n + 1, max_size=n + 1))
            ),
            "bin_counts": draw(st.lists(counts, min_size=n, max_size=n)),
        },
    }


@st.composite
def predictions(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=0, max_value=10))
    finite = st.floats(-1e6, 1e6)
    return {
        "schema_type": "predictions",
        "schema_version": "1.0.0",
        "data": {
            "bin_averages": draw(st.lists(finite, min_size=n, max_size=n)),
            "bin_errors": draw(st.lists(st.floats(0, 1e6), min_size=n, max_size=n)),
            "bin_counts": draw(st.lists(counts, min_size=n, max_size=n)),
            "bin_edges": sorted(draw(st.lists(finite, min_size=n + 1, max_size=n + 1))),
        },
    }


STRUCTURED: dict[str, tuple[str, st.SearchStrategy[dict[str, Any]]]] = {
    "confusion_matrix": ("log_confusion_matrix", confusion_matrices()),
    "accuracy_table": ("log_accuracy_table", accuracy_tables()),
    "residuals": ("log_residuals", residuals()),
    "predictions": ("log_predictions", predictions()),
}


# --- Scalars -------------------------------------------------------------------------


@ROUNDTRIP
@given(name=names, value=scalars)
@example(name="loss", value=-0.0)
@example(name="loss", value=math.nan)
@example(name="big", value=2**53)
@example(name="flag", value=True)
@example(name="message", value="Hello from run!")
def test_scalar_logged_once_is_the_bare_value(
    experiment: Experiment, name: str, value: Any
) -> None:
    with experiment.start_logging() as run:
        run.log(name, value)
    metrics = run.get_metrics()
    assert list(metrics) == [name]
    assert_same(metrics[name], value)


@ROUNDTRIP
@given(value=floats)
@example(value=-0.0)
@example(value=math.nan)
@example(value=math.inf)
@example(value=-math.inf)
@example(value=5e-324)
@example(value=-2.2250738585072009e-308)
def test_float_logged_once(experiment: Experiment, value: float) -> None:
    with experiment.start_logging() as run:
        run.log("loss", value)
    assert_same(run.get_metrics(), {"loss": value})


@ROUNDTRIP
@given(name=names, values=scalar_series)
@example(name="Sigmoid", values=[0.5, -0.0, math.nan, math.inf])
@example(name="epoch", values=[0, 1, -(2**53), 2**53])
@example(name="mixed", values=[1, 1.0, True, "1"])
def test_scalar_logged_n_times_is_a_list(
    experiment: Experiment, name: str, values: list[Any]
) -> None:
    with experiment.start_logging() as run:
        for value in values:
            run.log(name=name, value=value)
    assert_same(run.get_metrics(), {name: values})


@ROUNDTRIP
@given(data=st.data(), values=scalar_series)
def test_scalar_series_with_explicit_steps(
    experiment: Experiment, data: st.DataObject, values: list[Any]
) -> None:
    steps = data.draw(increasing_steps(len(values)))
    with experiment.start_logging() as run:
        for value, step in zip(values, steps, strict=True):
            run.log("accuracy", value, step=step)
    assert_same(run.get_metrics(), {"accuracy": values})


@ROUNDTRIP
@given(first=series_of(scalars, 1), second=series_of(scalars, 1))
def test_several_scalar_series_in_one_run(
    experiment: Experiment, first: list[Any], second: list[Any]
) -> None:
    with experiment.start_logging() as run:
        for i in range(max(len(first), len(second))):
            if i < len(first):
                run.log("first", first[i])
            if i < len(second):
                run.log("second", second[i])
    expected = {
        "first": first[0] if len(first) == 1 else first,
        "second": second[0] if len(second) == 1 else second,
    }
    assert_same(run.get_metrics(), expected)
    assert_same(run.get_metrics(name="second"), {"second": expected["second"]})


def test_negative_zero_keeps_its_sign(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        run.log("once", -0.0)
        run.log("series", -0.0)
        run.log("series", 0.0)
        run.log_list("list", [-0.0, 1.5])
    assert_same(run.get_metrics(), {"once": -0.0, "series": [-0.0, 0.0], "list": [-0.0, 1.5]})


def test_string_with_nul_is_refused_at_the_call(experiment: Experiment) -> None:
    """PostgreSQL cannot store a NUL in text, so no backend takes one: the call that logs it
    fails at once, naming the metric, and nothing unwritable is queued."""
    run = experiment.start_logging()
    with pytest.raises(ValidationError, match=r"metric 'message'.*NUL"):
        run.log("message", "Hello\x00from run!")
    run.log("loss", 0.5)
    assert run.get_metrics() == {"loss": 0.5}
    assert experiment.workspace.pipeline.pending() == 0


def test_value_logged_without_step_after_explicit_steps_comes_last(
    experiment: Experiment,
) -> None:
    """A point logged without a step is the next one: after the points logged before it."""
    with experiment.start_logging() as run:
        run.log("accuracy", 0.1, step=10)
        run.log("accuracy", 0.2, step=20)
        run.log("accuracy", 0.3)
    assert run.get_metrics() == {"accuracy": [0.1, 0.2, 0.3]}


# --- Lists and tables ------------------------------------------------------------------


@ROUNDTRIP
@given(
    name=names, lists=st.lists(st.lists(numbers, min_size=1, max_size=30), min_size=1, max_size=3)
)
def test_log_list_is_always_a_list(
    experiment: Experiment, name: str, lists: list[list[Any]]
) -> None:
    with experiment.start_logging() as run:
        for value in lists:
            run.log_list(name=name, value=value)
    assert_same(run.get_metrics(), {name: [v for value in lists for v in value]})


@ROUNDTRIP
@given(name=names, table=tables())
def test_log_row_repeated(experiment: Experiment, name: str, table: dict[str, list[Any]]) -> None:
    rows = len(next(iter(table.values())))
    with experiment.start_logging() as run:
        for i in range(rows):
            run.log_row(name, **{c: values[i] for c, values in table.items()})
    assert_same(run.get_metrics(), {name: shaped_table(table)})


@ROUNDTRIP
@given(name=names, table=tables())
def test_log_table(experiment: Experiment, name: str, table: dict[str, list[Any]]) -> None:
    with experiment.start_logging() as run:
        run.log_table(name=name, value=table)
    assert_same(run.get_metrics(), {name: shaped_table(table)})


@ROUNDTRIP
@given(first=tables(), data=st.data())
def test_log_table_then_log_row_appends(
    experiment: Experiment, first: dict[str, list[Any]], data: st.DataObject
) -> None:
    row = {c: data.draw(scalars) for c in first}
    with experiment.start_logging() as run:
        run.log_table("table", first)
        run.log_row("table", **row)
    expected = {c: [*values, row[c]] for c, values in first.items()}
    assert_same(run.get_metrics(), {"table": expected})


# --- Structured metrics ------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(STRUCTURED))
@ROUNDTRIP
@given(data=st.data())
def test_structured_metric_logged_once(
    experiment: Experiment, kind: str, data: st.DataObject
) -> None:
    method, strategy = STRUCTURED[kind]
    value = data.draw(strategy)
    sent = copy.deepcopy(value)
    as_json = data.draw(st.booleans())
    with experiment.start_logging() as run:
        log: Callable[..., None] = getattr(run, method)
        log(kind, json.dumps(value) if as_json else value)
    assert_same(run.get_metrics(), {kind: sent})


@pytest.mark.parametrize("kind", sorted(STRUCTURED))
@ROUNDTRIP
@given(data=st.data())
def test_structured_metric_logged_twice_is_a_list(
    experiment: Experiment, kind: str, data: st.DataObject
) -> None:
    method, strategy = STRUCTURED[kind]
    values = [data.draw(strategy), data.draw(strategy)]
    with experiment.start_logging() as run:
        for value in values:
            getattr(run, method)(kind, value)
    assert_same(run.get_metrics(), {kind: values})


def test_structured_metric_is_kept_as_it_was_when_logged(experiment: Experiment) -> None:
    """Changing the dict after logging it does not change what was logged."""
    matrix = {
        "schema_type": "confusion_matrix",
        "schema_version": "1.0.0",
        "data": {"class_labels": ["cat", "dog"], "matrix": [[3, 1], [0, 4]]},
    }
    with experiment.start_logging() as run:
        run.log_confusion_matrix("confusion", matrix)
        matrix["data"]["matrix"][0][0] = 99  # the script reuses its dict for the next epoch
    assert run.get_metrics()["confusion"]["data"]["matrix"] == [[3, 1], [0, 4]]


def test_structured_metric_without_version_gets_the_azure_one(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        run.log_residuals("residuals", {"data": {"bin_edges": [0.0, 1.0], "bin_counts": [7]}})
    assert run.get_metrics() == {
        "residuals": {
            "schema_type": "residuals",
            "schema_version": "1.0.0",
            "data": {"bin_edges": [0.0, 1.0], "bin_counts": [7]},
        }
    }


# --- Refused values: the call raises, naming the metric, and stores nothing ---------------

WRONG_SCALARS = [
    pytest.param([1, 2], id="list"),
    pytest.param({"a": 1}, id="dict"),
    pytest.param(None, id="None"),
    pytest.param(object(), id="object"),
    pytest.param(b"bytes", id="bytes"),
    pytest.param(1 + 2j, id="complex"),
]


@pytest.mark.parametrize("value", WRONG_SCALARS)
def test_log_refuses_wrong_types(experiment: Experiment, value: object) -> None:
    with experiment.start_logging() as run:
        with pytest.raises(ValidationError, match="learning rate"):
            run.log("learning rate", value)
        assert run.get_status() == "Running"
        run.log("other", 1.0)  # the run goes on
    assert run.get_metrics() == {"other": 1.0}
    assert run.get_status() == "Completed"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda run: run.log_list("fib", 5), id="log_list-number"),
        pytest.param(lambda run: run.log_list("fib", "0112358"), id="log_list-str"),
        pytest.param(lambda run: run.log_list("fib", [0, 1, None]), id="log_list-None-item"),
        pytest.param(lambda run: run.log_list("fib", [0, 1, [2]]), id="log_list-nested"),
        pytest.param(lambda run: run.log_list("fib", [0, 1, 2**60]), id="log_list-big-int"),
        pytest.param(lambda run: run.log_row("fib", a=1, b=[2]), id="log_row-list-cell"),
        pytest.param(lambda run: run.log_row("fib", a=1, b=None), id="log_row-None-cell"),
        pytest.param(lambda run: run.log_table("fib", [1, 2]), id="log_table-list"),
        pytest.param(
            lambda run: run.log_table("fib", {"a": [1, 2], "b": [1]}), id="log_table-ragged"
        ),
        pytest.param(
            lambda run: run.log_table("fib", {"a": [1], "b": [{}]}), id="log_table-dict-cell"
        ),
        pytest.param(
            lambda run: run.log_confusion_matrix(
                "fib", {"data": {"class_labels": ["a", "b"], "matrix": [[1, 2]]}}
            ),
            id="confusion-not-square",
        ),
        pytest.param(
            lambda run: run.log_residuals("fib", {"data": {"bin_edges": [0], "bin_counts": [1]}}),
            id="residuals-edges",
        ),
        pytest.param(lambda run: run.log_predictions("fib", [1, 2]), id="predictions-list"),
    ],
)
def test_other_calls_refuse_wrong_values(
    experiment: Experiment, call: Callable[[Any], None]
) -> None:
    with experiment.start_logging() as run, pytest.raises(ValidationError, match="fib"):
        call(run)
    assert run.get_metrics() == {}


def test_a_refused_value_does_not_claim_the_name(experiment: Experiment) -> None:
    """After `log` refuses a list ("use log_list"), log_list under that name works."""
    with experiment.start_logging() as run:
        with pytest.raises(ValidationError, match="use log_list"):
            run.log("Fibonacci", [0, 1, 1, 2])
        run.log_list("Fibonacci", [0, 1, 1, 2])
    assert run.get_metrics() == {"Fibonacci": [0, 1, 1, 2]}


def test_a_name_keeps_its_kind(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        run.log("loss", 0.5)
        with pytest.raises(ValidationError, match="loss"):
            run.log_list("loss", [0.4, 0.3])
        with pytest.raises(ValidationError, match="loss"):
            run.log_row("loss", value=0.4)
    assert run.get_metrics() == {"loss": 0.5}


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda run, name: run.log(name, 1.0), id="log"),
        pytest.param(lambda run, name: run.log(name, 1), id="log-int"),
        pytest.param(lambda run, name: run.log_list(name, [1.0]), id="log_list"),
        pytest.param(lambda run, name: run.log_row(name, x=1.0), id="log_row"),
        pytest.param(lambda run, name: run.log_row("row", **{name: 1.0}), id="log_row-column"),
        pytest.param(lambda run, name: run.log_table(name, {"x": [1.0]}), id="log_table"),
        pytest.param(
            lambda run, name: run.log_residuals(
                name, {"data": {"bin_edges": [0, 1], "bin_counts": [1]}}
            ),
            id="log_residuals",
        ),
    ],
)
def test_name_longer_than_255_characters_is_refused(
    experiment: Experiment, call: Callable[[Any, str], None]
) -> None:
    limit = experiment.workspace.limits.max_metric_name_length
    assert limit == 255
    with experiment.start_logging() as run:
        with pytest.raises(LimitExceededError, match="255"):
            call(run, "n" * (limit + 1))
        call(run, "m" * limit)  # exactly at the limit is fine
    metrics = run.get_metrics()
    assert len(metrics) == 1
    assert "n" * (limit + 1) not in metrics


@pytest.mark.parametrize("value", [2**53 + 1, -(2**53) - 1, 2**64, -(2**100)])
def test_integer_beyond_2_53_is_refused(experiment: Experiment, value: int) -> None:
    with experiment.start_logging() as run:
        with pytest.raises(LimitExceededError, match="epoch"):
            run.log("epoch", value)
        run.log("edge", 2**53)
        run.log("edge", -(2**53))
    assert_same(run.get_metrics(), {"edge": [2**53, -(2**53)]})


def test_string_longer_than_the_limit_is_refused(experiment: Experiment) -> None:
    limit = experiment.workspace.limits.max_string_value_length
    with experiment.start_logging() as run:
        with pytest.raises(LimitExceededError, match="message"):
            run.log("message", "x" * (limit + 1))
        run.log("message", "é" * limit)
    assert run.get_metrics() == {"message": "é" * limit}


def test_a_refused_list_stores_none_of_its_values(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        run.log_list("values", [1, 2])
        with pytest.raises(ValidationError, match="values"):
            run.log_list("values", [3, 4, "five", None])
        with pytest.raises(ValidationError, match="table"):
            run.log_table("table", {"a": [1, 2], "b": [3, object()]})
        with pytest.raises(LimitExceededError, match="row"):
            run.log_row("row", a=1, b=2**54)
    assert run.get_metrics() == {"values": [1, 2]}

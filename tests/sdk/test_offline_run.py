"""The offline run (`Run.get_context()` outside a submitted script) checks every metric call
exactly as a stored run does: one checker serves both, so a script that passes offline
passes when submitted, and fails the same way when it fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runyard import LimitExceededError, OfflineRun, Run, ValidationError, Workspace
from runyard.sdk.experiment import Experiment
from runyard.sdk.workspace import close_all

SIXTEEN = {f"c{i}": [i] for i in range(16)}

#: (what, the call, the error, a fragment of its message)
BAD_CALLS: list[tuple[str, Callable[[Any], None], type[Exception], str]] = [
    ("table of 16 columns", lambda r: r.log_table("t", SIXTEEN), LimitExceededError, "15"),
    (
        "row of 16 cells",
        lambda r: r.log_row("t", **{c: v[0] for c, v in SIXTEEN.items()}),
        LimitExceededError,
        "15",
    ),
    (
        "table of unequal columns",
        lambda r: r.log_table("t", {"a": [1, 2], "b": [1]}),
        ValidationError,
        "equal length",
    ),
    ("table that is not a dict", lambda r: r.log_table("t", [1, 2]), ValidationError, "dict"),
    ("table without columns", lambda r: r.log_table("t", {}), ValidationError, "at least one"),
    ("row without cells", lambda r: r.log_row("t"), ValidationError, "at least one"),
    ("list that is a string", lambda r: r.log_list("l", "abc"), ValidationError, "list"),
    (
        "description past the limit",
        lambda r: r.log("s", 1.0, description="d" * 5_001),
        LimitExceededError,
        "5000",
    ),
    (
        "description not a string",
        lambda r: r.log_list("l", [1], description=3),
        ValidationError,
        "description",
    ),
    (
        "image with path and plot",
        lambda r: r.log_image("i", path="a.png", plot=object()),
        ValidationError,
        "either",
    ),
    (
        "image file that does not exist",
        lambda r: r.log_image("i", path="missing.png"),
        ValidationError,
        "no image file",
    ),
    (
        "plot that is not a figure",
        lambda r: r.log_image("i", plot=object()),
        ValidationError,
        "matplotlib",
    ),
    (
        "scalar name then a list",
        lambda r: (r.log("m", 1), r.log_list("m", [1])),
        ValidationError,
        "logged as scalar",
    ),
    ("step that is not an integer", lambda r: r.log("s", 1.0, step=1.5), ValidationError, "step"),
    (
        "confusion matrix of the wrong shape",
        lambda r: r.log_confusion_matrix("c", {"x": 1}),
        ValidationError,
        "c",
    ),
]


@pytest.fixture
def stored_run(tmp_path: Path) -> Iterator[Run]:
    workspace = Workspace(
        "offline-parity",
        store_url=f"sqlite:///{tmp_path / 'runyard.db'}",
        artifacts_url=str(tmp_path / "artifacts"),
    )
    run = Experiment(workspace, "parity").start_logging()
    yield run
    close_all()


def _refusal(call: Callable[[Any], None], run: Any) -> Exception:
    with pytest.raises(Exception) as refused:
        call(run)
    return refused.value


@pytest.mark.parametrize(
    ("what", "call", "error", "fragment"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS]
)
def test_offline_run_refuses_what_a_stored_run_refuses(
    stored_run: Run,
    what: str,
    call: Callable[[Any], None],
    error: type[Exception],
    fragment: str,
) -> None:
    offline = _refusal(call, OfflineRun())
    stored = _refusal(call, stored_run)
    assert type(offline) is type(stored)
    assert isinstance(offline, error)
    assert fragment in str(offline)
    assert str(offline) == str(stored)


def test_offline_table_of_fifteen_equal_columns_is_kept_and_shaped_like_a_stored_one(
    stored_run: Run,
) -> None:
    table = {f"c{i}": [i, i + 1] for i in range(15)}
    offline = OfflineRun()
    for run in (offline, stored_run):
        run.log_table("t", table)
        run.log_row("r", a=1, b="x")
    assert offline.get_metrics() == stored_run.get_metrics()
    assert offline.get_metrics()["t"]["c14"] == [14, 15]

"""The code examples of the seed articles (shared/seeds), run against runyard.

Each test keeps the seed's code as written, except that `azureml.core` imports become
`runyard` imports and `Workspace.from_config()` finds the test's workspace (a config.json
written into a temporary folder, or the `workspace` fixture). After the seed's code, the
test checks what a user of the article would look at: statuses, metrics, tags,
properties and the runs a query returns.

Seeds 000/001/002/004: "Enable logging in ML training runs" (data types table, interactive
logging, native python logging). Seed 003: "Start, monitor and cancel training runs"
(start_logging, get_status, get_details, complete, with...as, child runs, tags and
properties, queries). ScriptRunConfig/submit/cancel, the CLI and MLflow are later issues.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

from runyard import (
    Experiment,
    ImmutablePropertyError,
    OfflineRun,
    Run,
    Workspace,
)
from runyard.core.run_environment import ENV_RUN_ID

matplotlib.use("Agg")

try:  # the seed wraps its loop in tqdm(...); plain range when tqdm is not installed
    from tqdm import tqdm
except ImportError:  # pragma: no cover - depends on the environment

    def tqdm(iterable):  # type: ignore[no-untyped-def]
        return iterable


@pytest.fixture
def config_folder(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding `.runyard/config.json` of the test workspace, made the cwd."""
    project = tmp_path / "project"
    project.mkdir()
    workspace.write_config(project)
    monkeypatch.chdir(project)
    return project


# --- Prerequisites (seed 003) -------------------------------------------------------


def test_sdk_version(capsys: pytest.CaptureFixture[str]) -> None:
    import runyard

    print(runyard.VERSION)

    assert capsys.readouterr().out == f"{runyard.__version__}\n"


# --- Start a run and its logging process; monitor its status (seed 003) ----------------


def test_start_logging_get_status_get_details_complete(
    workspace: Workspace, config_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Seed 003, "Using the SDK": the workspace comes from the config.json in the cwd.
    ws = Workspace.from_config()
    exp = Experiment(workspace=ws, name="explore-runs")

    notebook_run = exp.start_logging()
    notebook_run.log(name="message", value="Hello from run!")

    print(notebook_run.get_status())

    print(notebook_run.get_details())

    notebook_run.complete()
    print(notebook_run.get_status())

    # Config discovery found the test's workspace, not the local default.
    assert ws.store_url == workspace.store_url
    assert ws.artifacts_url == workspace.artifacts_url

    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "Running"
    assert notebook_run.id in printed[1]
    assert printed[-1] == "Completed"

    assert notebook_run.get_status() == "Completed"
    assert notebook_run.get_metrics() == {"message": "Hello from run!"}
    details = notebook_run.get_details()
    assert details["runId"] == notebook_run.id
    assert details["status"] == "Completed"
    assert details["target"] == "local"
    assert details["startTimeUtc"] is not None
    assert details["endTimeUtc"] is not None
    assert details["endTimeUtc"] >= details["startTimeUtc"]
    assert details["error"] is None

    # The run is in the store: a fresh workspace object from the same config finds it.
    again = Run.get(Workspace.from_config(), notebook_run.id)
    assert again.get_status() == "Completed"
    assert again.get_metrics() == {"message": "Hello from run!"}
    assert [r.id for r in Experiment(ws, "explore-runs").get_runs()] == [notebook_run.id]


def test_get_details_while_running(experiment: Experiment) -> None:
    exp = experiment
    notebook_run = exp.start_logging()
    notebook_run.log(name="message", value="Hello from run!")
    details = notebook_run.get_details()
    assert details["runId"] == notebook_run.id
    assert details["status"] == "Running"
    assert details["startTimeUtc"] is not None
    assert details["endTimeUtc"] is None
    assert details["properties"] == {}
    assert details["tags"] == {}
    notebook_run.complete()


def test_with_start_logging_completes_on_exit(
    experiment: Experiment, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = experiment

    with exp.start_logging() as notebook_run:
        notebook_run.log(name="message", value="Hello from run!")
        print(notebook_run.get_status())

    print(notebook_run.get_status())

    assert capsys.readouterr().out == "Running\nCompleted\n"
    assert notebook_run.get_metrics() == {"message": "Hello from run!"}
    assert notebook_run.get_details()["endTimeUtc"] is not None


def test_with_start_logging_marks_failed_when_block_raises(experiment: Experiment) -> None:
    # Spec §3: the `with` form marks the run Failed, with the error, if the block raises.
    exp = experiment
    with pytest.raises(ZeroDivisionError), exp.start_logging() as notebook_run:
        notebook_run.log(name="message", value="Hello from run!")
        _ = 1 / 0

    assert notebook_run.get_status() == "Failed"
    error = notebook_run.get_details()["error"]
    assert error is not None
    assert "ZeroDivisionError" in str(error)
    assert notebook_run.get_metrics() == {"message": "Hello from run!"}


# --- Data types (seeds 000/001/002/004, "Logging run metrics" table) ------------------


def test_log_list_fibonacci(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        run.log_list(name="Fibonacci", value=[0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89])

    fib = run.get_metrics()["Fibonacci"]
    assert fib == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
    assert all(type(v) is int for v in fib)
    assert run.get_metrics(name="Fibonacci") == {"Fibonacci": fib}


def test_sigmoid_cosine_wave_and_sine_wave_table(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        # The seed's table rows, as the logging-api notebook they come from writes them.
        sines: dict[str, list[float]] = {"angle": [], "sine": []}
        for i in tqdm(range(-10, 10)):
            run.log(name="Sigmoid", value=1 / (1 + np.exp(-i)))
            angle = i / 2.0
            run.log_row(name="Cosine Wave", angle=angle, cos=np.cos(angle))
            sines["angle"].append(angle)
            sines["sine"].append(np.sin(angle))
        run.log_table(name="Sine Wave", value=sines)

    metrics = run.get_metrics()
    assert set(metrics) == {"Sigmoid", "Cosine Wave", "Sine Wave"}

    angles = [i / 2.0 for i in range(-10, 10)]
    sigmoid = metrics["Sigmoid"]
    assert sigmoid == [1 / (1 + math.exp(-i)) for i in range(-10, 10)]
    assert all(type(v) is float for v in sigmoid)  # NumPy floats come back as Python floats

    cosine = metrics["Cosine Wave"]
    assert cosine == {"angle": angles, "cos": [math.cos(a) for a in angles]}
    assert all(type(v) is float for v in cosine["cos"])

    assert metrics["Sine Wave"] == {"angle": angles, "sine": [math.sin(a) for a in angles]}


def test_log_row_once_is_one_value_per_column(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        angle = 0.5
        run.log_row(name="Cosine Wave", angle=angle, cos=np.cos(angle))
    assert run.get_metrics() == {"Cosine Wave": {"angle": 0.5, "cos": math.cos(0.5)}}


def test_log_image_from_jpeg_file(
    experiment: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (24, 16), (200, 160, 90)).save("breadpudding.jpg", format="JPEG")
    original = Path("breadpudding.jpg").read_bytes()

    with experiment.start_logging() as run:
        run.log_image(name="food", path="./breadpudding.jpg", plot=None, description="desert")

    reference = run.get_metrics()["food"]
    assert isinstance(reference, str)
    assert reference.endswith(".jpg")
    assert reference in run.get_file_names()
    copy = run.download_file(reference, tmp_path / "downloaded.jpg")
    assert copy.read_bytes() == original
    with Image.open(copy) as image:
        assert image.format == "JPEG"
        assert image.size == (24, 16)


def test_log_image_from_matplotlib_figure(experiment: Experiment, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2), dpi=50)
    ax.plot([0, 1, 2], [0, 1, 4])
    try:
        with experiment.start_logging() as run:
            run.log_image(name="parabola", plot=fig)
    finally:
        plt.close(fig)

    reference = run.get_metrics()["parabola"]
    assert isinstance(reference, str)
    assert reference in run.get_file_names()
    copy = run.download_file(reference, tmp_path / "parabola.png")
    with Image.open(copy) as image:
        assert image.format == "PNG"
        assert image.size == (100, 100)


def test_two_images_under_one_name_are_both_kept(experiment: Experiment, tmp_path: Path) -> None:
    first, second = tmp_path / "a.jpg", tmp_path / "b.jpg"
    Image.new("RGB", (8, 8), (255, 0, 0)).save(first, format="JPEG")
    Image.new("RGB", (8, 8), (0, 0, 255)).save(second, format="JPEG")
    with experiment.start_logging() as run:
        run.log_image(name="food", path=str(first))
        run.log_image(name="food", path=str(second))

    references = run.get_metrics()["food"]
    assert isinstance(references, list)
    assert len(references) == 2
    assert references[0] != references[1]
    assert [
        run.download_file(r, tmp_path / f"d{i}.jpg").read_bytes() for i, r in enumerate(references)
    ] == [first.read_bytes(), second.read_bytes()]


# --- Native python logging (seeds 000/001/002/004) -----------------------------------


def test_native_python_logging_shows_runyard_debug_records(
    experiment: Experiment, caplog: pytest.LogCaptureFixture
) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    # pytest has put its own handlers on the root logger, which would make basicConfig a
    # no-op; take them off so the seed's two lines do what they do in a script.
    root.handlers.clear()
    try:
        import logging as seed_logging

        seed_logging.basicConfig(level=seed_logging.DEBUG)

        root.addHandler(caplog.handler)
        with experiment.start_logging() as run:
            run.log(name="message", value="Hello from run!")
        assert run.get_metrics() == {"message": "Hello from run!"}
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)

    runyard_debug = [
        r
        for r in caplog.records
        if r.levelno == logging.DEBUG and (r.name == "runyard" or r.name.startswith("runyard."))
    ]
    assert runyard_debug, "the runyard logger emitted no DEBUG record"
    messages = [r.getMessage() for r in runyard_debug]
    assert any(run.id in m and "Completed" in m for m in messages), messages


# --- Child runs (seed 003) ----------------------------------------------------------


def test_child_runs_in_process(experiment: Experiment, capsys: pytest.CaptureFixture[str]) -> None:
    exp = experiment

    with exp.start_logging() as parent_run:
        for c, count in enumerate(range(5)):  # noqa: B007 - the seed's loop, as written
            with parent_run.child_run() as child:
                child.log(name="Hello from child run", value=c)

    print(parent_run.get_children())
    assert capsys.readouterr().out.strip()

    children = list(parent_run.get_children())
    assert len(children) == 5
    assert len({child.id for child in children}) == 5
    for child in children:
        assert child.get_status() == "Completed"
        assert child.parent is not None
        assert child.parent.id == parent_run.id
    # Newest first, as Azure lists them: the last child logged 4.
    assert [child.get_metrics() for child in children] == [
        {"Hello from child run": c} for c in (4, 3, 2, 1, 0)
    ]
    assert parent_run.get_status() == "Completed"
    assert parent_run.get_metrics() == {}

    recursive = parent_run.get_metrics(recursive=True)
    assert recursive == {
        parent_run.id: {},
        **{child.id: child.get_metrics() for child in children},
    }

    # Child runs are not top-level runs of the experiment, unless asked for.
    assert [r.id for r in exp.get_runs()] == [parent_run.id]
    assert {r.id for r in exp.get_runs(include_children=True)} == {
        parent_run.id,
        *(child.id for child in children),
    }


# --- Tags and properties, and finding runs by them (seed 003) -------------------------


def test_properties_are_immutable(
    experiment: Experiment, capsys: pytest.CaptureFixture[str]
) -> None:
    # The seed uses the run of a submitted script; an interactive run stands in for it.
    local_script_run = experiment.start_logging()

    local_script_run.add_properties({"author": "azureml-user"})
    print(local_script_run.get_properties())

    try:
        local_script_run.add_properties({"author": "different-user"})
    except Exception as e:
        print(e)

    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == str({"author": "azureml-user"})
    assert len(printed) == 2, "the second add_properties printed no error"
    assert "author" in printed[1]

    with pytest.raises(ImmutablePropertyError, match="author"):
        local_script_run.add_properties({"author": "different-user"})
    assert local_script_run.get_properties() == {"author": "azureml-user"}
    # The same value again is no change.
    local_script_run.add_properties({"author": "azureml-user"})
    assert local_script_run.get_properties() == {"author": "azureml-user"}
    local_script_run.complete()


def test_tags_are_mutable(experiment: Experiment, capsys: pytest.CaptureFixture[str]) -> None:
    local_script_run = experiment.start_logging()

    local_script_run.tag("quality", "great run")
    print(local_script_run.get_tags())

    local_script_run.tag("quality", "fantastic run")
    print(local_script_run.get_tags())

    local_script_run.tag("worth another look")
    print(local_script_run.get_tags())

    assert capsys.readouterr().out.splitlines() == [
        str({"quality": "great run"}),
        str({"quality": "fantastic run"}),
        str({"quality": "fantastic run", "worth another look": None}),
    ]
    assert local_script_run.get_tags() == {"quality": "fantastic run", "worth another look": None}
    local_script_run.complete()
    # Tags stay mutable after the run ended.
    local_script_run.tag("quality", "great run")
    assert local_script_run.get_tags()["quality"] == "great run"


def test_query_runs_by_properties_and_tags(experiment: Experiment) -> None:
    exp = experiment
    # Runs that each miss one of the conditions of the seed's queries.
    not_fantastic = exp.start_logging()
    not_fantastic.add_properties({"author": "azureml-user"})
    not_fantastic.tag("quality", "great run")
    other_author = exp.start_logging()
    other_author.add_properties({"author": "different-user"})
    other_author.tag("quality", "fantastic run")
    other_author.tag("worth another look")
    no_author = exp.start_logging()
    no_author.tag("quality", "fantastic run")
    no_author.tag("worth another look")

    local_script_run = exp.start_logging()
    local_script_run.add_properties({"author": "azureml-user"})
    local_script_run.tag("quality", "great run")
    local_script_run.tag("quality", "fantastic run")
    local_script_run.tag("worth another look")

    fantastic = list(
        exp.get_runs(properties={"author": "azureml-user"}, tags={"quality": "fantastic run"})
    )
    worth_a_look = list(
        exp.get_runs(properties={"author": "azureml-user"}, tags="worth another look")
    )

    assert [r.id for r in fantastic] == [local_script_run.id]
    assert [r.id for r in worth_a_look] == [local_script_run.id]
    assert fantastic[0].get_tags() == {"quality": "fantastic run", "worth another look": None}
    assert fantastic[0].get_properties() == {"author": "azureml-user"}

    # Each condition alone matches more runs, so each one is really applied.
    assert {r.id for r in exp.get_runs(properties={"author": "azureml-user"})} == {
        not_fantastic.id,
        local_script_run.id,
    }
    assert {r.id for r in exp.get_runs(tags={"quality": "fantastic run"})} == {
        other_author.id,
        no_author.id,
        local_script_run.id,
    }
    assert {r.id for r in exp.get_runs(tags="worth another look")} == {
        other_author.id,
        no_author.id,
        local_script_run.id,
    }
    for run in (not_fantastic, other_author, no_author, local_script_run):
        run.complete()


# --- Run.get_context() outside a submitted script -----------------------------------


def test_get_context_outside_a_submitted_run_is_offline(
    config_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV_RUN_ID, raising=False)

    run = Run.get_context()
    run.log(name="message", value="Hello from run!")
    run.log_list(name="Fibonacci", value=[0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89])
    run.log_row(name="Cosine Wave", angle=0.5, cos=np.cos(0.5))

    assert isinstance(run, OfflineRun)
    out = capsys.readouterr().out
    assert "Attempted to log scalar metric message:\nHello from run!" in out
    assert "Attempted to log list metric Fibonacci:" in out
    assert "Attempted to log row metric Cosine Wave:" in out
    assert run.get_metrics() == {
        "message": "Hello from run!",
        "Fibonacci": [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89],
        "Cosine Wave": {"angle": 0.5, "cos": math.cos(0.5)},
    }
    # Nothing went to the workspace the folder is attached to.
    assert Experiment.list(Workspace.from_config()) == []

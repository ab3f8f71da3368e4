"""A bounded schemathesis run over the server's own OpenAPI schema: no request makes it fail.

The app runs in-process (ASGI) on a fresh SQLite store. The workspace path parameter is pinned
to a valid name and about half the cases aim at the seeded experiment and run, so the fuzzer
gets past the workspace check and the 404 of unknown runs and exercises the routes themselves.
Cases are generated both to fit the schema and to break it (negative mode): neither may get a
5xx, and every documented answer must match its schema.

schemathesis's lazy pytest loader (`from_fixture`) does not work with pytest 9
('Function' object has no attribute '_nodeid'), and its eager `parametrize` needs the app at
import time; so each operation runs as a subtest driving schemathesis's own strategies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from runyard.core.entities import NewRun
from runyard.core.metrics import MetricKind, PointBatch
from runyard.server.app import create_app
from runyard.server.config import ServerConfig

WORKSPACE = "fuzz"
EXPERIMENT = "fuzz-experiment"
RUN_ID = "fuzz-run"
#: Examples per operation and generation mode; ~25 operations keep the run well under a minute.
EXAMPLES = 20
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


def _seed(app: Any) -> None:
    """A run with a tag, a property, a metric, a log line and a file, for the fuzzer to hit."""
    store = app.state.access.store(WORKSPACE)
    new = NewRun(
        run_id=RUN_ID, experiment_name=EXPERIMENT, tags={"team": "vision"}, properties={"seed": "1"}
    )
    store.create_runs([new])
    batch = PointBatch("loss", MetricKind.SCALAR, "", "", [0, 1], [0.5, 0.25], [1.0, 2.0])
    store.log_points(RUN_ID, [batch])
    store.append_log_lines(RUN_ID, "stdout", ["started"])
    app.state.access.files.put_bytes(f"{EXPERIMENT}/{RUN_ID}", "outputs/model.txt", b"weights")


@pytest.fixture(scope="module")
def fuzz_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The schema of an in-process app on a fresh SQLite store, minus the endless SSE route."""
    folder: Path = tmp_path_factory.mktemp("schema-fuzz")
    # schemathesis calls the app as http://testserver: a name a loopback server must be told.
    store = f"sqlite:///{folder / 'runyard.db'}"
    config = ServerConfig(store, str(folder / "artifacts"), allowed_hosts=("testserver",))
    app = create_app(config)
    _seed(app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path_regex=r"/events$")
    yield schema
    asgi.shutdown_lifespans()


def _seeded(operation: Any) -> dict[str, str]:
    """Path parameters naming the seeded experiment and run; file names stay generated."""
    names = {p.name for p in operation.path_parameters}
    pin = {"workspace": WORKSPACE}
    if "run_id" in names:
        pin["run_id"] = RUN_ID
    if "name" in names and "/experiments/" in operation.path:
        pin["name"] = EXPERIMENT
    return pin


def _cases(operation: Any) -> st.SearchStrategy[Any]:
    """Cases in a valid workspace: on the seeded objects, and on generated names and ids."""
    if not operation.path_parameters:
        pins: list[dict[str, str] | None] = [None]
    else:
        pins = [_seeded(operation), {"workspace": WORKSPACE}]
    return st.one_of(
        [
            operation.as_strategy(generation_mode=mode, path_parameters=pin)
            for pin in pins
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
    )


def test_no_generated_request_makes_the_server_fail(
    fuzz_schema: Any, subtests: pytest.Subtests
) -> None:
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    labels = [operation.label for operation in operations]
    assert len(operations) >= 20, labels
    assert not any(label.endswith("/events") for label in labels)
    for operation in operations:
        with subtests.test(msg=operation.label):

            @FUZZ_SETTINGS
            @given(case=_cases(operation))
            def no_server_error(case: Any) -> None:
                case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

            no_server_error()

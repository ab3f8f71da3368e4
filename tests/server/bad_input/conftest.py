"""One server per backend for the bad-input tests, and a freshly seeded workspace per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS, ServerProcess, fresh_store_url
from tests.server.bad_input.seeded import FRAME, UPLOAD_CAP, Seeded, Served, points_frame


@pytest.fixture(scope="package", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One server per backend for the whole package, with a small upload cap and its own TMPDIR."""
    backend = str(request.param)
    root = tmp_path_factory.mktemp(f"bad-input-{backend}")
    stores = fresh_store_url(backend, root)
    store = next(stores)
    spool = root / "server-tmp"
    spool.mkdir()
    server = ServerProcess(
        store,
        root / "artifacts",
        env={"RUNYARD_MAX_UPLOAD_BYTES": str(UPLOAD_CAP), "TMPDIR": str(spool)},
    )
    try:
        server.start()
        yield Served(server, root, root / "artifacts", spool)
    finally:
        server.stop()
        stores.close()


@pytest.fixture
def seeded(served: Served) -> Seeded:
    """A fresh workspace whose run has tags, a property, a status, points, a file and a log."""
    seed = Seeded(served, f"w{uuid.uuid4().hex[:12]}", f"run-{uuid.uuid4().hex[:8]}")
    with seed.client() as api:
        created = api.post(
            "/runs",
            json={
                "runs": [
                    {
                        "run_id": seed.run_id,
                        "experiment_name": seed.experiment,
                        "display_name": "baseline",
                        "tags": {"team": "vision"},
                        "properties": {"seed": "42"},
                    }
                ]
            },
        )
        assert created.status_code == 200, created.text
        steps = [
            api.post(f"{seed.run}/status", json={"status": "Running"}),
            api.post(
                f"{seed.run}/points",
                content=points_frame("loss", [0.5, 0.25], key=f"seed-{uuid.uuid4().hex}"),
                headers=FRAME,
            ),
            api.put(f"{seed.run}/files/outputs/keep.txt", content=b"kept"),
            api.post(f"{seed.run}/logs/stdout", json={"lines": ["started"]}),
        ]
        for answer in steps:
            assert answer.status_code < 300, answer.text
    seed.snapshot = seed.read_back()
    assert seed.snapshot["run"]["tags"] == {"team": "vision"}
    assert seed.snapshot["series"][0]["values"] == [0.5, 0.25]
    return seed

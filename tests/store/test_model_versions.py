"""Model versions are numbered atomically: processes registering one name at once each get
a version of their own, and together 1..N with no gap and no duplicate."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from runyard.core.errors import ValidationError
from runyard.core.registry import NewModelVersion
from runyard.store.sql import SqlTrackingStore
from tests.conftest import ServerProcess

PROCESSES = 4
EACH = 6

# Every process opens its workspace first, then waits for the start file, so that the
# registrations overlap instead of running one process after another.
_REGISTER = textwrap.dedent(
    """
    import json, os, sys, time
    from runyard import Model, Workspace

    where, artifacts, start, model_file, count = sys.argv[1:]
    if where.startswith("http"):
        ws = Workspace("race", server_url=where)
    else:
        ws = Workspace("race", store_url=where, artifacts_url=artifacts)
    Model.list(ws)
    deadline = time.monotonic() + 60
    while not os.path.exists(start) and time.monotonic() < deadline:
        time.sleep(0.002)
    print(json.dumps([Model.register(ws, model_file, "race").version for _ in range(int(count))]))
    """
)


def race(wheres: list[str], tmp_path: Path) -> list[list[int]]:
    """Start one registering process per entry of `wheres`, let them go at once, and return
    the versions each one got."""
    model_file = tmp_path / "model.pkl"
    model_file.write_bytes(b"weights")
    start = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _REGISTER,
                where,
                str(tmp_path / "artifacts"),
                str(start),
                str(model_file),
                str(EACH),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for where in wheres
    ]
    start.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    return results


def assert_one_version_each(results: list[list[int]]) -> None:
    """Every registration got its own number, the numbers are 1..N, each process's rise."""
    every = [v for versions in results for v in versions]
    assert sorted(every) == list(range(1, len(every) + 1))
    for versions in results:
        assert versions == sorted(versions)


def test_processes_registering_one_name_at_once_get_distinct_versions(
    store_url: str, tmp_path: Path
) -> None:
    results = race([store_url] * PROCESSES, tmp_path)

    assert_one_version_each(results)
    store = SqlTrackingStore(store_url, workspace="race")
    try:
        stored = store.list_model_versions()
        assert [v.version for v in stored] == list(range(PROCESSES * EACH, 0, -1))
        assert len({v.storage_key for v in stored}) == PROCESSES * EACH
        assert store.get_model_version("race").version == PROCESSES * EACH
    finally:
        store.close()


def test_clients_of_two_servers_on_one_store_get_distinct_versions(
    store_url: str, tmp_path: Path
) -> None:
    servers = [ServerProcess(store_url, tmp_path / "artifacts").start() for _ in range(2)]
    try:
        results = race([s.url for s in servers] * (PROCESSES // 2), tmp_path)
    finally:
        for server in servers:
            server.stop()

    assert_one_version_each(results)


def test_a_storage_key_is_used_by_one_version_only(store_url: str) -> None:
    store = SqlTrackingStore(store_url)
    try:
        key = uuid.uuid4().hex
        store.create_model_version(NewModelVersion(name="m"), key, "m.pkl", ["m.pkl"])

        with pytest.raises(ValidationError, match="refused"):
            store.create_model_version(NewModelVersion(name="m"), key, "m.pkl", ["m.pkl"])

        assert [v.version for v in store.list_model_versions()] == [1]
        next_one = store.create_model_version(
            NewModelVersion(name="m"), uuid.uuid4().hex, "m.pkl", ["m.pkl"]
        )
        assert next_one.version == 2
    finally:
        store.close()


@pytest.mark.parametrize(
    ("key", "files", "message"),
    [
        ("not-a-key", ["m.pkl"], "storage key"),
        ("0" * 32, [], "without files"),
    ],
    ids=["bad-key", "no-files"],
)
def test_a_version_needs_a_storage_key_and_files(
    store_url: str, key: str, files: list[str], message: str
) -> None:
    store = SqlTrackingStore(store_url)
    try:
        with pytest.raises(ValidationError, match=message):
            store.create_model_version(NewModelVersion(name="m"), key, "m.pkl", files)
        assert store.list_model_versions() == []
    finally:
        store.close()

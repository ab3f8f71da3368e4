"""The model registry's routes on a real server: registering from a run and from uploads, and
bad requests refused with a precise 4xx that leaves the registry as it was."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS, ServerProcess, fresh_store_url


@dataclass(frozen=True)
class Served:
    """The module's server and its artifact folder."""

    server: ServerProcess
    artifacts: Path


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One server per backend for the module."""
    root = tmp_path_factory.mktemp(f"models-{request.param}")
    stores = fresh_store_url(str(request.param), root)
    server = ServerProcess(next(stores), root / "artifacts")
    try:
        server.start()
        yield Served(server, root / "artifacts")
    finally:
        server.stop()
        stores.close()


@dataclass(frozen=True)
class Seeded:
    """A fresh workspace with a run holding outputs/model.pkl, registered once as clf:1."""

    workspace: str
    run_id: str
    api: httpx.Client

    def registry(self) -> Any:
        """Every version of the workspace, as the API lists them."""
        answer = self.api.post("/models/search", json={})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def seeded(served: Served) -> Iterator[Seeded]:
    """See Seeded."""
    workspace = f"w{uuid.uuid4().hex[:12]}"
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    base = f"{served.server.url}/api/v1/workspaces/{workspace}"
    with httpx.Client(base_url=base, timeout=30) as api:
        new_run = {"run_id": run_id, "experiment_name": "exp", "status": "Running"}
        for answer in (
            api.post("/runs", json={"runs": [new_run]}),
            api.put(f"/runs/{run_id}/files/outputs/model.pkl", content=b"weights"),
            api.post(
                "/models/clf/versions",
                json={
                    "run_id": run_id,
                    "path": "outputs/model.pkl",
                    "properties": {"p": "1"},
                    "tags": {"t": "1"},
                },
            ),
        ):
            assert answer.status_code < 300, answer.text
        yield Seeded(workspace, run_id, api)


def assert_refused(response: httpx.Response, status: int, kind: str, fragment: str) -> None:
    """`status` with an error of type `kind` whose message holds `fragment`."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    error = response.json()["error"]
    assert error["type"] == kind, error
    assert fragment in error["message"], error


def test_register_from_a_run_answers_201_with_the_version(seeded: Seeded) -> None:
    answer = seeded.api.post(
        "/models/clf/versions",
        json={"run_id": seeded.run_id, "path": "outputs", "description": "all outputs"},
    )

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["id"], body["version"], body["runId"]) == ("clf:2", 2, seeded.run_id)
    assert (body["path"], body["files"]) == ("outputs", ["outputs/model.pkl"])
    assert body["experimentName"] == "exp"
    listed = seeded.api.get("/models/clf/versions").json()
    assert [v["version"] for v in listed] == [2, 1]
    assert seeded.api.get("/models/clf/latest").json()["version"] == 2
    assert seeded.api.get("/models/clf/versions/1").json()["tags"] == {"t": "1"}
    content = seeded.api.get("/models/clf/versions/2/files/outputs/model.pkl")
    assert content.status_code == 200 and content.content == b"weights"


def test_uploaded_files_become_a_version_and_the_upload_is_cleared(
    served: Served, seeded: Seeded
) -> None:
    key = uuid.uuid4().hex
    for name, data in (("bundle/a.txt", b"a"), ("bundle/sub/b.txt", b"b")):
        stored = seeded.api.put(f"/model-uploads/{key}/files/{name}", content=data)
        assert stored.status_code == 200, stored.text
    upload = served.artifacts / "_model_uploads" / seeded.workspace / key
    assert upload.is_dir()

    answer = seeded.api.post("/models/local/versions", json={"upload_key": key})

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["path"], body["files"]) == ("bundle", ["bundle/a.txt", "bundle/sub/b.txt"])
    assert body["runId"] is None
    assert not upload.exists()
    again = seeded.api.post("/models/local/versions", json={"upload_key": key})
    assert_refused(again, 400, "ValidationError", "0 top-level")
    got = seeded.api.get("/models/local/versions/1/files/bundle/sub/b.txt")
    assert got.content == b"b"


def test_an_upload_of_several_top_level_entries_is_refused(seeded: Seeded) -> None:
    key = uuid.uuid4().hex
    for name in ("a.txt", "b.txt"):
        assert seeded.api.put(f"/model-uploads/{key}/files/{name}", content=b"x").status_code == 200
    before = seeded.registry()

    answer = seeded.api.post("/models/two/versions", json={"upload_key": key})

    assert_refused(answer, 400, "ValidationError", "2 top-level")
    assert seeded.registry() == before


REGISTER_REFUSALS = [
    ({}, 400, "ValidationError", "one of the two"),
    (
        {"run_id": "RUN", "path": "outputs/model.pkl", "upload_key": "0" * 32},
        400,
        "ValidationError",
        "one of the two",
    ),
    ({"run_id": "RUN"}, 400, "ValidationError", "needs both run_id and path"),
    ({"path": "outputs/model.pkl"}, 400, "ValidationError", "needs both run_id and path"),
    ({"run_id": "no-such-run", "path": "x"}, 404, "NotFoundError", "no run"),
    ({"run_id": "RUN", "path": "outputs/none"}, 404, "NotFoundError", "no file or folder"),
    ({"run_id": "RUN", "path": "../../etc"}, 400, "ValidationError", "'..'"),
    ({"run_id": "RUN", "path": "/etc/passwd"}, 400, "ValidationError", "absolute"),
    ({"run_id": "bad id!", "path": "x"}, 400, "ValidationError", "invalid run id"),
    ({"upload_key": "../x"}, 400, "ValidationError", "storage key"),
    ({"upload_key": "f" * 32}, 400, "ValidationError", "0 top-level"),
    (
        {"run_id": "RUN", "path": "outputs/model.pkl", "tags": {"": "x"}},
        400,
        "ValidationError",
        "must not be empty",
    ),
    (
        {"run_id": "RUN", "path": "outputs/model.pkl", "properties": {"k": "\x00"}},
        400,
        "ValidationError",
        "NUL",
    ),
    ({"run_id": "RUN", "path": "outputs/model.pkl", "unknown": 1}, 422, "ValidationError", ""),
    ({"run_id": "RUN", "path": "outputs/model.pkl", "tags": []}, 422, "ValidationError", ""),
]


@pytest.mark.parametrize(("body", "status", "kind", "fragment"), REGISTER_REFUSALS)
def test_bad_registrations_are_refused_and_register_nothing(
    seeded: Seeded, body: dict[str, Any], status: int, kind: str, fragment: str
) -> None:
    before = seeded.registry()
    body = {k: seeded.run_id if v == "RUN" else v for k, v in body.items()}

    answer = seeded.api.post("/models/clf/versions", json=body)

    assert_refused(answer, status, kind, fragment)
    assert seeded.registry() == before


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "kind", "fragment"),
    [
        ("POST", "/models/bad name/versions", {}, 400, "ValidationError", "invalid model name"),
        ("POST", "/models/search", {"name": "a b"}, 400, "ValidationError", "invalid model name"),
        ("POST", "/models/search", {"latest": "maybe"}, 422, "ValidationError", "latest"),
        ("POST", "/models/search", {"tag": {}}, 422, "ValidationError", "tag"),
        ("GET", "/models/clf/versions/0", None, 400, "ValidationError", "whole number"),
        ("GET", "/models/clf/versions/abc", None, 422, "ValidationError", "version"),
        ("GET", "/models/nope/latest", None, 404, "ModelNotFoundError", "'nope'"),
        ("GET", "/models/nope/versions", None, 404, "ModelNotFoundError", "'nope'"),
        ("GET", "/models/clf/versions/9", None, 404, "ModelNotFoundError", "version 9"),
        (
            "GET",
            "/models/clf/versions/1/files/outputs/model.pkl",
            None,
            404,
            "NotFoundError",
            "no file",
        ),
        ("PUT", "/models/clf/versions/9/tags", {"tags": {"a": "b"}}, 404, "ModelNotFoundError", ""),
        (
            "POST",
            "/models/clf/versions/1/properties",
            {"properties": {"p": "2"}},
            409,
            "ImmutablePropertyError",
            "'p'",
        ),
        (
            "PUT",
            "/models/clf/versions/1/tags",
            {"tags": {"k": "v" * 1001}},
            400,
            "LimitExceededError",
            "limit is 1000",
        ),
        ("PUT", "/model-uploads/not-a-key/files/a.txt", None, 400, "ValidationError", "key"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    seeded: Seeded,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    kind: str,
    fragment: str,
) -> None:
    before = seeded.registry()

    content = b"x" if path.startswith("/model-uploads") else None
    answer = seeded.api.request(method, path, json=body, content=content)

    assert_refused(answer, status, kind, fragment)
    assert seeded.registry() == before


def test_tags_and_properties_routes_change_one_version(seeded: Seeded) -> None:
    version = "/models/clf/versions/1"
    for answer in (
        seeded.api.put(f"{version}/tags", json={"tags": {"stage": "prod", "x": None}}),
        seeded.api.post(f"{version}/tags/remove", json={"keys": ["t", "missing"]}),
        seeded.api.post(f"{version}/properties", json={"properties": {"p": "1", "q": "2"}}),
    ):
        assert answer.status_code == 204, answer.text

    body = seeded.api.get(version).json()
    assert body["tags"] == {"stage": "prod", "x": None}
    assert body["properties"] == {"p": "1", "q": "2"}
    found = seeded.api.post("/models/search", json={"tags": {"stage": "prod"}}).json()
    assert [v["id"] for v in found] == ["clf:1"]

"""MLflow's artifact proxy: the real MlflowClient reads and writes the runyard run's files."""

from __future__ import annotations

import http.client
import io
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from runyard import Experiment, Run, Workspace
from tests.conftest import ServerProcess
from tests.mlflow.conftest import Door
from tests.server.access_control.conftest import secured  # noqa: F401  (the fixture)
from tests.server.access_control.secured import TEAM_A, TEAM_B, Secured

BINARY = bytes(range(256)) * 64 + b"\x00\xff"


def _run(door: Door, name: str = "art") -> tuple[str, Run]:
    experiment_id = door.mlflow.create_experiment(f"{name}-{uuid.uuid4().hex[:6]}")
    run_id = door.mlflow.create_run(experiment_id).info.run_id
    experiment = door.mlflow.get_experiment(experiment_id).name
    return run_id, Run(Experiment(door.workspace, experiment), run_id)


def test_run_artifact_uri_is_the_proxy_of_its_own_files(door: Door) -> None:
    run_id, _ = _run(door)
    uri = door.mlflow.get_run(run_id).info.artifact_uri
    assert uri == f"mlflow-artifacts:/runs/{run_id}/artifacts"


def test_files_logged_through_mlflow_are_the_runyard_runs_files(door: Door, tmp_path: Path) -> None:
    run_id, run = _run(door)
    (tmp_path / "weights.bin").write_bytes(BINARY)
    (tmp_path / "notes.txt").write_text("loss went down\n")
    nested = tmp_path / "plots"
    (nested / "deep" / "deeper").mkdir(parents=True)
    (nested / "a.png").write_bytes(b"\x89PNG fake")
    (nested / "deep" / "deeper" / "b.csv").write_text("x,y\n1,2\n")
    door.mlflow.log_artifact(run_id, str(tmp_path / "weights.bin"))
    door.mlflow.log_artifact(run_id, str(tmp_path / "notes.txt"), artifact_path="text")
    door.mlflow.log_artifacts(run_id, str(nested), artifact_path="plots")

    assert run.get_file_names() == [
        "plots/a.png",
        "plots/deep/deeper/b.csv",
        "text/notes.txt",
        "weights.bin",
    ]
    got = run.download_file("weights.bin", tmp_path / "back.bin")
    assert got.read_bytes() == BINARY
    run.download_file("plots/deep/deeper/b.csv", tmp_path / "b.csv")
    assert (tmp_path / "b.csv").read_text() == "x,y\n1,2\n"


def test_files_runyard_uploads_are_listed_and_downloaded_by_mlflow(
    door: Door, tmp_path: Path
) -> None:
    run_id, run = _run(door)
    source = tmp_path / "model.pt"
    source.write_bytes(BINARY)
    run.upload_file("outputs/model.pt", str(source))
    run.upload_file("outputs/sub/config.json", str(source))
    run.upload_file("readme.md", str(source))

    top = door.mlflow.list_artifacts(run_id)
    assert [(f.path, f.is_dir, f.file_size) for f in top] == [
        ("outputs", True, None),
        ("readme.md", False, len(BINARY)),
    ]
    inner = door.mlflow.list_artifacts(run_id, "outputs")
    assert [(f.path, f.is_dir) for f in inner] == [
        ("outputs/model.pt", False),
        ("outputs/sub", True),
    ]
    assert door.mlflow.list_artifacts(run_id, "nothing-here") == []

    one = door.mlflow.download_artifacts(run_id, "outputs/model.pt", str(tmp_path))
    assert Path(one).read_bytes() == BINARY
    folder = door.mlflow.download_artifacts(run_id, "outputs", str(tmp_path / "all"))
    assert sorted(
        os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs
    ) == ["model.pt", os.path.join("sub", "config.json")]


def test_tracking_api_lists_a_runs_artifacts_with_paths_from_the_root(door: Door) -> None:
    run_id, run = _run(door)
    run.upload_file("outputs/a.txt", _stream(b"a"))
    run.upload_file("outputs/b/c.txt", _stream(b"cc"))
    base = f"{door.url}/api/2.0/mlflow/artifacts/list"
    answer = httpx.get(base, params={"run_id": run_id, "path": "outputs"}).json()
    assert answer["root_uri"] == f"mlflow-artifacts:/runs/{run_id}/artifacts"
    assert answer["files"] == [
        {"path": "outputs/a.txt", "is_dir": False, "file_size": 1},
        {"path": "outputs/b", "is_dir": True},
    ]
    missing = httpx.get(base, params={"run_id": uuid.uuid4().hex})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_deleting_through_the_proxy_removes_the_runyard_files(door: Door) -> None:
    run_id, run = _run(door)
    for name in ("keep.txt", "tmp/a.txt", "tmp/b/c.txt"):
        run.upload_file(name, _stream(b"x"))
    url = f"{door.url}/api/2.0/mlflow-artifacts/artifacts/runs/{run_id}/artifacts/tmp"
    assert httpx.delete(url).status_code == 200
    assert run.get_file_names() == ["keep.txt"]


@pytest.mark.parametrize(
    "path",
    [
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e/%2e%2e/etc/passwd",
        "%252e%252e%252f%252e%252e%252fetc",
        "sub\\..\\..\\x",
        "%2Fetc%2Fpasswd",
        "C:%5Cwindows",
        "a%00b",
    ],
)
def test_path_traversal_in_any_encoding_is_refused(door: Door, path: str) -> None:
    run_id, run = _run(door)
    run.upload_file("safe.txt", _stream(b"safe"))
    url = httpx.URL(door.url)
    base = f"{url.path}/api/2.0/mlflow-artifacts/artifacts/runs/{run_id}/artifacts/"
    for method in ("GET", "PUT", "DELETE"):
        # http.client sends the path byte for byte (httpx would resolve the dot segments).
        connection = http.client.HTTPConnection(url.host, url.port, timeout=30)
        try:
            connection.request(method, base + path, body=b"evil" if method == "PUT" else None)
            answer = connection.getresponse()
            status, text = answer.status, answer.read().decode()
        finally:
            connection.close()
        assert status == 400, (method, path, text)
        assert json.loads(text)["error_code"] == "INVALID_PARAMETER_VALUE"
    listed = httpx.get(
        f"{door.url}/api/2.0/mlflow-artifacts/artifacts",
        params={"path": f"runs/{run_id}/artifacts/{path}"},
    )
    assert listed.status_code == 400
    assert run.get_file_names() == ["safe.txt"]


def test_bad_proxy_paths_answer_in_mlflows_shape(door: Door) -> None:
    run_id, _ = _run(door)
    root = f"{door.url}/api/2.0/mlflow-artifacts/artifacts"
    cases = {
        f"{root}/runs/{run_id}/artifacts/missing.txt": "RESOURCE_DOES_NOT_EXIST",
        f"{root}/runs/{uuid.uuid4().hex}/artifacts/x": "RESOURCE_DOES_NOT_EXIST",
        f"{root}/elsewhere/x/y": "RESOURCE_DOES_NOT_EXIST",
        f"{root}/runs/{run_id}/not-artifacts/x": "RESOURCE_DOES_NOT_EXIST",
        f"{root}/logged-models/m-nothing/artifacts/x": "RESOURCE_DOES_NOT_EXIST",
    }
    for url, code in cases.items():
        answer = httpx.get(url)
        assert (answer.status_code, answer.json()["error_code"]) == (404, code), url
    with pytest.raises(MlflowException) as exc:
        door.mlflow.download_artifacts(run_id, "missing.txt")
    assert "missing.txt" in str(exc.value)


def test_multipart_upload_answers_mlflows_not_implemented(door: Door) -> None:
    run_id, _ = _run(door)
    answer = httpx.post(
        f"{door.url}/api/2.0/mlflow-artifacts/mpu/create/runs/{run_id}/artifacts/big.bin",
        json={"path": "big.bin", "num_parts": 2},
    )
    assert answer.status_code == 501
    assert answer.json() == {
        "error_code": "NOT_IMPLEMENTED",
        "message": "Multipart upload is not supported for the current artifact repository",
    }


def test_a_run_of_another_workspace_is_unreachable(door: Door, tmp_path: Path) -> None:
    run_id, run = _run(door)
    run.upload_file("secret.txt", _stream(b"secret"))
    other = f"{door.server}/mlflow/o{uuid.uuid4().hex[:10]}/api/2.0/mlflow-artifacts/artifacts"
    got = httpx.get(f"{other}/runs/{run_id}/artifacts/secret.txt")
    assert got.status_code == 404 and got.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    put = httpx.put(f"{other}/runs/{run_id}/artifacts/planted.txt", content=b"x")
    assert put.status_code == 404
    assert run.get_file_names() == ["secret.txt"]


def _stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def test_an_upload_past_the_upload_cap_is_refused_and_stores_nothing(tmp_path: Path) -> None:
    server = ServerProcess(
        f"sqlite:///{tmp_path / 'runyard.db'}", tmp_path / "files", "--max-upload-bytes", "1000"
    ).start()
    try:
        client = MlflowClient(tracking_uri=server.url)
        run_id = client.create_run(client.create_experiment("capped")).info.run_id
        root = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/runs/{run_id}/artifacts"
        assert httpx.put(f"{root}/small.bin", content=b"x" * 1000).status_code == 200

        def chunked() -> Iterator[bytes]:  # no Content-Length: the streamed count must stop it
            for _ in range(4):
                yield b"y" * 400

        for body in (b"z" * 1001, chunked()):
            answer = httpx.put(f"{root}/big.bin", content=body)
            assert answer.status_code == 413, answer.text
        names = [f.path for f in client.list_artifacts(run_id)]
        assert names == ["small.bin"]
    finally:
        server.stop()


def test_a_reader_token_reads_artifacts_but_cannot_write_or_delete(
    secured: Secured,  # noqa: F811
    tmp_path: Path,
) -> None:
    owner = {"Authorization": f"Bearer {secured.tokens[(TEAM_A, 'owner')]}"}
    reader = {"Authorization": f"Bearer {secured.tokens[(TEAM_A, 'reader')]}"}
    other = {"Authorization": f"Bearer {secured.tokens[(TEAM_B, 'owner')]}"}
    tracking = f"{secured.url}/mlflow/{TEAM_A}/api/2.0/mlflow"
    created = httpx.post(
        f"{tracking}/experiments/create", json={"name": f"rd-{uuid.uuid4().hex[:8]}"}, headers=owner
    )
    experiment_id = created.json()["experiment_id"]
    run = httpx.post(
        f"{tracking}/runs/create", json={"experiment_id": experiment_id}, headers=owner
    )
    run_id = run.json()["run"]["info"]["run_id"]
    root = f"{secured.url}/mlflow/{TEAM_A}/api/2.0/mlflow-artifacts/artifacts"
    url = f"{root}/runs/{run_id}/artifacts/model.bin"
    assert httpx.put(url, content=BINARY, headers=owner).status_code == 200
    assert httpx.get(url, headers=reader).content == BINARY
    for method in ("PUT", "DELETE"):
        refused = httpx.request(
            method, url, content=b"x" if method == "PUT" else None, headers=reader
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["error_code"] == "PERMISSION_DENIED"
    anonymous = httpx.get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error_code"] == "UNAUTHENTICATED"
    # Team B's token at team A's prefix is refused; at its own prefix the run does not exist.
    assert httpx.get(url, headers=other).status_code == 403
    theirs = f"{secured.url}/mlflow/{TEAM_B}/api/2.0/mlflow-artifacts/artifacts"
    assert (
        httpx.get(f"{theirs}/runs/{run_id}/artifacts/model.bin", headers=other).status_code == 404
    )
    assert httpx.get(url, headers=owner).content == BINARY


def test_the_default_workspace_answers_at_the_servers_root(door: Door, tmp_path: Path) -> None:
    client = MlflowClient(tracking_uri=door.server)
    name = f"root-{uuid.uuid4().hex[:8]}"
    run_id = client.create_run(client.create_experiment(name)).info.run_id
    (tmp_path / "at-root.bin").write_bytes(BINARY)
    client.log_artifact(run_id, str(tmp_path / "at-root.bin"), artifact_path="deep")
    run = Run(Experiment(Workspace("default", server_url=door.server), name), run_id)
    assert run.get_file_names() == ["deep/at-root.bin"]
    assert [f.path for f in client.list_artifacts(run_id, "deep")] == ["deep/at-root.bin"]
    ajax = f"{door.server}/ajax-api/2.0/mlflow-artifacts/artifacts/runs/{run_id}/artifacts"
    assert httpx.get(f"{ajax}/deep/at-root.bin").content == BINARY
    # The same run is not reachable from the door's workspace.
    assert (
        httpx.get(
            f"{door.url}/api/2.0/mlflow-artifacts/artifacts/runs/{run_id}/artifacts/deep/at-root.bin"
        ).status_code
        == 404
    )

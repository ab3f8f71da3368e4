"""The gate in front of every route, against real `runyard server` processes: Host names
(DNS rebinding), header and body caps, body media types, and authentication before any
byte of a body is read.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runyard.core.wire import MEDIA_TYPE
from tests.conftest import ServerProcess, poll_until
from tests.server.access_control.secured import create_token, points_frame

BODY_CAP = 64 * 1024
HEADER_CAP = 16 * 1024
EXTRA_HOST = "studio.internal"
#: How long a server may take to answer a request it should refuse before reading the body.
PROMPT = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """An open loopback server (no tokens) with a small JSON body cap and one extra host."""
    folder = tmp_path_factory.mktemp("gate")
    process = ServerProcess(
        f"sqlite:///{folder / 'runyard.db'}",
        folder / "artifacts",
        "--max-body-bytes",
        str(BODY_CAP),
        "--allowed-host",
        EXTRA_HOST,
    )
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.fixture
def run_path(server: ServerProcess) -> str:
    """The API path of a new Running run in a fresh workspace."""
    workspace = f"w{uuid.uuid4().hex[:12]}"
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    created = httpx.post(
        f"{server.url}/api/v1/workspaces/{workspace}/runs",
        json={"runs": [{"run_id": run_id, "experiment_name": "gate", "status": "Running"}]},
        timeout=30,
    )
    assert created.status_code == 200, created.text
    return f"/api/v1/workspaces/{workspace}/runs/{run_id}"


def raw_exchange(port: int, head: str, body: bytes = b"", timeout: float = PROMPT) -> Any:
    """Send a request head (and the start of a body) on a bare socket; the status and JSON
    body of the answer, or None if none came within `timeout` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        received = b""
        try:
            while b"\r\n\r\n" not in received or not _complete(received):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except TimeoutError:
            return None
    status_line, _, rest = received.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(payload) if payload else None


def _complete(received: bytes) -> bool:
    head, _, payload = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(payload) >= int(value.strip())
    return False


def error_type(answer: httpx.Response) -> str:
    return str(answer.json()["error"]["type"])


# Host names: DNS rebinding


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "192.168.1.5:{port}"])
def test_foreign_host_name_is_refused_by_a_loopback_server(
    server: ServerProcess, run_path: str, host: str
) -> None:
    headers = {"host": host.format(port=server.port)}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answers = [
            client.get(f"{run_path}", headers=headers),
            client.put(f"{run_path}/tags", json={"tags": {"pwned": "yes"}}, headers=headers),
            client.get("/api/v1/health", headers=headers),
        ]
        doc = client.get(run_path).json()
    for answer in answers:
        assert answer.status_code == 421, answer.text
        assert error_type(answer) == "HostNotAllowedError"
        assert "--allowed-host" in answer.json()["error"]["message"]
    assert "pwned" not in doc["tags"]


@pytest.mark.parametrize(
    "host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LOCALHOST", EXTRA_HOST]
)
def test_loopback_and_allowed_host_names_are_answered(
    server: ServerProcess, run_path: str, host: str
) -> None:
    answer = httpx.get(
        f"{server.url}{run_path}", headers={"host": host.format(port=server.port)}, timeout=30
    )
    assert answer.status_code == 200, answer.text


def test_request_without_a_host_header_is_refused(server: ServerProcess) -> None:
    # HTTP/1.0 allows leaving Host out; a loopback server cannot tell who it is for then.
    answer = raw_exchange(server.port, "GET /api/v1/health HTTP/1.0\n")
    assert answer is not None
    assert answer[0] == 421


# Media types: what a web page can send without a CORS preflight is refused


def test_points_sent_as_text_plain_are_refused_and_not_stored(
    server: ServerProcess, run_path: str
) -> None:
    batch = {"name": "injected", "kind": "scalar", "values": [1.0], "times": [1.0]}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.post(
            f"{run_path}/points",
            content=json.dumps({"batches": [batch]}),
            headers={"content-type": "text/plain"},
        )
        metrics = client.get(f"{run_path}/metrics").json()
    assert answer.status_code == 415, answer.text
    assert error_type(answer) == "UnsupportedMediaTypeError"
    assert MEDIA_TYPE in answer.json()["error"]["message"]
    assert metrics == []


@pytest.mark.parametrize(
    ("method", "suffix", "content_type"),
    [
        ("PUT", "/tags", "text/plain"),
        ("PUT", "/tags", "application/x-www-form-urlencoded"),
        ("PUT", "/tags", "multipart/form-data; boundary=x"),
        ("PUT", "/tags", None),
        ("POST", "/status", "text/plain;charset=UTF-8"),
    ],
)
def test_json_routes_refuse_other_media_types(
    server: ServerProcess, run_path: str, method: str, suffix: str, content_type: str | None
) -> None:
    body = json.dumps({"tags": {"pwned": "yes"}} if suffix == "/tags" else {"status": "Failed"})
    headers = {} if content_type is None else {"content-type": content_type}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.request(method, f"{run_path}{suffix}", content=body, headers=headers)
        doc = client.get(run_path).json()
    assert answer.status_code == 415, answer.text
    assert "'application/json'" in answer.json()["error"]["message"]
    assert "pwned" not in doc["tags"]
    assert doc["status"] == "Running"


def test_points_frame_and_json_with_charset_are_read(server: ServerProcess, run_path: str) -> None:
    batch = {"name": "acc", "kind": "scalar", "values": [0.5], "times": [1.0]}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        frame = client.post(
            f"{run_path}/points",
            content=points_frame([0], [0.9]),
            headers={"content-type": MEDIA_TYPE},
        )
        as_json = client.post(
            f"{run_path}/points",
            content=json.dumps({"batches": [batch]}),
            headers={"content-type": "application/json; charset=utf-8"},
        )
        frame_as_bytes = client.post(
            f"{run_path}/points",
            content=points_frame([1], [0.8]),
            headers={"content-type": "application/octet-stream"},
        )
    assert frame.status_code == 200, frame.text
    assert as_json.status_code == 200, as_json.text
    assert frame_as_bytes.status_code == 415


# Header and body caps


def test_headers_past_the_cap_are_refused_with_431(server: ServerProcess) -> None:
    answer = httpx.get(
        f"{server.url}/api/v1/health", headers={"x-padding": "a" * (HEADER_CAP + 1)}, timeout=30
    )
    assert answer.status_code == 431, answer.text
    assert error_type(answer) == "HeadersTooLargeError"


def test_json_body_declared_past_the_cap_is_refused_before_it_is_sent(
    server: ServerProcess, run_path: str
) -> None:
    workspace_path = run_path.rsplit("/runs/", 1)[0]
    head = (
        f"POST {workspace_path}/runs/search HTTP/1.1\nHost: 127.0.0.1:{server.port}\n"
        f"Content-Type: application/json\nContent-Length: {400 * 1024 * 1024}\n"
    )
    answer = raw_exchange(server.port, head, b'{"filter": ')
    assert answer is not None, "no answer: the server waits for a body it must refuse"
    status, body = answer
    assert status == 413, body
    assert body["error"]["type"] == "PayloadTooLargeError"
    assert "--max-body-bytes" in body["error"]["message"]


def test_streamed_json_body_past_the_cap_is_refused(server: ServerProcess, run_path: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"tags": {"padding": "'
        for _ in range(64):
            yield b"a" * 4096
        yield b'"}}'

    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.put(
            f"{run_path}/tags", content=chunks(), headers={"content-type": "application/json"}
        )
        doc = client.get(run_path).json()
    assert answer.status_code == 413, answer.text
    assert error_type(answer) == "PayloadTooLargeError"
    assert f"past {BODY_CAP} bytes" in answer.json()["error"]["message"]
    assert "padding" not in doc["tags"]


def test_file_uploads_are_not_held_to_the_json_cap(server: ServerProcess, run_path: str) -> None:
    content = b"w" * (BODY_CAP * 4)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        stored = client.put(f"{run_path}/files/outputs/model.bin", content=content)
        back = client.get(f"{run_path}/files/outputs/model.bin")
    assert stored.status_code == 200, stored.text
    assert back.content == content


# Authentication comes before the body


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    """A server whose store has a token of workspace 'team-a' (so it requires tokens)."""
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    token = create_token(store, "team-a", "owner")
    process = ServerProcess(store, tmp_path / "artifacts")
    try:
        yield process.start(), token
    finally:
        process.stop()


def test_anonymous_huge_body_is_refused_before_it_is_read(
    locked: tuple[ServerProcess, str],
) -> None:
    server, _token = locked
    head = (
        f"POST /api/v1/workspaces/team-a/runs/search HTTP/1.1\nHost: 127.0.0.1:{server.port}\n"
        f"Content-Type: application/json\nContent-Length: {400 * 1024 * 1024}\n"
    )
    started = time.monotonic()
    answer = raw_exchange(server.port, head, b'{"filter": {"tags": {"a": "')
    assert answer is not None, "no answer: the server reads the body before authenticating"
    status, body = answer
    assert status == 401, body
    assert body["error"]["type"] == "AuthenticationError"
    assert time.monotonic() - started < PROMPT


def test_anonymous_streamed_body_gets_401_not_buffered(locked: tuple[ServerProcess, str]) -> None:
    server, token = locked
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"filter": {"tags": {"a": "'
        for _ in range(2048):  # 32 MB if the server kept reading
            sent += 16384
            yield b"a" * 16384

    with httpx.Client(base_url=server.url, timeout=30) as client:
        try:
            answer = client.post(
                "/api/v1/workspaces/team-a/runs/search",
                content=chunks(),
                headers={"content-type": "application/json"},
            )
            status = answer.status_code
        except httpx.HTTPError:  # the server answered and closed while we were sending
            status = 401
        owner = client.post(
            "/api/v1/workspaces/team-a/runs/search",
            json={},
            headers={"authorization": f"Bearer {token}"},
        )
    assert status == 401
    assert owner.status_code == 200, owner.text


def test_token_of_another_workspace_is_refused_before_the_body(
    locked: tuple[ServerProcess, str],
) -> None:
    server, token = locked
    head = (
        f"PUT /api/v1/workspaces/team-b/runs/r/files/big.bin HTTP/1.1\n"
        f"Host: 127.0.0.1:{server.port}\nAuthorization: Bearer {token}\n"
        f"Content-Length: {1024**3}\n"
    )
    answer = raw_exchange(server.port, head, b"x" * 1024)
    assert answer is not None, "no answer: the server reads the upload before authorizing"
    assert answer[0] == 403


def test_sdk_requests_pass_the_gate(locked: tuple[ServerProcess, str], tmp_path: Path) -> None:
    """What the SDK sends (JSON, points frames, files) has the content types the gate wants."""
    from runyard import Experiment, Run, Workspace
    from runyard.sdk.workspace import close_all

    server, token = locked
    notes = tmp_path / "notes.txt"
    notes.write_text("notes")
    ws = Workspace("team-a", server_url=server.url, token=token)
    try:
        with Experiment(ws, "gate").start_logging() as run:
            run.log("loss", 0.5)
            run.log_list("accuracies", [0.1, 0.2])
            run.tag("stage", "train")
            run.add_properties({"seed": "1"})
            run.upload_file("notes.txt", str(notes))
        poll_until(lambda: Run(Experiment(ws, "gate"), run.id).get_status() == "Completed", 20)
        again = Run(Experiment(ws, "gate"), run.id)
        assert again.get_metrics()["loss"] == 0.5
        assert again.get_tags()["stage"] == "train"
        assert again.get_file_names() == ["notes.txt"]
    finally:
        close_all()

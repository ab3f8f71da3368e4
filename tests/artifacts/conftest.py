"""A real S3 for the artifact tests: moto's server in a subprocess, started once per session."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import s3fs

STARTUP_DEADLINE_S = 30.0
CREDENTIALS = {"key": "testing", "secret": "testing"}


@dataclass(frozen=True)
class MotoS3:
    """Where the moto server answers, and how to reach it."""

    endpoint_url: str

    @property
    def storage_options(self) -> dict[str, Any]:
        return {"client_kwargs": {"endpoint_url": self.endpoint_url}, **CREDENTIALS}

    def create_bucket(self) -> str:
        """A new, empty bucket, so that each test sees only its own objects."""
        name = f"test-{uuid.uuid4().hex[:16]}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=CREDENTIALS["key"],
            aws_secret_access_key=CREDENTIALS["secret"],
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=name)
        return name


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    # No proxies: a proxy from the environment must not swallow requests to localhost.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer, even an error status, means the server is up
    except OSError:
        return False


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    """Start `moto_server` on a free port, wait until it answers, stop it at the end."""
    executable = Path(sys.executable).with_name("moto_server")
    command = str(executable) if executable.exists() else shutil.which("moto_server")
    if command is None:
        pytest.fail("moto_server not found: install the dev extras (pip install -e '.[dev]')")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [command, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"moto_server did not answer at {url} within {STARTUP_DEADLINE_S} s "
                    f"(exit code {process.poll()}):\n{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.05)
        yield MotoS3(endpoint_url=url)
    finally:
        # Cached S3FileSystem instances hold clients for this endpoint; it is going away.
        s3fs.S3FileSystem.clear_instance_cache()
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

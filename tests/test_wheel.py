"""The wheel carries the built studio: built, installed in a clean venv, served at `/`."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import venv
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_wheel_installed_in_a_clean_venv_serves_the_studio(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("runyard-*.whl"))

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]

    port = free_port()
    clean_env = {"PATH": str(env_dir / "bin") + ":/usr/bin:/bin", "HOME": str(tmp_path)}
    server = subprocess.Popen(
        [
            str(env_dir / "bin" / "runyard"),
            "server",
            "--port",
            str(port),
            "--store",
            f"sqlite:///{tmp_path / 'runyard.db'}",
            "--artifacts",
            str(tmp_path / "artifacts"),
        ],
        cwd=tmp_path,  # not the checkout: the installed package must serve its own copy
        env=clean_env,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        page = None
        for _ in range(600):  # up to a minute
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                page = httpx.get(url + "/", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert page is not None and page.status_code == 200
        assert "<title>runyard studio</title>" in page.text, page.text[:500]
        script = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
        assert script is not None
        asset = httpx.get(url + script.group(1), headers={"accept-encoding": "gzip"})
        assert asset.status_code == 200 and asset.headers["content-encoding"] == "gzip"
        assert "immutable" in asset.headers["cache-control"]
        assert httpx.get(url + "/api/v1/session").json()["auth_required"] is False
    finally:
        server.terminate()
        server.wait(10)

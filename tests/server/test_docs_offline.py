"""/docs works air-gapped: Swagger UI's files come from the server itself, nothing from a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from runyard.server.app import create_app
from runyard.server.config import ServerConfig


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config = ServerConfig(f"sqlite:///{tmp_path / 'runyard.db'}", str(tmp_path / "artifacts"))
    with TestClient(create_app(config), base_url="http://localhost") as http:
        yield http


def test_docs_page_loads_only_files_this_server_serves(client: TestClient) -> None:
    page = client.get("/docs")

    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url:\s*'([^']+)'""", page.text)
    linked = [a or b for a, b in urls]
    assert linked, page.text
    for url in linked:
        assert url.startswith("/"), f"/docs loads {url} from another host"
        assert not url.startswith("//"), url
        fetched = client.get(url)
        assert fetched.status_code == 200, url
        assert fetched.content
    assert "cdn" not in page.text.lower()


def test_redoc_is_off_and_the_schema_is_served(client: TestClient) -> None:
    # /redoc is no route of its own: at most the studio's page falls back there (when built).
    redoc = client.get("/redoc")
    assert redoc.status_code in (200, 404)
    assert "redoc" not in redoc.text.lower() and "cdn" not in redoc.text.lower()
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "runyard"

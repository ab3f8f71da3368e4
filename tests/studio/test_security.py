"""Signing in with a token, what a reader sees, and user strings that never run as script."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from runyard.store.database import Database
from runyard.store.tokens import TokenStore
from tests.conftest import ServerProcess
from tests.studio.conftest import StudioServer, screenshot
from tests.studio.seed import INJECT_EXPERIMENT, INJECTIONS, seed_injections
from tests.studio.test_browse import open_run


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A server that requires tokens: (its URL, a token per role) and one run in it."""
    folder = tmp_path_factory.mktemp("studio-secured")
    store = f"sqlite:///{folder / 'runyard.db'}"
    db = Database.open(store)
    tokens = {r: TokenStore(db).create("default", r) for r in ("reader", "contributor")}
    db.close()
    server = ServerProcess(store, folder / "artifacts").start(timeout=120)
    try:
        auth = {"Authorization": f"Bearer {tokens['contributor']}"}
        new = {"run_id": "guarded-run", "experiment_name": "guarded", "status": "Running"}
        import httpx

        answer = httpx.post(
            f"{server.url}/api/v1/workspaces/default/runs", json={"runs": [new]}, headers=auth
        )
        assert answer.status_code == 200, answer.text
        yield server.url, tokens
    finally:
        server.stop()


def test_sign_in_with_a_token(secured: tuple[str, dict[str, str]], page: Any) -> None:
    url, tokens = secured
    page.goto(url)
    form = page.get_by_test_id("signin-form")
    expect(form).to_be_visible()
    screenshot(page, "sign-in")
    form.get_by_label("API token").fill("ryt_wrong")
    form.get_by_role("button", name="Sign in").click()
    expect(form.get_by_role("alert")).to_be_visible()
    form.get_by_label("API token").fill(tokens["contributor"])
    form.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("experiment-row").filter(has_text="guarded")).to_have_count(1)
    expect(page.get_by_test_id("session-role")).to_contain_text("contributor")
    cookies = page.evaluate("document.cookie")
    assert tokens["contributor"] not in cookies  # HttpOnly: page scripts never see it
    assert "runyard_csrf=" in cookies
    open_run(page, url_studio(url), "guarded-run")
    expect(page.get_by_test_id("cancel-run")).to_be_visible()
    assert page.watched.errors == []


def test_a_reader_sees_no_cancel_or_edit_controls(
    secured: tuple[str, dict[str, str]], page: Any
) -> None:
    url, tokens = secured
    page.goto(url)
    form = page.get_by_test_id("signin-form")
    form.get_by_label("API token").fill(tokens["reader"])
    form.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("session-role")).to_contain_text("reader")
    open_run(page, url_studio(url), "guarded-run")
    expect(page.get_by_test_id("tags")).to_be_visible()
    expect(page.get_by_test_id("cancel-run")).to_have_count(0)
    expect(page.get_by_role("button", name="Add tag")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit description")).to_have_count(0)
    screenshot(page, "run-as-reader")


class _At:
    def __init__(self, url: str) -> None:
        self.url = url


def url_studio(url: str) -> Any:
    """Something `open_run` can take: only its `url` is used."""
    return _At(url)


def _assert_nothing_ran(page: Any) -> None:
    assert page.evaluate("window.__pwned") is None, "planted script ran"
    assert page.watched.dialogs == [], page.watched.dialogs
    planted = page.evaluate(
        """() => [
            ...document.querySelectorAll('[onerror], [onload], [onclick]'),
            ...document.querySelectorAll('script:not([src])'),
            ...[...document.querySelectorAll('a[href]')].filter(
                a => a.href.trim().toLowerCase().startsWith('javascript:')),
        ].map(e => e.outerHTML)"""
    )
    assert planted == []


def test_planted_markup_and_script_links_never_run(
    studio_server: StudioServer, page: Any, tmp_path: Path
) -> None:
    run_id = seed_injections(studio_server.url)
    page.goto(studio_server.url)
    expect(page.get_by_test_id("experiment-row").filter(has_text=INJECT_EXPERIMENT)).to_be_visible()
    page.goto(f"{studio_server.url}/?experiment={INJECT_EXPERIMENT}")
    row = page.get_by_test_id("run-row").first
    expect(row).to_contain_text(INJECTIONS[0])  # shown as text
    row.get_by_role("button", name=re.compile("Expand child runs")).click()
    rows = page.get_by_test_id("run-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text(INJECTIONS[1])  # the child's name, as text
    screenshot(page, "injection-runs-table")
    _assert_nothing_ran(page)

    for tab in ("overview", "metrics", "images", "children", "outputs"):
        page.goto(f"{studio_server.url}/?run={quote(run_id)}&tab={tab}")
        expect(page.get_by_test_id("run-page")).to_have_attribute("data-run-id", run_id)
        page.wait_for_load_state("networkidle")
        if tab == "overview":
            expect(page.get_by_test_id("run-error")).to_contain_text(INJECTIONS[1])
            expect(page.get_by_test_id("tags")).to_contain_text(INJECTIONS[0])
            expect(page.get_by_test_id("properties")).to_contain_text(INJECTIONS[1])
            description = page.get_by_test_id("run-description")
            expect(description).to_contain_text("click me")
            links = description.get_by_role("link")
            for i in range(links.count()):
                href = links.nth(i).get_attribute("href") or ""
                assert not href.strip().lower().startswith("javascript:"), href
                links.nth(i).click(modifiers=["Alt"], no_wait_after=True)
            screenshot(page, "injection-overview")
        if tab == "outputs":
            tree = page.get_by_test_id("file-tree")
            tree.get_by_role("button", name="<img src=x onerror=alert(1)>.txt").click()
            expect(page.get_by_test_id("file-preview")).to_contain_text("named badly")
            tree.get_by_role("button", name="file0.txt").click()
            expect(page.get_by_test_id("file-preview")).to_contain_text(INJECTIONS[0])
            expect(page.get_by_test_id("log-view").first).to_contain_text(INJECTIONS[1])
            screenshot(page, "injection-outputs")
        if tab == "metrics":
            expect(page.get_by_test_id("metrics")).to_contain_text(INJECTIONS[2])
        _assert_nothing_ran(page)
    assert page.watched.errors == []

"""Browser fixtures: a real `runyard server` on loopback seeded through the SDK, and Debian's
chromium driven by Playwright (never a downloaded browser).

Skipped, with the reason printed, where chromium or the built studio is missing; `.ci/run`
installs both, so CI runs these.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from runyard.sdk.workspace import close_all
from runyard.server.studio import STUDIO_DIST
from tests.conftest import ServerProcess
from tests.studio.seed import Seeded, seed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Screenshots of the main pages land here (look at them after a run).
OUTPUT = Path(os.environ.get("RUNYARD_TEST_OUTPUT", Path(__file__).parents[2] / "test-output"))
SCREENSHOTS = OUTPUT / "studio"


def _missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"CHROMIUM NOT INSTALLED at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    if not (STUDIO_DIST / "index.html").is_file():
        return f"STUDIO NOT BUILT ({STUDIO_DIST}/index.html missing): run `make ui`"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "PLAYWRIGHT NOT INSTALLED (pip install -e '.[dev]')"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip every browser test, saying why, when chromium or the build is missing."""
    reason = _missing()
    for item in items:
        if "tests/studio/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.studio)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class StudioServer:
    """The server the browser talks to, and what was logged into it."""

    server: ServerProcess
    folder: Path
    seeded: Seeded

    @property
    def url(self) -> str:
        """The studio's address."""
        return self.server.url


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    """One server (SQLite) for the browser tests, seeded through the SDK."""
    folder = tmp_path_factory.mktemp("studio")
    server = ServerProcess(f"sqlite:///{folder / 'runyard.db'}", folder / "artifacts").start(
        timeout=120
    )
    spool = os.environ.get("RUNYARD_SPOOL_DIR")
    os.environ["RUNYARD_SPOOL_DIR"] = str(folder / "spool")  # the SDK's spool, not ~/.runyard
    try:
        yield StudioServer(server, folder, seed(server.url, folder))
    finally:
        close_all()
        server.stop()
        if spool is None:
            os.environ.pop("RUNYARD_SPOOL_DIR", None)
        else:
            os.environ["RUNYARD_SPOOL_DIR"] = spool


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """What a page did that a user would not see: dialogs, script errors, CSP reports."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page; dialogs are recorded and dismissed."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    watched = Watched()
    tab.watched = watched

    def on_dialog(dialog: Any) -> None:
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.on("pageerror", lambda error: watched.errors.append(str(error)))
    tab.on(
        "console",
        lambda msg: watched.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    yield tab
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-output/studio/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fresh_folder(base: Path, name: str) -> Path:
    """An empty folder under `base`."""
    folder = base / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder

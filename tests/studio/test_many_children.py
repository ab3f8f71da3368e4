"""A run with more children than one page (1,200): its Child runs tab and the expanded tree
in the experiment's table both page the children in as they scroll into view."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from runyard import Experiment, Workspace
from tests.studio.conftest import StudioServer, screenshot
from tests.studio.test_browse import open_run

EXPERIMENT = "studio-many-children"
CHILDREN = 1200
ROW_HEIGHT = 38


@pytest.fixture(scope="module")
def parent_id(studio_server: StudioServer) -> Iterator[str]:
    """A run with 1,200 children, each tagged with its index (0000 is created first)."""
    exp = Experiment(Workspace(server_url=studio_server.url), EXPERIMENT)
    parent = exp.start_logging(display_name="many children")
    for first in range(0, CHILDREN, 100):
        values = [f"{i:04d}" for i in range(first, first + 100)]
        parent.create_children(tag_key="index", tag_values=values)
    parent.complete()
    yield parent.id


def _scroll_table(page: Any, top: int) -> None:
    page.get_by_test_id("runs-table").evaluate("(el, top) => { el.scrollTop = top; }", top)


def test_child_runs_tab_pages_past_a_thousand_children(
    studio_server: StudioServer, parent_id: str, page: Any
) -> None:
    open_run(page, studio_server, parent_id, "children")
    table = page.get_by_test_id("runs-table")
    rows = table.get_by_test_id("run-row")
    expect(page.get_by_text(f"{CHILDREN:,} child runs")).to_be_visible()
    expect(rows.first.get_by_text("index: 1199")).to_be_visible()  # newest first
    _scroll_table(page, CHILDREN * ROW_HEIGHT)  # the bottom: rows 1100.. come in a later page
    expect(table.get_by_text("index: 0000", exact=True)).to_be_visible()
    expect(table.get_by_text("index: 0001", exact=True)).to_be_visible()
    assert rows.count() < 100, "every child was rendered: the table is not virtualized"
    screenshot(page, "run-many-children")
    assert page.watched.errors == []


def test_expanded_tree_pages_past_a_thousand_children(
    studio_server: StudioServer, parent_id: str, page: Any
) -> None:
    page.goto(f"{studio_server.url}/?experiment={EXPERIMENT}")
    table = page.get_by_test_id("runs-table")
    row = table.get_by_test_id("run-row").filter(has_text="many children")
    expect(row).to_have_count(1)
    row.get_by_role("button", name=re.compile("Expand child runs")).click()
    expect(table.get_by_text("index: 1199", exact=True)).to_be_visible()
    # The oldest child is the 1,200th below its parent, past the first 1,000.
    _scroll_table(page, (CHILDREN - 5) * ROW_HEIGHT)
    last = table.get_by_test_id("run-row").filter(has_text="index: 0000")
    expect(last).to_be_visible()
    expect(last).to_have_attribute("aria-level", "2")
    _scroll_table(page, 600 * ROW_HEIGHT)
    expect(table.get_by_text("index: 0600", exact=True)).to_be_visible()
    screenshot(page, "runs-many-children-expanded")
    assert page.watched.errors == []

"""A user looks around the studio: experiments, the runs table, a run's tabs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from playwright.sync_api import expect

from tests.studio.conftest import StudioServer, screenshot
from tests.studio.seed import EXPERIMENT

KINDS = {
    "Sigmoid": "scalar",
    "message": "text",  # a scalar metric of strings is shown as text
    "with non-finite": "scalar",
    "Fibonacci": "list",
    "Cosine Wave": "table",
    "Sine Wave": "table",
    "gradient": "image",
    "confusion": "confusion_matrix",
    "accuracy": "accuracy_table",
    "residuals": "residuals",
    "predictions": "predictions",
}


def open_runs(page: Any, studio: StudioServer, query: str = "") -> Any:
    """Open the experiment's runs table; returns its rows locator."""
    page.goto(f"{studio.url}/?experiment={EXPERIMENT}{query}")
    rows = page.get_by_test_id("runs-table").get_by_test_id("run-row")
    expect(rows.first).to_be_visible()
    return rows


def open_run(page: Any, studio: StudioServer, run_id: str, tab: str = "overview") -> None:
    """Open a run's page on a tab."""
    page.goto(f"{studio.url}/?run={quote(run_id)}&tab={tab}")
    expect(page.get_by_test_id("run-page")).to_have_attribute("data-run-id", run_id)


def test_open_experiments_list(studio_server: StudioServer, page: Any) -> None:
    page.goto(studio_server.url)
    row = page.get_by_test_id("experiment-row").filter(has_text=EXPERIMENT)
    expect(row).to_have_count(1)
    screenshot(page, "experiments")
    row.get_by_role("link", name=EXPERIMENT).click()
    expect(page.get_by_test_id("runs-table")).to_be_visible()
    assert f"experiment={EXPERIMENT}" in page.url
    assert page.watched.errors == []


def test_filter_and_sort_runs(studio_server: StudioServer, page: Any) -> None:
    seeded = studio_server.seeded
    rows = open_runs(page, studio_server)
    expect(rows.filter(has_text="every metric kind")).to_have_count(1)
    screenshot(page, "runs-table")

    filters = page.get_by_test_id("run-filters")
    filters.get_by_placeholder("Search name, id, description").fill("sweep")
    expect(rows).to_have_count(3)
    assert "q=sweep" in page.url

    # a metric column, sorted by it: the lowest loss last
    filters.get_by_text("Columns", exact=True).click()
    filters.get_by_label("Metric column").select_option("loss")
    filters.get_by_role("button", name="Add column").click()
    header = page.get_by_role("columnheader", name=re.compile("loss"))
    expect(header).to_be_visible()
    header.get_by_role("button").click()
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", re.compile("ascending|descending"))
    order = [rows.nth(i).get_attribute("data-run-id") for i in range(3)]
    ascending = header.get_attribute("aria-sort") == "ascending"
    by_loss = seeded.sweep if ascending else seeded.sweep[::-1]  # the first logged the least
    assert order == by_loss, (order, header.get_attribute("aria-sort"))
    screenshot(page, "runs-sorted-by-metric")

    page.reload()  # the whole view is in the URL
    expect(rows).to_have_count(3)
    assert [rows.nth(i).get_attribute("data-run-id") for i in range(3)] == order

    filters.get_by_placeholder("Search name, id, description").fill("")
    page.wait_for_url(lambda url: "q=" not in url)
    expect(rows).to_have_count(5)
    filters.get_by_text("Status", exact=False).first.click()
    filters.get_by_label("Failed").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-run-id", seeded.failed)
    expect(rows.first.get_by_test_id("status-badge")).to_have_attribute("data-status", "Failed")
    assert page.watched.errors == []


def test_show_and_sort_by_a_tag_column(studio_server: StudioServer, page: Any) -> None:
    seeded = studio_server.seeded
    rows = open_runs(page, studio_server, "&q=sweep")
    expect(rows).to_have_count(3)
    filters = page.get_by_test_id("run-filters")
    filters.get_by_text("Columns", exact=True).click()
    picker = filters.get_by_test_id("column-picker")
    picker.get_by_label("Tag column", exact=True).select_option("lr")
    picker.get_by_role("button", name="Add tag column").click()
    header = page.get_by_role("columnheader", name="tag lr")
    expect(header).to_be_visible()
    assert "kcol=tag%3Alr" in page.url
    header.get_by_role("button").click()  # first click: descending
    expect(header).to_have_attribute("aria-sort", "descending")
    # lr tags "0.3", "0.1", "0.03" (the sweep's order) sort as text, highest first
    expect(rows.first).to_have_attribute("data-run-id", seeded.sweep[0])
    order = [rows.nth(i).get_attribute("data-run-id") for i in range(3)]
    assert order == seeded.sweep, order
    expect(rows.first.get_by_role("cell").nth(2)).to_have_text("0.3")
    screenshot(page, "runs-tag-column")
    page.reload()  # the column and its sort are in the URL
    expect(header).to_have_attribute("aria-sort", "descending")
    assert [rows.nth(i).get_attribute("data-run-id") for i in range(3)] == order
    assert page.watched.errors == []


def test_open_a_run_with_its_children(studio_server: StudioServer, page: Any) -> None:
    rows = open_runs(page, studio_server)
    row = rows.filter(has_text="every metric kind")
    row.get_by_role("button", name=re.compile("Expand child runs")).click()
    expect(rows.filter(has_text="child 2")).to_have_count(1)
    row.get_by_role("link", name="every metric kind").click()
    run_page = page.get_by_test_id("run-page")
    expect(run_page).to_have_attribute("data-run-id", studio_server.seeded.every_kind)
    expect(page.get_by_test_id("tags")).to_contain_text("great run")
    expect(page.get_by_test_id("properties")).to_contain_text("studio-test")
    expect(page.get_by_test_id("run-description").locator("strong")).to_have_text("every")
    screenshot(page, "run-overview")
    page.get_by_role("tab", name="Child runs").click()
    expect(page.get_by_test_id("run-row")).to_have_count(3)
    page.go_back()
    expect(page.get_by_role("tab", name="Overview")).to_have_attribute("aria-selected", "true")
    assert page.watched.errors == []


def test_see_a_chart_of_every_metric_kind(studio_server: StudioServer, page: Any) -> None:
    open_run(page, studio_server, studio_server.seeded.every_kind, "metrics")
    charts = page.get_by_test_id("metrics").get_by_test_id("metric-chart")
    for name, kind in KINDS.items():
        if kind == "image":
            continue  # the Images tab shows those
        chart = charts.and_(page.locator(f'[data-metric="{name}"]'))
        expect(chart).to_have_count(1)
        expect(chart).to_have_attribute("data-kind", kind)
        if name != "message":
            drawn = chart.locator("canvas, svg, table").first
            expect(drawn).to_be_visible()
    message = charts.and_(page.locator('[data-metric="message"]'))
    expect(message).to_contain_text("Hello from run!")
    non_finite = page.get_by_test_id("non-finite")
    expect(non_finite.first).to_contain_text("NaN")
    expect(non_finite.first).to_contain_text("+Inf")
    expect(non_finite.first).to_contain_text("-Inf")
    screenshot(page, "run-metrics")
    assert page.watched.errors == []


def test_view_an_image(studio_server: StudioServer, page: Any) -> None:
    open_run(page, studio_server, studio_server.seeded.every_kind, "images")
    gallery = page.get_by_test_id("image-gallery")
    image = gallery.locator("img").first
    expect(image).to_be_visible()
    # Visible is laid out, not yet loaded: decode() waits for the bytes (and fails if broken).
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") == 24
    gallery.get_by_role("button", name=re.compile("Enlarge gradient")).click()
    enlarged = page.get_by_test_id("enlarged-image")
    expect(enlarged).to_be_visible()
    screenshot(page, "run-images")
    page.keyboard.press("Escape")
    expect(enlarged).to_have_count(0)
    assert page.watched.errors == []


def test_browse_outputs_and_preview_a_file(studio_server: StudioServer, page: Any) -> None:
    open_run(page, studio_server, studio_server.seeded.every_kind, "outputs")
    tree = page.get_by_test_id("file-tree")
    tree.get_by_role("button", name="notes.txt").click()
    expect(page.get_by_test_id("file-preview")).to_contain_text("second line")
    tree.get_by_role("button", name="gradient.png").click()
    expect(page.get_by_test_id("file-preview").locator("img")).to_be_visible()
    screenshot(page, "run-outputs")
    assert page.watched.errors == []


def test_edit_a_tag(studio_server: StudioServer, page: Any) -> None:
    run_id = studio_server.seeded.sweep[0]
    open_run(page, studio_server, run_id)
    tags = page.get_by_test_id("tags")
    tags.get_by_role("button", name="Edit tag lr").click()
    tags.get_by_label("Tag value").fill("0.25")
    tags.get_by_role("button", name="Save tag").click()
    expect(tags.get_by_test_id("tag").filter(has_text="lr")).to_contain_text("0.25")
    tags.get_by_label("Tag key").fill("reviewed")
    tags.get_by_label("Tag value").fill("yes")
    tags.get_by_role("button", name="Add tag").click()
    expect(tags.get_by_test_id("tag").filter(has_text="reviewed")).to_contain_text("yes")
    tags.get_by_role("button", name="Remove tag reviewed").click()
    expect(tags.get_by_test_id("tag").filter(has_text="reviewed")).to_have_count(0)
    page.reload()
    expect(tags.get_by_test_id("tag").filter(has_text="lr")).to_contain_text("0.25")
    assert page.watched.errors == []

"""The Dagster UI in a real headless Chromium: what a user sees on the lineage graph, the
schedules list and an asset's page. Screenshots land in a temp dir (and in docs/screenshots
with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import time

from opinion_pipeline.definitions import defs
from opinion_pipeline_tests.ui.browser import Browser, Screenshots, require_browser
from opinion_pipeline_tests.ui.ui_fixtures import DagsterDeployment

require_browser()  # before importing selenium: skip with how to install, or fail under CI=true

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

GRAPH_ASSETS = ("markets", "whale_registry", "whale_trades", "whale_activity", "whale_stats",
                "trades_archive", "pipeline_health", "whale_status", "sync_statistics",
                "whale_positions", "position_changes", "market_flows")  # fmt: skip
SETTLE_S = 1.5  # let the graph's zoom animation finish before the picture


def graph_labels(browser: Browser) -> set[str]:
    """Asset names drawn as nodes in the lineage graph (not in the sidebar tree)."""
    nodes = browser.driver.find_elements(By.CSS_SELECTOR, "svg foreignObject")
    drawn = {line.strip() for node in nodes for line in node.text.splitlines()}
    return {name for name in GRAPH_ASSETS if name in drawn}


def switched_on(browser: Browser, name: str) -> bool:
    """Whether the row of this schedule or sensor shows its running toggle on."""
    rows = browser.driver.find_elements(
        By.XPATH, f"//*[contains(@class, 'listItem')][.//*[normalize-space(text())='{name}']]"
    )
    return any(
        box.is_selected()
        for row in rows
        for box in row.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
    )


def test_asset_lineage_graph(
    ui_with_data: DagsterDeployment, browser: Browser, screenshots: Screenshots
) -> None:
    browser.open(f"{ui_with_data.url}/asset-groups")
    browser.wait_text("Global asset lineage", "ingest", "analytics", "maintenance")
    browser.dismiss_welcome()
    time.sleep(SETTLE_S)
    if graph_labels(browser) != set(GRAPH_ASSETS):  # a first visit shows groups collapsed
        browser.press(Keys.ALT, "e")  # "Expand all groups" (the graph menu's shortcut)

    def every_node_drawn() -> set[str] | None:
        """The graph draws only the nodes in view: zoom out until every one is."""
        found = graph_labels(browser)
        if found == set(GRAPH_ASSETS):
            return found
        browser.icon_button("zoom_out").click()
        time.sleep(SETTLE_S)
        return None

    labels = browser.wait(every_node_drawn, "every asset node in the graph")
    assert labels == set(GRAPH_ASSETS)
    screenshots.save(browser, "asset-graph.png")


def test_schedules_page(
    ui_with_data: DagsterDeployment, browser: Browser, screenshots: Screenshots
) -> None:
    names = [schedule.name for schedule in defs.schedules or []]
    browser.open(f"{ui_with_data.url}/automation")
    browser.dismiss_welcome()
    text = browser.wait_text("Automation", *names, "Every minute", "Every 5 minutes")
    assert "first_run_sensor" in text
    browser.wait(
        lambda: all(switched_on(browser, name) for name in names), "every schedule switched on"
    )
    screenshots.save(browser, "schedules.png")


def test_asset_page_explains_the_asset(
    ui_with_data: DagsterDeployment, browser: Browser, screenshots: Screenshots
) -> None:
    browser.open(f"{ui_with_data.url}/assets/whale_stats")
    browser.dismiss_welcome()
    text = browser.wait_text(
        "whale_stats", "Per whale: total", "Columns", "total_volume_usd", "DECIMAL(38,18)",
        "analytics", "data-platform", "Latest materialization",
    )  # fmt: skip
    assert "primary key (wallet)" in text
    time.sleep(SETTLE_S)  # the history bar and badges fill in a moment after the text
    screenshots.save(browser, "asset-whale-stats.png")


def test_whale_stats_markdown_preview(
    ui_with_data: DagsterDeployment, browser: Browser, screenshots: Screenshots
) -> None:
    """The top-whales table of the latest materialization renders as a table, not as text."""
    labels = {wallet["label"] for wallet in ui_with_data.simulator.wallets()}
    browser.open(f"{ui_with_data.url}/assets/whale_stats?view=events")
    browser.dismiss_welcome()
    browser.wait_text("top_whales", "[Show Markdown]")
    preview = browser.driver.find_element(
        By.XPATH, "//tr[.//*[text()='top_whales']]//a[text()='[Show Markdown]']"
    )
    preview.click()
    table = browser.wait(
        lambda: browser.driver.find_element(By.CSS_SELECTOR, "[role=dialog] table"),
        "the markdown table in a dialog",
    )
    headers = [cell.text for cell in table.find_elements(By.TAG_NAME, "th")]
    assert headers[:3] == ["whale", "wallet", "volume USD"], headers
    shown = {row.find_elements(By.TAG_NAME, "td")[0].text
             for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")}  # fmt: skip
    assert shown and shown <= labels, (shown, labels)
    time.sleep(0.5)
    screenshots.save(browser, "asset-whale-stats-top-whales.png")

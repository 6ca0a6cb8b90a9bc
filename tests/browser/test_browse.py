"""Browsing the library in Chromium: the home page, an indicator, a system."""
from tests.browser.conftest import screenshot


def test_indicator_page_and_add_to_table(page, live_server):
    page.goto(f"{live_server}/indicators/YY3-006")
    assert "出院患者四级手术比例" in page.inner_text("h1")
    page.click("[data-add-to-table]")
    assert "已加入" in page.inner_text("[data-add-to-table]")
    stored = page.evaluate("JSON.parse(localStorage.getItem('zhibiao.draft'))")
    assert stored["indicators"][0]["code"] == "YY3-006"
    screenshot(page, "indicator")


def test_public_hospital_system_tree_collapses_and_expands(page, live_server):
    page.goto(f"{live_server}/systems/SYS-YYZT")
    assert "公立医院整体支出绩效评价指标体系" in page.inner_text("h1")
    page.click("[data-collapse-all]")
    assert page.locator("details[open]").count() == 0
    page.click("[data-expand-all]")
    assert page.locator("details[open]").count() == page.locator("details").count() > 3
    screenshot(page, "system")


def test_version_switcher_keeps_the_page(page, live_server):
    page.goto(f"{live_server}/indicators/GX-XM-007")
    assert page.locator("select[name=version] option").count() >= 1
    assert "资金到位率" in page.inner_text("h1")


def test_api_docs_page_renders_from_local_assets(page, live_server):
    page.goto(f"{live_server}/api/docs")
    page.locator(".opblock-summary-path", has_text="/api/v1/indicators").first.wait_for(timeout=15000)
    assert page.locator(".opblock").count() > 20
    screenshot(page, "api-docs")


def test_home_leads_a_first_time_drafter_to_the_three_tasks(page, live_server):
    page.goto(live_server + "/")
    assert page.locator("[data-task]").count() == 3
    assert page.locator(".sector-counts li").count() >= 15  # the seeded library covers most 类
    screenshot(page, "home")
    page.click("[data-task=draft]")
    page.wait_for_selector("[data-draft]")
    assert page.url.endswith("/draft")
    page.go_back()
    page.click(".sector-counts li[data-sector='210'] a")
    page.wait_for_selector(".results, .result, [data-results], main")
    assert "sector=210" in page.url

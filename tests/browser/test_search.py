"""Searching in Chromium: Chinese words, pinyin initials through the typeahead, facets, zero results."""
import re
from urllib.parse import parse_qs, urlparse

from tests.browser.conftest import screenshot

TYPEAHEAD = "ul.typeahead [role=option]"


def test_search_in_chinese_from_the_home_box_highlights_matches(page, live_server):
    page.goto(live_server + "/")
    box = page.locator("input[name=q]")
    box.fill("门诊患者满意度")
    page.wait_for_selector(TYPEAHEAD)  # the typeahead offers the name while typing
    box.press("Escape")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?"))
    first = page.locator("ol.hits li.hit").first
    assert "门诊患者满意度" in first.locator("h2").inner_text()
    assert first.locator("mark").count() >= 1  # the highlight reached the page as markup, not as text
    assert "<mark>" not in page.inner_text("main")
    screenshot(page, "search")


def test_pinyin_initials_typeahead_then_open_the_indicator(page, live_server):
    page.goto(live_server + "/search")
    assert "浏览指标" in page.inner_text("h1.summary")  # an empty query browses the library
    box = page.locator("input[name=q]")
    box.type("mzhz", delay=30)
    option = page.locator(TYPEAHEAD, has_text="门诊患者满意度").first
    option.wait_for()
    screenshot(page, "search-typeahead")
    # keyboard: down to the option, Enter picks it and searches for it
    names = page.locator(TYPEAHEAD).all_inner_texts()
    index = next(i for i, t in enumerate(names) if "门诊患者满意度" in t)
    for _ in range(index + 1):
        box.press("ArrowDown")
    assert page.locator(TYPEAHEAD + "[aria-selected=true]").inner_text().startswith("门诊患者满意度")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?"))
    assert parse_qs(urlparse(page.url).query)["q"] == ["门诊患者满意度"]
    page.locator("ol.hits li.hit h2 a", has_text="门诊患者满意度").first.click()
    page.wait_for_url(re.compile(r"/indicators/"))
    assert "门诊患者满意度" in page.inner_text("h1")


def test_facets_narrow_and_zero_results_offer_help(page, live_server):
    page.goto(live_server + "/search?q=满意度")
    total = int(re.search(r"找到 (\d+) 条", page.inner_text("h1.summary")).group(1))
    page.locator("[data-facet=kind] a", has_text="共性指标").click()
    page.wait_for_url(re.compile(r"kind=common"))
    narrowed = int(re.search(r"找到 (\d+) 条", page.inner_text("h1.summary")).group(1))
    assert 0 < narrowed < total
    assert "指标类别：共性指标" in page.inner_text(".active-filters")
    # the sector tree: a branch opens on its marker, its leaves filter
    page.goto(live_server + "/search?q=满意度")
    branch = page.locator("[data-facet=sector] details").first
    branch.locator(":scope > summary").click(position={"x": 2, "y": 8})  # a branch may hold branches of its own
    assert branch.get_attribute("open") is not None
    leaf = branch.locator("ul a").first
    picked = leaf.inner_text().split()[0]
    leaf.click()
    page.wait_for_url(re.compile(r"sector="))
    assert f"行业领域：{picked}" in page.inner_text(".active-filters")
    page.goto(live_server + "/search?q=zzqqxx")
    assert page.locator("[data-zero-results]").count() == 1
    assert "拼音首字母" in page.inner_text("[data-zero-results]")
    screenshot(page, "search-zero")


def test_search_page_on_a_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    try:
        pg = context.new_page()
        pg.goto(live_server + "/search?q=满意度")
        assert pg.locator("ol.hits li.hit").count() > 0
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, f"the page scrolls sideways on a phone ({width}px)"
        screenshot(pg, "search-phone")
    finally:
        context.close()

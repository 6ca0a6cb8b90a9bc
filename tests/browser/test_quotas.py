"""Quota standards in Chromium: browsing by category with documents, and the calculator."""
import re

from tests.browser.conftest import screenshot


def test_browse_quota_standards_by_category(page, live_server):
    page.goto(live_server + "/quotas")
    assert "支出定额标准" in page.inner_text("h1")
    for category in ("会议费", "培训费", "差旅费"):
        assert page.locator(".quota-group h2", has_text=category).count() == 1
    # replaced standards stay listed, marked, with their documents
    superseded = page.locator("table.quotas tr.status-superseded")
    assert superseded.count() > 0
    assert "已替代" in superseded.first.inner_text()
    assert "〔" in page.inner_text("table.quotas")  # 文号 such as 财行〔2016〕214号
    screenshot(page, "quotas")
    page.locator(".chips a", has_text="会议费").click()
    page.wait_for_url(re.compile(r"category="))
    assert page.locator(".quota-group").count() == 1
    # the checkbox submits its form; after the reload the page also carries a hidden current=1
    page.check("input[type=checkbox][name=current]")  # only standards in force
    page.wait_for_url(re.compile(r"current=1"))
    assert page.locator("table.quotas tr.status-superseded").count() == 0


def test_quota_calculator(page, live_server):
    page.goto(live_server + "/quotas")
    form = page.locator("[data-quota-calculator]")
    form.locator("[data-calc-category]").select_option("会议费")
    labels = form.locator("[data-calc-code] optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert labels == ["会议费"]  # the tiers narrowed to the category
    option = form.locator("[data-calc-code] option", has_text="三类").first
    code = option.get_attribute("value")
    amount = float(re.search(r"· (\d+(?:\.\d+)?)元/人·天", option.inner_text()).group(1))
    form.locator("[data-calc-code]").select_option(code)
    form.locator("input[name=people]").fill("50")
    form.locator("input[name=days]").fill("2")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/quotas/calculator\?"))
    result = page.locator("[data-calc-result]")
    total = amount * 2 * 50
    assert f"{total:g} 元" in result.locator("[data-calc-total]").inner_text()
    assert re.search(rf"{amount:g}元/人·天 × 2天 × 50人 = {total:g}元", result.inner_text())
    assert result.locator("table.breakdown tr").count() >= 3  # 住宿费, 伙食费, 其他费用 and the sum
    screenshot(page, "quota-calculator")
    # a number that is not one: the message is in Chinese beside the form, the input kept
    form = page.locator("main [data-quota-calculator]")
    form.locator("input[name=people]").fill("五十人")
    form.locator("button[type=submit]").click()
    assert "应为大于0的数字" in page.inner_text("[role=alert]")
    assert page.locator("main [data-quota-calculator] input[name=people]").input_value() == "五十人"


def test_tier_labels_fit_their_select(page, live_server):
    """The closed 档次 select shows the whole label of every tier (it cut 一类培训（参训人员主要为…） off)."""
    page.goto(live_server + "/quotas")
    room, longest = page.locator("[data-calc-code]").evaluate("""s => {
        const cs = getComputedStyle(s), ctx = document.createElement('canvas').getContext('2d');
        ctx.font = cs.font;
        const arrow = 24;  // the drop-down arrow
        return [s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - arrow,
                Math.max(...Array.from(s.options).map(o => ctx.measureText(o.text).width))]; }""")
    assert longest <= room, (longest, room)

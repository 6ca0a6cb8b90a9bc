"""The drafting workspace in Chromium: a hospital project from the form to the
exported .xlsx, with the live check, a fix applied, rows added, moved and
removed, the work surviving a reload; importing a table; the quota estimate;
a phone-sized screen."""
import json
import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

PROJECT = {
    "name": "市中心医院购置CT设备",
    "description": "为市中心医院购置64排CT设备1台，年内完成采购、安装和验收并投入使用，提升影像检查能力，缩短门诊患者检查等待时间。",
    "sector": "210",
    "budget": "800",
}


def stored(page) -> dict:
    return page.evaluate("JSON.parse(localStorage.getItem('zhibiao.draft'))")


def names(page) -> list[str]:
    return [r["name"] for r in stored(page)["indicators"]]


def fill_project(page, project=PROJECT):
    page.fill("input[name=name]", project["name"])
    page.fill("textarea[name=description]", project["description"])
    page.select_option("select[name=sector]", project["sector"])
    page.fill("input[name=budget_wan_yuan]", project["budget"])


def generate(page):
    page.click("[data-suggest]")
    page.wait_for_selector("tr.row")
    page.wait_for_selector("[data-grade]")


def test_drafting_a_hospital_project_end_to_end(page, live_server, tmp_path):
    page.goto(live_server + "/draft")
    fill_project(page)
    generate(page)

    # the recommended table, grouped by 一级/二级, each library row with its reason
    groups = page.locator("tr.group-row").all_inner_texts()
    for group in ("产出指标 › 数量指标", "产出指标 › 质量指标", "产出指标 › 时效指标", "满意度指标 › 服务对象满意度指标"):
        assert group in groups, groups
    table = stored(page)
    assert table["project"]["name"] == PROJECT["name"] and table["project"]["budget_wan_yuan"] == 800
    assert len(table["indicators"]) >= 6 and all(r["code"] for r in table["indicators"])
    assert page.locator("tr.row .reason").count() == len(table["indicators"])
    assert "年内完成市中心医院购置CT设备" in page.input_value("[data-goal]")
    assert page.locator("[data-suggestions] details").count() >= 4  # the other candidates, by 二级
    screenshot(page, "draft")

    # add a row from the library through the typeahead (pinyin initials)
    page.locator("#add-indicator").type("mzhz", delay=30)
    page.locator("ul.typeahead [role=option]", has_text="门诊患者满意度").first.click()
    page.locator("tr.row a.code", has_text="YY3-053").wait_for()
    rows = stored(page)["indicators"]
    added = next(i for i, r in enumerate(rows) if r["code"] == "YY3-053")
    assert rows[added]["level1"] == "满意度指标" and rows[added]["level2"] == "服务对象满意度指标"
    assert page.evaluate("document.activeElement.getAttribute('data-field')") == "value"  # ready to type its value

    # reorder with the keyboard: the first row moves down, the focus goes with it
    first, second = names(page)[:2]
    page.focus('button[data-action="down"][data-index="0"]')
    page.keyboard.press("Enter")
    assert names(page)[:2] == [second, first]
    assert first in page.evaluate("document.activeElement.getAttribute('aria-label')")
    page.keyboard.press("Shift+Tab")  # to its ↑ button
    page.keyboard.press("Enter")
    assert names(page)[:2] == [first, second]

    # remove a row, then undo
    count = len(names(page))
    page.click('button[data-action="remove"][data-index="1"]')
    assert len(names(page)) == count - 1 and second not in names(page)
    page.click("[data-undo]")
    assert names(page)[:2] == [first, second]

    # a value the reviewers would send back: the check flags it beside the row, the fix is one click
    row = next(i for i, r in enumerate(stored(page)["indicators"]) if r["code"] == "YY3-053")
    value = page.locator(f'tr[data-index="{row}"] [data-field=value]')
    value.fill("60")
    page.locator(f'tr[data-index="{row}"] [data-field=unit]').fill("%")
    finding = page.locator(f'tr[data-index="{row}"] .finding[data-rule=C08]')
    finding.wait_for()
    assert "偏低" in finding.inner_text()
    screenshot(page, "draft-finding")
    finding.locator("button.fix").click()
    assert page.input_value(f'tr[data-index="{row}"] [data-field=value]') == "90"
    assert stored(page)["indicators"][row]["value"] == "90"
    page.wait_for_selector(f'tr[data-index="{row}"] .finding[data-rule=C08]', state="detached")

    # export the .xlsx (server side) and read it back
    with page.expect_download() as info:
        page.click("[data-export-xlsx]")
    download = info.value
    assert download.suggested_filename == "绩效目标表-市中心医院购置CT设备.xlsx"
    path = tmp_path / "table.xlsx"
    download.save_as(path)
    ws = load_workbook(path).active
    cells = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    assert cells[0][0] == "项目支出绩效目标申报表"
    assert ["项目名称", None, PROJECT["name"]] == list(cells[1][:3])
    header = next(i for i, r in enumerate(cells) if r[0] == "一级指标")
    assert list(cells[header][:6]) == ["一级指标", "二级指标", "三级指标", "指标性质", "指标值", "计量单位"]
    body = cells[header + 1:]
    exported = {r[2]: r for r in body}
    assert exported["门诊患者满意度"][4] == 90 and exported["门诊患者满意度"][7] == "YY3-053"
    assert [r[2] for r in body] == names(page)

    # export JSON (in the browser): the DESIGN §9 shape
    with page.expect_download() as info:
        page.click("[data-export-json]")
    data = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert data["project"]["name"] == PROJECT["name"] and [r["name"] for r in data["indicators"]] == names(page)

    # a reload loses nothing
    before = stored(page)
    page.reload()
    page.wait_for_selector("[data-grade]")
    assert page.input_value("input[name=name]") == PROJECT["name"]
    assert page.input_value("select[name=sector]") == "210"
    assert page.input_value("input[name=budget_wan_yuan]") == "800"
    assert page.locator("tr.row").count() == len(before["indicators"])
    assert page.input_value(f'tr[data-index="{row}"] [data-field=value]') == "90"
    assert stored(page) == before


def test_import_a_table_from_xlsx_and_json_then_undo(page, live_server, tmp_path):
    from importers.target_xlsx import write_table
    from kb.targets.schema import load_table

    table = {
        "project": {"name": "全市基层医务人员培训", "description": "举办培训班2期，每期80人，每期3天", "sector": "210"},
        "goal": "年内完成2期培训。",
        "indicators": [
            {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "operator": "≥", "value": "160", "unit": "人次"},
            {"level1": "产出指标", "level2": "时效指标", "name": "培训完成时间", "operator": "≤", "value": "12月31日前", "unit": "日期"},
        ],
    }
    xlsx = tmp_path / "培训.xlsx"
    write_table(load_table(table), xlsx)
    page.goto(live_server + "/draft")
    fill_project(page)
    generate(page)
    generated = names(page)

    page.set_input_files("[data-import]", str(xlsx))
    expect(page.locator("input[name=name]")).to_have_value("全市基层医务人员培训")
    assert names(page) == ["培训人次", "培训完成时间"]
    assert page.input_value("input[name=name]") == "全市基层医务人员培训"
    assert "已导入" in page.inner_text("[data-status]")
    page.wait_for_selector("[data-grade]")
    page.click("[data-undo]")
    assert names(page) == generated

    as_json = tmp_path / "table.json"
    as_json.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("[data-import]", str(as_json))
    expect(page.locator("tr.row")).to_have_count(2)
    expect(page.locator("[data-status]")).to_contain_text("table.json")

    bad = tmp_path / "notes.txt"
    bad.write_text("不是目标表", encoding="utf-8")
    page.set_input_files("[data-import]", str(bad))
    page.wait_for_selector("[data-error]:not([hidden])")
    assert "请上传 .xlsx 或 .json 文件" in page.inner_text("[data-error]")
    assert names(page) == ["培训人次", "培训完成时间"]  # a bad file changes nothing


def test_training_project_shows_quota_standards_and_estimate(page, live_server):
    page.goto(live_server + "/draft")
    fill_project(page, {"name": "全市基层卫生人员业务培训", "description": "举办三类培训班2期，每期80人，每期3天，培训基层医务人员。",
                        "sector": "210", "budget": "30"})
    generate(page)
    quotas = page.locator("[data-quotas]")
    quotas.locator("[data-estimate]").wait_for()
    text = quotas.inner_text()
    assert "培训" in text and "550" in text
    assert re.search(r"550元/人·天 × 3天 × 80人 × 2期 = 264000元", text), text
    assert "合计 264,000 元" in text
    screenshot(page, "draft-quotas")


def test_row_added_on_an_indicator_page_appears_in_the_workspace(page, live_server):
    page.goto(live_server + "/indicators/YY3-053")
    page.click("[data-add-to-table]")
    page.goto(live_server + "/draft")
    page.wait_for_selector("tr.row")
    assert page.input_value('tr[data-index="0"] [data-field=name]') == "门诊患者满意度"
    assert "填写项目名称后" in page.inner_text("[data-check-summary]")


def test_drafting_on_a_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    try:
        pg = context.new_page()
        pg.goto(live_server + "/draft")
        fill_project(pg)
        generate(pg)
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 391, f"the workspace scrolls sideways on a phone ({width}px)"
        box = pg.locator('tr[data-index="0"] [data-field=value]').bounding_box()
        assert box["width"] > 100  # inputs are usable, not squeezed
        screenshot(pg, "draft-phone")
    finally:
        context.close()


def test_mid_year_monitoring_then_year_end_self_evaluation(page, live_server, tmp_path):
    """A unit imports its approved table, enters mid-year figures row by row, reads the warnings, corrects a
    figure, then at year end enters the year's values and its own scores and sees C15 flag an inflated one."""
    table = {
        "project": {"name": "2024年农村公路养护工程", "sector": "214", "budget_wan_yuan": 800},
        "goal": "全年养护农村公路120公里，5月底前完成汛前整治。",
        "indicators": [
            {"level1": "产出指标", "level2": "数量指标", "name": "养护里程", "operator": "≥", "value": "120", "unit": "公里"},
            {"level1": "产出指标", "level2": "时效指标", "name": "汛前整治完成时间", "operator": "", "value": "2024年5月31日前", "unit": ""},
            {"level1": "效益指标", "level2": "社会效益指标", "name": "群众出行条件", "operator": "定性", "value": "明显改善", "unit": ""},
            {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "群众满意度", "operator": "≥", "value": "90", "unit": "%"},
        ],
    }
    path = tmp_path / "公路养护.json"
    path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    page.goto(live_server + "/draft")
    page.set_input_files("[data-import]", str(path))
    expect(page.locator("[data-monitor-index]")).to_have_count(4)

    actual = lambda i: page.locator(f'[data-monitor-index="{i}"] [data-result-field=actual]')  # noqa: E731
    score = lambda i: page.locator(f'[data-monitor-index="{i}"] [data-result-field=self_score]')  # noqa: E731
    page.fill("[data-monitor-form] input[name=budget_executed_wan_yuan]", "600")
    page.fill("[data-monitor-form] input[name=as_of]", "2024-06-30")
    actual(0).fill("40")
    actual(1).fill("未完成")
    page.click("[data-run-monitor]")
    expect(page.locator("[data-monitor-summary]")).to_contain_text("预算执行率 75%")
    expect(page.locator("[data-warning=spending_ahead]")).to_contain_text("资金支出快于产出进度")
    expect(page.locator("[data-warning=late]")).to_contain_text("汛前整治完成时间")
    expect(page.locator('[data-outcome="1"]')).to_contain_text("已逾期")
    screenshot(page, "draft-monitoring")

    # the unit corrects its figures: the works were finished on 28 May, and more road was done
    actual(0).fill("62")
    actual(1).fill("2024-05-28")
    page.fill("[data-monitor-form] input[name=budget_executed_wan_yuan]", "330")
    page.click("[data-run-monitor]")
    expect(page.locator("[data-monitor-result] .ok")).to_contain_text("无预警")
    assert stored(page)["project"]["as_of"] == "2024-06-30"

    # year end: the year's values, and the scores the unit claims (full marks everywhere)
    page.fill("[data-monitor-form] input[name=budget_executed_wan_yuan]", "780")
    page.fill("[data-monitor-form] input[name=as_of]", "2024-12-31")
    actual(0).fill("108")
    actual(2).fill("基本达到")
    actual(3).fill("93%")
    for i, claim in enumerate(("25", "25", "30", "10")):
        score(i).fill(claim)
    page.reload()  # nothing typed is lost
    expect(actual(2)).to_have_value("基本达到")
    expect(score(0)).to_have_value("25")
    page.click("[data-run-evaluate]")
    expect(page.locator("[data-evaluation-summary]")).to_contain_text("自评得分")
    # 养护里程 25 × 108/120 = 22.5; 群众出行条件 30 × 0.8 = 24: both claimed higher
    expect(page.locator('[data-c15="1"]')).to_contain_text("多计2.5分")
    expect(page.locator('[data-c15="3"]')).to_contain_text("多计6分")
    expect(page.locator('[data-c15="total"]')).to_contain_text("多计8.5分")
    expect(page.locator('[data-outcome="0"]')).to_have_class(re.compile("bad"))
    screenshot(page, "draft-self-evaluation")

    # the export carries the figures and a 监控表 sheet
    with page.expect_download() as info:
        page.click("[data-export-xlsx]")
    saved = tmp_path / "export.xlsx"
    info.value.save_as(saved)
    wb = load_workbook(saved)
    assert "监控表" in wb.sheetnames
    values = [c for row in wb["绩效目标表"].iter_rows(values_only=True) for c in row if c is not None]
    assert "实际完成值" in values and "自评得分" in values and 108 in values


FIVE_EDITS_TABLE = {
    "project": {"name": "全市基层卫生人员业务培训", "description": "举办培训班2期，每期80人，每期3天", "sector": "210",
                "budget_wan_yuan": 30},
    "goal": "年内举办培训班2期，培训160人次，培训合格率不低于90%，受训学员满意度不低于90%。",
    "indicators": [
        {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "operator": "≥", "value": "160", "unit": "人次"},
        {"level1": "产出指标", "level2": "质量指标", "name": "培训合格率", "operator": "≥", "value": "90", "unit": "%"},
        {"level1": "产出指标", "level2": "时效指标", "name": "培训完成时间", "operator": "≤", "value": "12月31日前", "unit": "日期"},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "受训学员满意度", "operator": "≥", "value": "90", "unit": "%"},
    ],
}


def _row_rules(page, i: int) -> list[str]:
    return page.locator(f'[data-row-findings="{i}"] .finding').evaluate_all("els => els.map(e => e.dataset.rule)")


def _settled(page) -> None:
    """Wait for the debounced check to answer, then check that the badge agrees with what the rows show."""
    page.wait_for_selector("[data-check-summary] [data-grade]")
    page.wait_for_selector("[data-row-findings] .muted", state="detached")
    summary = page.inner_text("[data-check-summary]")
    errors = page.locator(".finding.sev-error").count()
    warnings = page.locator(".finding.sev-warning").count()
    assert f"{errors} 项错误" in summary and f"{warnings} 项提醒" in summary, summary


def test_one_row_edited_five_times_shows_exactly_its_current_findings(page, live_server, tmp_path):
    path = tmp_path / "培训.json"
    path.write_text(json.dumps(FIVE_EDITS_TABLE, ensure_ascii=False), encoding="utf-8")
    page.goto(live_server + "/draft")
    page.set_input_files("[data-import]", str(path))
    value = page.locator('tr[data-index="1"] [data-field=value]')
    _settled(page)
    assert _row_rules(page, 1) == []
    expect(page.locator('[data-row-findings="1"]')).to_have_text("✓ 通过")

    value.fill("较高")  # 1. not a number
    _settled(page)
    assert _row_rules(page, 1) == ["C06"]

    value.fill("120")  # 2. a rate over 100%
    _settled(page)
    assert _row_rules(page, 1) == ["C08"]

    value.fill("")  # 3. cleared: the value is missing; the fix takes the library's usual value
    _settled(page)
    assert _row_rules(page, 1) == ["C04"]
    page.locator('[data-row-findings="1"] button.fix').click()
    expect(value).to_have_value("90")
    _settled(page)
    assert _row_rules(page, 1) == []

    value.fill("150")  # 4. wrong again
    _settled(page)
    assert _row_rules(page, 1) == ["C08"]

    value.fill("95")  # 5. valid
    _settled(page)
    assert _row_rules(page, 1) == []
    expect(page.locator('[data-row-findings="1"]')).to_have_text("✓ 通过")
    assert page.locator('[data-row-findings="1"] .finding').count() == 0


def test_a_fix_that_needs_a_number_says_so_and_focuses_the_value(page, live_server, tmp_path):
    table = json.loads(json.dumps(FIVE_EDITS_TABLE))
    table["indicators"][0].update(name="基层卫生人员实操考核人数", value="", operator="")
    path = tmp_path / "培训.json"
    path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    page.goto(live_server + "/draft")
    page.set_input_files("[data-import]", str(path))
    _settled(page)
    assert "C04" in _row_rules(page, 0)
    page.locator('[data-row-findings="0"] [data-rule=C04] button.fix').click()
    expect(page.locator("[data-status]")).to_contain_text("请在“指标值”中填写数字")
    value = page.locator('tr[data-index="0"] [data-field=value]')
    expect(value).to_be_focused()
    value.type("160")
    _settled(page)
    assert "C04" not in _row_rules(page, 0)
    assert stored(page)["indicators"][0]["value"] == "160"


def test_a_wrong_budget_is_said_once(page, live_server):
    page.goto(live_server + "/draft")
    page.fill("input[name=name]", "市中心医院购置CT设备")
    page.fill("input[name=budget_wan_yuan]", "-5")
    page.click("[data-suggest]")
    bar = page.locator("[data-error]")
    expect(bar).to_be_visible()
    assert bar.inner_text().count("预算金额应为不小于0的数字") == 1, bar.inner_text()


def test_the_summary_budget_and_quantities_are_shown_to_confirm(page, live_server):
    page.goto(live_server + "/draft")
    page.fill("input[name=name]", "全市基层卫生人员能力培训")
    page.fill("textarea[name=description]", "项目预算八百万元，举办培训班2期，每期80人，全年培训500人次。")
    budget = page.locator("[data-stated-budget]")
    expect(budget).to_contain_text("概述中写有预算 800 万元")
    expect(budget).to_contain_text("是否填入年度资金总额")
    quantities = page.locator("[data-stated-quantities]").inner_text()
    assert "500人次" in quantities and "2期" in quantities and "80人" in quantities
    page.click("[data-fill-budget]")
    assert page.input_value("input[name=budget_wan_yuan]") == "800"
    assert stored(page)["project"]["budget_wan_yuan"] == 800
    expect(budget).to_have_count(0)  # the field now says what the summary says
    # a different figure typed later brings the offer back, naming both
    page.fill("input[name=budget_wan_yuan]", "500")
    expect(page.locator("[data-stated-budget]")).to_contain_text("与年度资金总额 500 不一致")
    # the 年度总体目标 is read too
    page.fill("textarea[name=description]", "")
    page.fill("[data-goal]", "总投资1.2亿元，年内完成。")
    expect(page.locator("[data-stated-budget]")).to_contain_text("12,000 万元")


def test_a_paste_beyond_a_fields_limit_says_so(page, live_server):
    page.goto(live_server + "/propose")
    reason = page.locator("textarea[name=reason]")
    reason.focus()
    page.evaluate("""() => {
        const t = document.querySelector('textarea[name=reason]'), dt = new DataTransfer();
        dt.setData('text/plain', '理'.repeat(10000));
        t.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
    }""")
    note = page.locator("textarea[name=reason] + [data-limit-note]")
    expect(note).to_contain_text("此栏最多 1000 字：粘贴的内容超出 9000 字")
    # typing up to a limit says so too
    name = page.locator("input[name=value]")
    name.fill("1" * 100)
    expect(page.locator("input[name=value] + [data-limit-note]")).to_contain_text("已达此栏上限 100 字")
    name.fill("12")
    expect(page.locator("input[name=value] + [data-limit-note]")).to_have_count(0)

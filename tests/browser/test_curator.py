"""The curator's round in Chromium: log in, import a workbook with a bad row,
see the error, upload the corrected file, publish, read the diff, look at
the plan dashboard."""
from __future__ import annotations

import re

import pytest
from openpyxl import Workbook

from tests.browser.conftest import screenshot

NAME, PASSWORD = "绩效科张三", "browser-test-password"
HEADERS = ["指标编码", "指标类别", "一级指标", "二级指标", "三级指标", "计量单位", "指标性质", "行业", "来源文件"]
SOURCE = "衡阳市公立医院绩效指标补充（浏览器测试）"
ROWS = [
    ["HY-BT-001", "个性", "产出指标", "数量指标", "远程会诊开展例次", "例次", "≥", "21002", SOURCE],
    ["HY-BT-002", "个性", "产出指标", "质量指标", "日间手术占择期手术比例", "%", "≥", "21002", SOURCE],
]


def write_workbook(path, rows) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "公立医院"
    ws.append(["衡阳市公立医院个性指标（补充）"])
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    wb.save(path)


@pytest.fixture(scope="module")
def curator_account(live_server, tmp_path_factory):
    """An account made the way the bureau makes them: `zhibiao user create`."""
    from api.cli import main

    (data_dir,) = {p.parent.resolve() for p in tmp_path_factory.getbasetemp().glob("live*/zhibiao.sqlite3")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHIBIAO_DATA_DIR", str(data_dir))
        mp.delenv("ZHIBIAO_DATABASE_URL", raising=False)
        with pytest.raises(SystemExit) as done:
            main(["user", "create", NAME, "--role", "curator", "--password", PASSWORD])
    assert done.value.code == 0
    return NAME, PASSWORD


def test_import_fix_publish_and_read_the_diff(page, live_server, curator_account, tmp_path):
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations before publishing

    page.goto(f"{live_server}/curator/import")
    assert "/curator/login" in page.url
    page.fill("input[name=name]", NAME)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.inner_text(".alert")
    page.fill("input[name=password]", PASSWORD)
    screenshot(page, "curator-login")
    page.click("button[type=submit]")
    assert page.url.endswith("/curator/import") and "导入指标" in page.inner_text("h1")

    bad = tmp_path / "公立医院补充指标.xlsx"
    write_workbook(bad, ROWS[:1] + [[*ROWS[1][:3], "满意度指标", *ROWS[1][4:]]])
    page.set_input_files("input[name=file]", str(bad))
    page.fill("input[name=source_document]", SOURCE)
    page.click("form[data-busy] button[type=submit]")
    errors = page.inner_text("#import-errors")
    assert "公立医院" in errors and "4" in errors and "二级指标" in errors and "满意度指标" in errors
    assert page.locator("text=确认导入草稿").count() == 0
    screenshot(page, "curator-import-errors")

    fixed = tmp_path / "公立医院补充指标（已改）.xlsx"
    write_workbook(fixed, ROWS)
    page.set_input_files(".errors input[name=file]", str(fixed))
    page.click(".errors button[type=submit]")
    page.wait_for_selector("text=确认导入草稿")  # the upload runs with a progress bar, then the preview replaces the page
    assert page.locator("#import-errors").count() == 0
    assert "远程会诊开展例次" in page.inner_text("main") and "日间手术占择期手术比例" in page.inner_text("main")
    # 日间手术占择期手术比例 is already in the library (三级公立医院考核): held back unless the curator says otherwise
    duplicate = page.locator("label.check", has_text="HY-BT-002")
    assert "仍然导入" in duplicate.inner_text() and "同名" in duplicate.inner_text()
    assert not duplicate.locator("input[name=confirm]").is_checked()
    screenshot(page, "curator-import-preview")
    page.click("text=确认导入草稿")
    assert "/curator/diff" in page.url and "已导入" in page.inner_text(".flash")
    assert "HY-BT-001" in page.inner_text("main")

    page.goto(f"{live_server}/curator/publish")
    assert "全部通过" in page.inner_text("main")
    label = page.input_value("input[name=label]")
    assert re.match(r"^\d{4}\.\d+$", label)
    page.fill("textarea[name=notes]", "补充公立医院个性指标 1 条")
    screenshot(page, "curator-publish")
    page.click("form[data-busy] button[type=submit]")
    # the job's page refreshes itself until the version is published, then shows the diff
    page.wait_for_url(re.compile(rf".*/curator/diff\?.*b={re.escape(label)}.*"), timeout=30000)
    assert f"已发布版本 {label}" in page.inner_text(".flash")
    summary = page.inner_text("#diff-summary")
    assert "共 1 处变化" in summary and "新增 1" in summary
    body = page.inner_text("main")
    assert "远程会诊开展例次" in body and "HY-BT-002" not in body
    screenshot(page, "curator-diff")

    page.goto(f"{live_server}/indicators/HY-BT-001")
    assert "远程会诊开展例次" in page.inner_text("h1")


def test_plan_dashboard_and_draft_edit_pages(page, live_server, curator_account):
    page.goto(f"{live_server}/curator/login")
    page.fill("input[name=name]", NAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/curator/plan/dashboard")
    assert page.locator("svg.bars").count() >= 3 and page.locator("#coverage tr[data-scope='21002']").count() == 1
    screenshot(page, "curator-dashboard")
    page.goto(f"{live_server}/curator/draft?sector=21002&kind=specific")
    assert page.locator("table.list tbody tr").count() > 10
    screenshot(page, "curator-draft")
    page.goto(f"{live_server}/curator/draft/YY3-006")
    assert page.input_value("input[name=name]") == "出院患者四级手术比例"
    screenshot(page, "curator-edit")
    page.goto(f"{live_server}/plan")
    assert page.locator("svg.bars").count() >= 3
    screenshot(page, "public-plan")


def test_large_upload_shows_its_progress(page, live_server, curator_account, tmp_path):
    page.goto(f"{live_server}/curator/login")
    page.fill("input[name=name]", NAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/curator/import")
    big = tmp_path / "大批量指标.xlsx"
    rows = [[f"HY-BIG-{n:04d}", "个性", "产出指标", "数量指标", f"批量导入测试指标第{n}项（用于观察上传进度）" + "说明" * 20,
             "个", "≥", "21002", SOURCE] for n in range(3000)]
    write_workbook(big, rows)
    assert big.stat().st_size > 100_000
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1,
                                                   "uploadThroughput": 30 * 1024})
    page.set_input_files("input[name=file]", str(big))
    page.fill("input[name=source_document]", SOURCE)
    page.click("form[data-busy] button[type=submit]")
    page.wait_for_selector("form[data-busy] progress")
    # (wait_for_function would need 'unsafe-eval', which the pages' CSP rightly refuses)
    for _ in range(200):
        if page.evaluate("document.querySelector('form[data-busy] progress').value") > 0:
            break
        page.wait_for_timeout(50)
    assert "正在上传文件" in page.inner_text(".busy") or "正在逐行校验" in page.inner_text(".busy")
    screenshot(page, "curator-import-progress")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                   "uploadThroughput": -1})
    page.wait_for_selector("text=确认导入草稿", timeout=60000)
    assert "HY-BIG-0001" in page.inner_text("main")


def test_curator_edits_scoring_rules_of_the_hospital_system(page, live_server, curator_account):
    """A curator changes one leaf's rule, mistypes another, reads the error with the input kept, fixes it,
    then clears a third back to 评价人评定: three saves in a row, each shown in words under its box."""
    page.goto(f"{live_server}/curator/login")
    page.fill("input[name=name]", NAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav.curator-nav >> text=指标体系")
    page.click("text=公立医院整体支出绩效评价指标体系")
    leaf = lambda code: page.locator(f'tr[data-leaf="{code}"]')  # noqa: E731
    assert page.locator("tr[data-leaf]").count() == 47

    leaf("GX-BM-003").locator("textarea").fill('{"kind": "ceiling", "target": 100, "per_point": 0.5}')
    page.click("text=保存计分规则")
    page.wait_for_selector(".flash, .success, [role=status]")
    assert "每超出1扣 0.5 分" in leaf("GX-BM-003").inner_text()

    leaf("GX-BM-004").locator("textarea").fill('{"kind": "ceiling", "target": 0, "per_point": }')
    page.click("text=保存计分规则")
    assert "计分规则应为 JSON 对象" in page.inner_text("main")
    assert leaf("GX-BM-004").locator("textarea").input_value() == '{"kind": "ceiling", "target": 0, "per_point": }'
    leaf("GX-BM-004").locator("textarea").fill('{"kind": "ceiling", "target": 0, "per_point": 0.2}')
    page.click("text=保存计分规则")
    assert "每超出1扣 0.2 分" in leaf("GX-BM-004").inner_text()
    assert "每超出1扣 0.5 分" in leaf("GX-BM-003").inner_text()  # the first change is still there

    leaf("YYCW-022").locator("textarea").fill("")
    page.click("text=保存计分规则")
    assert "评价人评定" in leaf("YYCW-022").inner_text()
    screenshot(page, "curator-system-rules")


def test_plan_table_keeps_edit_links_on_one_line(page, live_server, curator_account):
    page.goto(f"{live_server}/curator/login")
    page.fill("input[name=name]", NAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/curator/plan")
    links = page.locator("table.milestones a", has_text="编辑")
    assert links.count() > 10
    # each link one line high (it wrapped to 编 / 辑, two lines, beside long milestone titles)
    heights = links.evaluate_all("as => as.map(a => a.getClientRects().length)")
    assert set(heights) == {1}, heights
    # the codes' text in one line box each (M2024- / 01 were two)
    codes = page.locator("table.milestones tbody tr td:first-child").evaluate_all(
        "tds => tds.map(td => { const r = document.createRange(); r.selectNodeContents(td); return r.getClientRects().length; })")
    assert set(codes) == {1}, codes
    screenshot(page, "curator-plan")

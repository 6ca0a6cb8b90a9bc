"""A bad file of each kind is rejected with located messages, and the draft is unchanged."""
from __future__ import annotations

import io
import zipfile

import pytest

from importers import dry_run as import_plan
from importers.files import FileRejected, FileTooLarge, Limits
from importers.indicator_rows import ImportDefaults
from importers.dry_run import apply_import, plan_import
from kb.errors import InvalidInput
from tests.importer_helpers import csv_bytes, draft_snapshot, health_sheet, one_sheet, workbook_bytes

HEADER = ["一级指标", "二级指标", "三级指标", "计量单位", "指标性质", "指标值", "行业", "指标类别", "来源"]
GOOD = ["产出指标", "数量指标", "门急诊人次", "人次", "≥", "120000", "公立医院", "个性", "某指标库"]


@pytest.fixture
def unchanged(library):
    """Asserts, after the test, that the draft and the change log are as before."""
    before = draft_snapshot(library)
    yield library
    assert draft_snapshot(library) == before


def _refused(session, plan) -> None:
    with pytest.raises(InvalidInput, match="未导入任何内容"):
        apply_import(session, plan, user="curator")


def test_wrong_columns(unchanged):
    data = one_sheet(["名称", "数值", "说明"], [["门急诊人次", "120000", "无"]])
    plan = plan_import(unchanged, data, "wrong.xlsx")
    [problem] = plan.errors
    assert problem.location == "指标" and "未找到表头" in problem.message
    _refused(unchanged, plan)
    data = one_sheet(["三级指标", "计量单位", "指标类别"], [["门急诊人次", "人次", "个性"]], above=[["标题"]])
    plan = plan_import(unchanged, data, "no-levels.xlsx")
    [problem] = plan.errors
    assert (problem.location, problem.row) == ("指标", 2)
    assert problem.message == "缺少必需的列：一级指标、二级指标"
    _refused(unchanged, plan)


def test_bad_values_are_located_by_sheet_row_and_column(unchanged):
    rows = [
        GOOD,
        ["产出指标", "数量指标", "出院人次", "人次", "大约", "8000", "公立医院", "个性", "某指标库"],
        ["产出指标", "质量指标", "病历甲级率", "%", "≥", "90", "宇宙探索", "个性", "某指标库"],
        ["产出指标", "质量指标", "床位使用率", "%", "≥", "90", "公立医院", "混合", "某指标库"],
        ["产出指标", "好坏指标", "床位周转次数", "次", "≥", "30", "公立医院", "个性", "某指标库"],
    ]
    plan = plan_import(unchanged, one_sheet(HEADER, rows, title="卫生健康"), "bad.xlsx")
    by_row = {p.row: p for p in plan.errors}
    assert set(by_row) == {3, 4, 5, 6} and len(plan.errors) == 4
    assert (by_row[3].location, by_row[3].field) == ("卫生健康", "指标性质（E列）")
    assert "须为" in by_row[3].message and "≥" in by_row[3].message
    assert by_row[4].field == "行业（G列）" and "宇宙探索" in by_row[4].message
    assert by_row[5].field == "指标类别（H列）" and "共性、个性" in by_row[5].message
    assert by_row[6].field == "二级指标（B列）" and "好坏指标" in by_row[6].message
    assert str(by_row[3]).startswith("卫生健康 第3行 指标性质（E列）: ")
    assert [r.name for r in plan.adds] == ["门急诊人次"]  # good rows are planned, but nothing applies
    _refused(unchanged, plan)


def test_formula_cells_are_refused(unchanged):
    def build(wb):
        ws = wb.active
        ws.title = "卫生健康"
        ws.append(HEADER)
        ws.append(GOOD)
        ws.append(["产出指标", "数量指标", "出院人次", "人次", "≥", "=SUM(1,2)", "公立医院", "个性", "某指标库"])
    plan = plan_import(unchanged, workbook_bytes(build), "formula.xlsx")
    [problem] = plan.errors
    assert (problem.location, problem.row, problem.field) == ("卫生健康", 3, "指标值（F列）")
    assert "单元格含公式" in problem.message
    _refused(unchanged, plan)


def test_oversized_file(unchanged, monkeypatch):
    monkeypatch.setenv("ZHIBIAO_MAX_UPLOAD_MB", "0.01")  # about 10 KB
    data = one_sheet(HEADER, [GOOD[:2] + [f"指标{i}"] + GOOD[3:] for i in range(400)])
    assert len(data) > 10 * 1024
    with pytest.raises(FileTooLarge, match="超过大小上限 0.01 MB") as info:
        plan_import(unchanged, data, "big.xlsx")
    assert info.value.status == 413


def test_too_many_rows(unchanged):
    data = csv_bytes([HEADER] + [GOOD[:2] + [f"指标{i}"] + GOOD[3:] for i in range(30)])
    with pytest.raises(FileRejected, match="20 行的上限"):
        plan_import(unchanged, data, "rows.csv", limits=Limits(max_rows=20))


@pytest.mark.parametrize("content, words", [
    ("这不是工作簿，是改了扩展名的文本。".encode("utf-8"), "改了扩展名"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls"),
    (b"PK\x03\x04 a broken zip", "已损坏"),
])
def test_non_xlsx_renamed_xlsx(unchanged, content, words):
    with pytest.raises(FileRejected, match=words):
        plan_import(unchanged, content, "renamed.xlsx")


def test_other_zip_renamed_xlsx(unchanged):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(FileRejected, match="不是 Excel 工作簿"):
        plan_import(unchanged, buffer.getvalue(), "report.xlsx")


@pytest.mark.parametrize("filename", ["empty.xlsx", "empty.csv", "empty.json"])
def test_empty_file(unchanged, filename):
    with pytest.raises(FileRejected, match="是空的"):
        plan_import(unchanged, b"", filename)


def test_workbook_without_data_rows(unchanged):
    plan = plan_import(unchanged, one_sheet(HEADER, []), "header-only.xlsx")
    assert [p.message for p in plan.errors] == ["文件中没有可导入的指标行"]
    _refused(unchanged, plan)


def test_xml_entities_are_refused(unchanged):
    data = one_sheet(HEADER, [GOOD])
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                start = content.index(b"?>") + 2 if b"?>" in content else 0
                assert "门急诊人次".encode() in content
                bomb = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                content = content[:start] + bomb + content[start:].replace("门急诊人次".encode(), b"&b;")
            out.writestr(item, content)
    with pytest.raises(FileRejected, match="不安全的 XML"):
        plan_import(unchanged, target.getvalue(), "bomb.xlsx")


def test_unsupported_type(unchanged):
    with pytest.raises(FileRejected, match="不支持"):
        plan_import(unchanged, b"%PDF-1.4", "library.pdf")
    with pytest.raises(FileRejected, match=".xls"):
        plan_import(unchanged, b"\xd0\xcf\x11\xe0", "old.xls")


def test_bad_json(unchanged):
    with pytest.raises(FileRejected, match="JSON 格式错误"):
        plan_import(unchanged, b'{"format": ', "broken.json")
    item = '[{"code": "J-1", "kind": "common", "level1": "过程", "level2": "资金管理", "name": "资金拨付及时率"}]'
    plan = plan_import(unchanged, item.encode(), "list.json")
    assert [p.field for p in plan.errors] == ["source"] and plan.errors[0].location == "list.json 第1项"
    _refused(unchanged, plan)


def test_a_failure_while_applying_leaves_the_draft_unchanged(unchanged, monkeypatch):
    def build(wb):
        health_sheet(wb.create_sheet("卫生健康"))
    plan = plan_import(unchanged, workbook_bytes(build), "city.xlsx", defaults=ImportDefaults(source_document="某指标库"))
    assert plan.ok and len(plan.adds) == 5
    calls = []

    def failing_log(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("disk full")

    monkeypatch.setattr("kb.library.draft.log_change", failing_log)
    with pytest.raises(RuntimeError):
        apply_import(unchanged, plan, user="curator")


def test_a_plan_made_before_someone_edited_the_draft_is_refused(library):
    from kb.library import draft as kblib
    from kb.errors import Conflict

    data = one_sheet(["指标编码", "一级指标", "二级指标", "三级指标", "计量单位"], [["T-002", "过程", "资金管理", "预算执行率", "百分比"]])
    plan = plan_import(library, data, "edit.xlsx")
    kblib.update_record(library, "indicator", "T-002", {"note": "他人修改"}, expected_revision=1, user="other")
    before = draft_snapshot(library)
    with pytest.raises(Conflict, match="重新预览"):
        apply_import(library, plan, user="curator")
    assert draft_snapshot(library) == before
    assert import_plan.apply_import(library, plan_import(library, data, "edit.xlsx"), user="curator").total("changed") == 1


def test_an_overlong_cell_is_an_error_and_not_kept(unchanged):
    long = "很长的指标解释" * 700  # 4,900 characters: no field takes that many
    data = one_sheet(HEADER + ["指标解释"], [GOOD + [long], [*GOOD[:2], "住院人次", *GOOD[3:], "正常"]])
    plan = plan_import(unchanged, data, "long.xlsx")
    [problem] = [p for p in plan.errors if "字的上限" in p.message]
    assert problem.row == 2 and "4900" in problem.message
    _refused(unchanged, plan)


def test_text_beyond_the_files_budget_is_refused_whole(unchanged):
    rows = [[*GOOD[:2], f"门急诊人次{i}", *GOOD[3:]] for i in range(50)]
    with pytest.raises(FileRejected, match="文字总量"):
        plan_import(unchanged, one_sheet(HEADER, rows), "many.xlsx", limits=Limits(max_text_chars=500))


def test_a_workbook_that_unpacks_far_beyond_any_table_is_not_parsed(unchanged):
    data = one_sheet(HEADER, [GOOD] * 20)
    with pytest.raises(FileRejected, match="解压后超过"):
        plan_import(unchanged, data, "inflated.xlsx", limits=Limits(max_unzipped_bytes=1000))

"""importers/target_xlsx: the usual 绩效目标表 layout read and written, header
aliases, merged cells, neutralised formulas, and files that are not a table."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from importers.aliases import alias_table
from importers.target_xlsx import TARGET_COLUMNS, read_table, write_table
from kb.errors import KbError
from kb.target_schema import load_table
from tests.target_helpers import good_table


def _xlsx(rows: list[list], merges: list[str] = ()) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for m in merges:
        ws.merge_cells(m)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_round_trip(tmp_path):
    table = load_table(good_table())
    path = tmp_path / "目标表.xlsx"
    write_table(table, path)
    assert read_table(path) == table
    assert read_table(write_table(table)) == table  # bytes in memory too


def test_written_layout_is_the_usual_one():
    wb = load_workbook(io.BytesIO(write_table(load_table(good_table()))))
    ws = wb.active
    assert ws["A1"].value == "项目支出绩效目标表"
    labels = [ws.cell(row=r, column=1).value for r in range(2, 10)]
    assert labels[0] == "项目名称" and "年度总体目标" in labels and "预算金额（万元）" in labels
    header = [c.value for c in ws[10]]
    assert header[:6] == ["一级指标", "二级指标", "三级指标", "指标性质", "指标值", "计量单位"]
    # the 一级 and 二级 cells of consecutive rows are merged, as in the printed form
    assert any(str(r) == "A11:A14" for r in ws.merged_cells.ranges)


def test_cells_a_spreadsheet_would_run_are_neutralised():
    raw = good_table()
    raw["project"]["name"] = "=HYPERLINK(\"http://x\")"
    raw["indicators"][0]["name"] = "@SUM(1)"
    raw["indicators"][1]["value"] = "-5"
    table = load_table(raw)
    data = write_table(table)
    ws = load_workbook(io.BytesIO(data)).active
    values = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    from importers.table import HARMLESS

    # what could run is written with an apostrophe; "=" alone and "-5" cannot, and are shown as typed
    assert not any(v.startswith(("=", "+", "-", "@")) and not HARMLESS.match(v) for v in values)
    assert "'@SUM(1)" in values and "-5" in values
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert read_table(data) == table  # and read back as written


def test_reads_a_hand_made_table_with_aliases_merged_cells_and_combined_values():
    data = _xlsx([
        ["2024年项目支出绩效目标申报表"],
        ["项目名称", "全市财务人员培训", "主管部门", "市财政局"],
        ["所属行业", "一般公共服务", "年度资金总额", "20"],
        ["项目概况", "三类培训3天100人"],
        ["年度总体目标"],
        ["完成全市财务人员培训100人"],
        ["一级指标", "二级指标", "指标名称", "运算符", "指标值（含数字及文字描述）", "单位"],
        ["产出指标", "数量", "培训人数", "", "≥100人", None],
        [None, None, "培训班次", ">=", 1, "期"],
        [None, "质量指标", "培训合格率", "", "≥95%", ""],
        ["满意度", "服务对象满意度指标", "学员满意度", "≥", "90", "%"],
    ], merges=["A8:A10"])
    t = read_table(data)
    p = t.project
    assert (p.name, p.department, p.sector, p.budget_wan_yuan) == ("全市财务人员培训", "市财政局", "一般公共服务", 20)
    assert p.description == "三类培训3天100人" and t.goal == "完成全市财务人员培训100人"
    rows = [(r.level1, r.level2, r.name, r.operator, r.value, r.unit) for r in t.indicators]
    assert rows == [
        ("产出指标", "数量指标", "培训人数", "≥", "100", "人"),
        ("产出指标", "数量指标", "培训班次", "≥", "1", "期"),
        ("产出指标", "质量指标", "培训合格率", "≥", "95", "%"),
        ("满意度指标", "服务对象满意度指标", "学员满意度", "≥", "90", "%"),
    ]


def test_a_department_table_names_the_unit():
    data = _xlsx([["部门整体支出绩效目标表"], ["部门名称", "某县疾病预防控制中心"],
                  ["一级指标", "二级指标", "三级指标", "指标值"], ["产出指标", "数量指标", "宣传活动次数", "≥20次"]])
    t = read_table(data)
    assert t.project.name == "某县疾病预防控制中心" and t.project.expenditure_type == "部门整体"


def test_the_alias_tables_headers_name_the_target_columns():
    cells = {"level1": "产出指标", "level2": "数量指标", "name": "甲", "value": "1"}
    for field, column in TARGET_COLUMNS.items():
        spec = alias_table().spec(column)
        for header in (spec.header, *spec.aliases):
            headers = {"level1": "一级指标", "level2": "二级指标", "name": "三级指标", "value": "指标值", field: header}
            values = {**cells, field: cells.get(field, "x")}
            data = _xlsx([["项目名称", "某项目"], list(headers.values()), [values[f] for f in headers]])
            assert getattr(read_table(data).indicators[0], field) == values[field], (field, header)


@pytest.mark.parametrize("data,words", [
    (lambda: _xlsx([["项目名称", "某项目"], ["序号", "名称", "备注"], [1, "甲", ""]]), "未找到指标表的表头"),
    (lambda: _xlsx([["项目名称", "某项目"], ["一级指标", "二级指标", "指标性质", "计量单位"], ["产出指标", "数量指标", "≥", "人"]]), "缺少列"),
    (lambda: _xlsx([["一级指标", "二级指标", "三级指标", "指标值"], ["产出指标", "数量指标", "甲", "1"]]), "名称"),
    (lambda: _xlsx([["项目名称", "某项目", "年度资金总额", "很多"], ["一级指标", "二级指标", "三级指标", "指标值"]]), "预算金额"),
    (lambda: b"not a workbook", "Excel"),
    (lambda: b"PK\x03\x04garbage", "Excel"),
    (lambda: b"", "Excel"),
])
def test_bad_files_give_a_clear_error(data, words):
    with pytest.raises(KbError) as info:
        read_table(data())
    assert words in info.value.message

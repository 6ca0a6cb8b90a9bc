"""importers/target_xlsx: the usual 绩效目标表 layout read and written, header
aliases, merged cells, neutralised formulas, and files that are not a table."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from importers.aliases import alias_table
from importers.target_xlsx import TARGET_COLUMNS, read_table, write_table
from kb.errors import KbError
from kb.targets.schema import load_table
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
    assert ws["A1"].value == "项目支出绩效目标申报表"
    labels = [ws.cell(row=r, column=1).value for r in range(2, 10)]
    assert labels[0] == "项目名称" and "年度总体目标" in labels and "资金情况（万元）" in labels
    header_row = next(r for r in range(1, 20) if ws.cell(row=r, column=1).value == "一级指标")
    header = [c.value for c in ws[header_row]]
    assert header[:6] == ["一级指标", "二级指标", "三级指标", "指标性质", "指标值", "计量单位"]
    # the 一级 and 二级 cells of consecutive rows are merged, as in the printed form
    assert any(str(r) == f"A{header_row + 1}:A{header_row + 4}" for r in ws.merged_cells.ranges)


def _declaration() -> dict:
    raw = good_table()
    raw["project"].update(implementing_unit="市卫生健康委员会培训中心", year=2025, budget_wan_yuan=45,
                          fiscal_wan_yuan=40, other_wan_yuan=5, sector="21004", project_type="PT-PX")
    raw["indicators"][2]["operator"] = "="
    raw["indicators"][2]["value"] = "100"
    return raw


def test_the_declaration_form_layout():
    """The 项目支出绩效目标申报表: title with the year, the project block with its labels, funds split, sector
    and type by name, merged 一级/二级 cells, numbers as numbers, "=" as typed, A4 print setup; read back whole."""
    from kb.targets.project import ProjectLabels

    table = load_table(_declaration())
    data = write_table(table, labels=ProjectLabels("21004 公共卫生", "培训类"))
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "2025年度项目支出绩效目标申报表"
    cells = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}

    def right_of(label):
        (r, c), = [k for k, v in cells.items() if v == label]
        return next(cells[(r, k)] for k in range(c + 1, 9) if (r, k) in cells)

    assert right_of("项目名称") == table.project.name
    assert right_of("主管部门") == "卫生健康委员会" and right_of("实施单位") == "市卫生健康委员会培训中心"
    assert right_of("项目类别") == "培训类" and right_of("所属行业") == "21004 公共卫生"
    assert right_of("预算年度") == 2025
    assert (right_of("年度资金总额"), right_of("其中：财政拨款"), right_of("其他资金")) == (45, 40, 5)
    assert right_of("年度总体目标") == table.goal
    header_row = next(r for (r, c), v in cells.items() if v == "一级指标")
    rows = list(ws.iter_rows(min_row=header_row + 1, values_only=True))
    assert rows[0][4] == 160 and isinstance(rows[0][4], int)  # numbers are numbers
    assert rows[2][3] == "=" and rows[2][4] == 100
    assert rows[3][4] == "12月31日前"  # a date stays text
    assert not any(isinstance(v, str) and v.startswith("'") for v in cells.values())
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert any(str(r) == f"A{header_row + 1}:A{header_row + 4}" for r in ws.merged_cells.ranges)
    assert any(str(r) == "C2:H2" for r in ws.merged_cells.ranges)  # 项目名称 across the sheet
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == f"${header_row}:${header_row}"
    back = read_table(data)
    assert back.project.sector == "21004" and back.project.project_type == "培训类"
    assert back.project.year == 2025 and back.project.implementing_unit == "市卫生健康委员会培训中心"
    expected = table.to_dict()
    expected["project"]["project_type"] = "培训类"  # written by name; the library resolves either
    assert back.to_dict() == expected


def test_funds_that_do_not_add_up_are_a_finding():
    from kb.targets.check import check

    raw = _declaration()
    raw["project"]["other_wan_yuan"] = 8
    found = [f for f in check(load_table(raw)).findings if f.rule == "C13" and f.severity == "error"]
    assert found and "之和为48万元，不等于年度资金总额45万元" in found[0].message
    assert not [f for f in check(load_table(_declaration())).findings if "资金总额" in f.message]
    from kb.errors import InvalidInput

    raw["project"]["year"] = "明年"
    try:
        load_table(raw)
    except InvalidInput as exc:
        assert "预算年度“明年”应为四位年份" in exc.message
    else:
        raise AssertionError("a year that is not one must be refused")


def test_cells_a_spreadsheet_would_run_are_neutralised():
    raw = good_table()
    raw["project"]["name"] = "=HYPERLINK(\"http://x\")"
    raw["indicators"][0]["name"] = "@SUM(1)"
    raw["indicators"][1]["value"] = "-5"
    table = load_table(raw)
    data = write_table(table)
    ws = load_workbook(io.BytesIO(data)).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    # shown exactly as typed, stored as quote-prefixed text: never a formula, no apostrophe added
    runnable = [c for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")) and c.value != "="]
    assert {c.value for c in runnable} == {"=HYPERLINK(\"http://x\")", "@SUM(1)"}
    assert all(c.data_type == "s" and c.quotePrefix for c in runnable)
    assert all(c.data_type != "f" for c in cells)
    assert -5 in [c.value for c in cells]  # a signed number is a number
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


@pytest.mark.parametrize("typed, wan_yuan", [
    ("800", 800), ("800万元", 800), ("八百万", 800), ("1.2亿", 12000), ("1.2亿元", 12000), ("3,000,000元", 300),
    ("一千二百万元", 1200), ("5千元", 0.5), (" 45 万 ", 45),
])
def test_amounts_as_people_write_them(typed, wan_yuan):
    project = load_table({"project": {"name": "某项目", "budget_wan_yuan": typed, "fiscal_wan_yuan": typed}}).project
    assert project.budget_wan_yuan == pytest.approx(wan_yuan) and project.fiscal_wan_yuan == pytest.approx(wan_yuan)


@pytest.mark.parametrize("typed", ["很多", "800美元", "一点", "-5"])
def test_an_amount_that_is_not_one_says_what_to_write(typed):
    from kb.errors import InvalidInput

    with pytest.raises(InvalidInput) as info:
        load_table({"project": {"name": "某项目", "budget_wan_yuan": typed}})
    assert "预算金额" in info.value.message and ("万元" in info.value.message)


def test_overlapping_merged_ranges_are_refused_not_expanded():
    """Excel never writes overlapping merged ranges; a file that claims hundreds over one area is refused
    at once instead of filling the same cells again and again."""
    import zipfile

    data = _xlsx([["项目名称", "某项目"], ["一级指标", "二级指标", "三级指标", "指标值"], ["产出指标", "数量指标", "甲", "1"]]
                 + [[None] * 9 + ["x"] for _ in range(60)], merges=["A5:J60"])
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<mergeCell ref="A5:J60" />' in body
                body = body.replace(b'<mergeCell ref="A5:J60" />', b"".join(b'<mergeCell ref="A5:J%d"/>' % (60 - i) for i in range(50)))
            target.writestr(item, body)
    with pytest.raises(KbError, match="合并单元格互相重叠"):
        read_table(out.getvalue())
    assert read_table(data).indicators[0].name == "甲"  # the same sheet with its one range reads

"""Reading workbooks in the layouts provinces and departments publish."""
from __future__ import annotations

import pytest

from importers.aliases import alias_table
from importers.indicator_rows import ImportDefaults
from importers.names import generated_code
from importers.dry_run import apply_import, plan_import
from tests.importer_helpers import (
    HEALTH_ROWS,
    draft_snapshot,
    education_sheet,
    health_sheet,
    one_sheet,
    workbook_bytes,
)

SOURCE = ImportDefaults(source_document="某市卫生健康委员会关于印发绩效指标库的通知（某卫发〔2024〕5号）")


def _city_workbook() -> bytes:
    def build(wb):
        health_sheet(wb.create_sheet("卫生健康"))
        education_sheet(wb.create_sheet("教育"))
        ws = wb.create_sheet("填表说明")
        ws.append(["1. 指标名称应简明。"])
        ws.append(["2. 指标值应量化。"])
    return workbook_bytes(build)


def test_merged_cells_title_rows_and_several_sheets(library):
    plan = plan_import(library, _city_workbook(), "city.xlsx", defaults=SOURCE)
    assert plan.errors == []
    sheets = {s.name: s for s in plan.sheets}
    assert sheets["卫生健康"].header_row == 3 and sheets["卫生健康"].rows == 5
    assert sheets["教育"].header_row == 2 and sheets["教育"].rows == 1
    assert "表头" in sheets["填表说明"].skipped and sheets["填表说明"].rows == 0
    added = {r.name: r for r in plan.adds}
    assert set(added) == {"门急诊人次", "出院人次", "手术患者并发症发生率", "病历甲级率", "患者满意度", "资助学生人数"}
    # merged 一级/二级 cells are filled down from their top-left cell
    assert (added["出院人次"].data["level1"], added["出院人次"].data["level2"]) == ("产出指标", "数量指标")
    assert (added["病历甲级率"].data["level1"], added["病历甲级率"].data["level2"]) == ("产出指标", "质量指标")
    assert (added["病历甲级率"].sheet, added["病历甲级率"].row) == ("卫生健康", 7)
    # sector cells by name, code, "code name" and a list; 卫生健康 is 卫生健康支出
    assert added["门急诊人次"].data["sectors"] == ["21002"]
    assert added["病历甲级率"].data["sectors"] == ["21002", "2100201"]
    assert added["患者满意度"].data["sectors"] == ["210"]
    assert added["资助学生人数"].data["sectors"] == ["205"]
    # the odd headers land in the right fields
    rec = added["门急诊人次"].data
    assert (rec["definition"], rec["unit"], rec["operator"], rec["kind"]) == ("年度内门诊和急诊服务的人次", "人次", "≥", "specific")
    assert rec["reference_values"] == [{"value": "120000", "basis": "其他标准", "note": "", "year": None}]
    assert rec["source"]["document"] == "某市卫生健康委员会关于印发绩效指标库的通知"
    assert rec["source"]["doc_number"] == "某卫发〔2024〕5号"
    assert rec["provenance"] == "verbatim"
    # 序号 is ignored and said so; nothing is unmapped
    assert [(c.sheet, c.column, c.header) for c in plan.ignored] == [("卫生健康", "A", "序号")]
    assert plan.unmapped == []
    # the same name and scope as T-003 in the draft: reported, not an error
    [dup] = plan.duplicates
    assert (dup.name, dup.other_code, dup.in_draft, dup.row) == ("手术患者并发症发生率", "T-003", True, 6)
    assert any(r.name == "手术患者并发症发生率" for r in plan.adds)


def test_rows_without_code_get_stable_generated_codes(library):
    first = plan_import(library, _city_workbook(), "city.xlsx", defaults=SOURCE)
    second = plan_import(library, _city_workbook(), "again.xlsx", defaults=SOURCE)
    codes = sorted(r.code for r in first.adds)
    assert codes == sorted(r.code for r in second.adds)
    rec = next(r for r in first.adds if r.name == "门急诊人次")
    assert rec.generated_code and rec.code == generated_code(rec.data)
    assert rec.code.startswith("IMP-21002-") and len(rec.code) == len("IMP-21002-") + 8
    # spaces and full-width characters do not change the identity, so not the code
    assert generated_code({**rec.data, "name": " 门急诊 人次 "}) == rec.code


def test_applied_import_is_idempotent(library):
    before = draft_snapshot(library)
    plan = plan_import(library, _city_workbook(), "city.xlsx", defaults=SOURCE)
    report = apply_import(library, plan, user="curator", confirmed_duplicates=None)  # the duplicate confirmed too
    assert report.total("added") == 6
    after = draft_snapshot(library)
    assert len(after["indicators"]) == len(before["indicators"]) + 6
    assert after["change_log"] == before["change_log"] + 6
    again = plan_import(library, _city_workbook(), "city.xlsx", defaults=SOURCE)
    assert (len(again.adds), len(again.changes), len(again.unchanged)) == (0, 0, 6)


def test_header_named_zhibiao_fangxiang_holds_the_operator_or_the_direction(library):
    header = ["一级指标", "二级指标", "指标名称", "计量单位（元）", "指标方向", "指标类别", "来源"]
    ops = one_sheet(header, [["产出指标", "数量指标", "培训人数", "人", ">=", "共性", "某培训管理办法"]])
    plan = plan_import(library, ops, "ops.xlsx")
    assert plan.errors == []
    assert plan.adds[0].data["operator"] == "≥" and plan.adds[0].data["direction"] == "none"
    assert plan.adds[0].data["unit"] == "人"  # 计量单位（元） is 计量单位
    dirs = one_sheet(header, [["产出指标", "数量指标", "培训人数", "人", "越高越好", "共性", "某培训管理办法"]])
    plan = plan_import(library, dirs, "dirs.xlsx")
    assert plan.adds[0].data["direction"] == "up" and plan.adds[0].data["operator"] == ""


def test_provincial_library_sheet_with_values_like_95_percent(library):
    """A province's common-indicator library: 指标值 "≥95%", a 分值 column, no 类别 or 来源 columns."""
    header = ["序号", "一级指标", "二级指标", "三级指标", "指标解释", "指标值", "计量单位", "指标值设定依据", "分值", "备注", "项目类型"]
    rows = [
        [1, "产出指标", "数量指标", "培训人次", "参加培训的人次", "≥500", "人次", "计划标准", 10, "", "培训类"],
        [2, "产出指标", "质量指标", "培训合格率", "考核合格人数/参训人数", "≥95%", "%", "参照行业标准确定", 10, "", "培训类"],
        [3, "产出指标", "时效指标", "培训按时完成率", "", "＝100%", "%", "", 10, "", "培训类"],
        [4, "效益指标", "社会效益指标", "参训人员业务能力", "", "有所提升", "", "历史标准：上年水平", 20, "定性", "培训类"],
    ]
    data = one_sheet(header, rows, title="培训类", above=[["某省项目支出绩效共性指标库（培训类）"], [], ["单位：分"]])
    defaults = ImportDefaults(source_document="某省财政厅关于印发项目支出绩效共性指标库的通知（某财绩〔2023〕8号）", kind="共性")
    plan = plan_import(library, data, "province.xlsx", defaults=defaults)
    assert plan.errors == []
    assert {(c.header, c.column) for c in plan.ignored} == {("序号", "A"), ("分值", "I")}
    got = {r.name: r.data for r in plan.adds}
    assert got["培训人次"]["operator"] == "≥" and got["培训人次"]["reference_values"][0]["value"] == "500"
    assert got["培训人次"]["reference_values"][0]["basis"] == "计划标准"
    assert got["培训合格率"]["reference_values"][0] == {"value": "95", "basis": "行业标准", "note": "参照行业标准确定", "year": None}
    assert got["培训按时完成率"]["operator"] == "=" and got["培训按时完成率"]["reference_values"][0]["value"] == "100"
    assert got["参训人员业务能力"]["reference_values"][0]["basis"] == "历史标准"
    assert got["参训人员业务能力"]["reference_values"][0]["note"] == "上年水平"
    assert got["参训人员业务能力"]["note"] == "定性"
    assert all(r["kind"] == "common" and r["project_types"] == ["PT-PX"] for r in got.values())
    assert got["培训人次"]["source"]["doc_number"] == "某财绩〔2023〕8号"
    # "培训人次" with PT-PX is T-004 in the draft: a duplicate to show the curator
    assert [(d.name, d.other_code) for d in plan.duplicates] == [("培训人次", "T-004")]


def test_missing_kind_and_source_are_reported_once_per_sheet(library):
    header = ["一级指标", "二级指标", "三级指标", "计量单位"]
    data = one_sheet(header, [["产出指标", "数量指标", f"指标{i}", "个"] for i in range(5)])
    plan = plan_import(library, data, "bare.xlsx")
    messages = [p.message for p in plan.errors]
    assert len(messages) == 2, messages
    assert any(m.startswith("5 行缺少指标类别") for m in messages)
    assert any(m.startswith("5 行缺少来源文件") for m in messages)
    fixed = plan_import(library, data, "bare.xlsx", defaults=ImportDefaults(source_document="某某管理办法", kind="specific"))
    # specific indicators need a scope: the schema does not ask it, the publish gate does
    assert fixed.errors == [] and len(fixed.adds) == 5


def test_unmapped_headers_are_returned_and_a_mapping_resolves_them(library):
    header = ["一级指标", "二级指标", "指标名称", "考核要点", "联系人", "指标类别", "来源"]
    data = one_sheet(header, [["产出指标", "数量指标", "巡查次数", "每月巡查不少于2次", "李四", "共性", "某巡查办法"]])
    plan = plan_import(library, data, "odd.xlsx")
    assert [(c.column, c.header) for c in plan.unmapped] == [("D", "考核要点"), ("E", "联系人")]
    assert plan.adds[0].data["definition"] == ""
    mapped = plan_import(library, data, "odd.xlsx", mapping={"考核要点": "definition", "联系人": None})
    assert mapped.unmapped == []
    assert mapped.adds[0].data["definition"] == "每月巡查不少于2次"
    assert [c.header for c in mapped.ignored] == ["联系人"]
    from kb.errors import InvalidInput
    with pytest.raises(InvalidInput, match="不存在"):
        plan_import(library, data, "odd.xlsx", mapping={"考核要点": "no_such_field"})


def test_one_sheet_can_be_chosen(library):
    plan = plan_import(library, _city_workbook(), "city.xlsx", defaults=SOURCE, sheet="教育")
    assert [s.name for s in plan.sheets] == ["教育"] and [r.name for r in plan.adds] == ["资助学生人数"]
    from importers.files import FileRejected
    with pytest.raises(FileRejected, match="没有名为“体育”的工作表"):
        plan_import(library, _city_workbook(), "city.xlsx", sheet="体育")


def test_existing_code_gives_field_level_changes(library):
    header = ["指标编码", "一级指标", "二级指标", "三级指标", "计量单位", "计算公式"]
    data = one_sheet(header, [["T-002", "过程", "资金管理", "预算执行率", "百分比", "实际支出/预算×100%"]])
    plan = plan_import(library, data, "edit.xlsx")
    assert plan.errors == [] and plan.adds == []
    [change] = plan.changes
    assert change.code == "T-002"
    assert change.changes == {
        "unit": {"previous": "%", "current": "百分比"},
        "formula": {"previous": "", "current": "实际支出/预算×100%"},
    }
    # columns the file lacks keep the draft's values (operator, source, kind …)
    assert change.data["operator"] == "≥" and change.data["source"]["doc_number"] == "财预〔2020〕10号"


def test_progress_is_reported_for_large_files(library):
    rows = [["产出指标", "数量指标", f"指标{i:04d}", "个", "共性", "某办法"] for i in range(1200)]
    data = one_sheet(["一级指标", "二级指标", "三级指标", "计量单位", "指标类别", "来源"], rows)
    seen = []
    plan = plan_import(library, data, "big.xlsx", progress=lambda done, total: seen.append(done))
    assert len(plan.adds) == 1200
    assert seen[:2] == [500, 1000] and seen[-1] == 1200


def test_the_alias_table_is_one_file_the_readers_and_writers_share():
    table = alias_table()
    for header, key in [("一级", "level1"), ("指标名称", "name"), ("三级指标名称", "name"), ("指标代码", "code"),
                        ("指标内涵", "definition"), ("度量单位", "unit"), ("运算符", "operator"), ("参考值", "reference_value"),
                        ("指标值设定依据", "value_basis"), ("评分规则", "scoring_rule"), ("支出功能分类", "sectors"),
                        ("项目类型", "project_types"), ("共性个性", "kind"), ("政策依据", "source_document"),
                        ("佐证材料", "data_source"), ("是否国家监测", "national_monitoring"), ("＊指标名称(必填)", "name")]:
        assert table.key_for(header) == key, header
    assert table.is_ignored("分值") and table.is_ignored("权重") and table.key_for("分值") is None
    assert table.value_of("kind", "共性") == "common" and table.value_of("kind", "个性指标") == "specific"
    assert len(set(table.keys)) == len(table.keys)
    assert HEALTH_ROWS  # the layouts above are the helpers' (tests/importer_helpers.py)

"""The import plan: duplicates, JSON lists, generated codes, and what the curator pages get."""
from __future__ import annotations

import json

from importers.indicator_rows import ImportDefaults, split_doc_number
from importers.names import generated_code, normalised_name
from importers.dry_run import apply_import, plan_import
from tests.importer_helpers import draft_snapshot, one_sheet

HEADER = ["一级指标", "二级指标", "三级指标", "行业", "指标类别", "来源"]


def test_duplicates_within_the_file_are_reported_not_refused(library):
    rows = [
        ["产出指标", "数量指标", "门急诊人次", "公立医院", "个性", "甲库"],
        ["产出指标", "数量指标", "门急诊 人次", "21002", "个性", "乙库"],
        ["产出指标", "数量指标", "门急诊人次", "教育支出", "个性", "乙库"],  # another scope: not a duplicate
    ]
    plan = plan_import(library, one_sheet(HEADER, rows), "dups.xlsx")
    assert plan.errors == []
    codes = [r.code for r in plan.adds]
    assert len(set(codes)) == 3 and codes[1] == codes[0] + "-2"
    [dup] = plan.duplicates
    assert (dup.code, dup.other_code, dup.other_where, dup.row, dup.in_draft) == (codes[1], codes[0], "指标 第2行", 3, False)


def test_duplicate_against_the_draft_under_another_code(library):
    header = ["指标编码", *HEADER]
    rows = [["X-001", "过程", "资金管理", "资金到位率（％）", "", "共性", "某省指标库"]]
    plan = plan_import(library, one_sheet(header, rows), "x.xlsx")
    assert [(d.code, d.other_code, d.in_draft) for d in plan.duplicates] == [("X-001", "T-001", True)]
    # the curator may leave it out when applying
    before = draft_snapshot(library)
    report = apply_import(library, plan, user="curator", skip_codes=["X-001"])
    assert report.total("added") == 0 and draft_snapshot(library) == before


def test_a_json_list_of_indicators(library):
    items = [
        {"kind": "common", "level1": "过程", "level2": "资金管理", "name": "资金拨付及时率", "unit": "%"},
        {"code": "J-2", "kind": "specific", "level1": "产出指标", "level2": "数量指标", "name": "义诊人次",
         "sectors": ["21002"], "source": {"document": "某活动方案"}},
        {"code": "J-3", "kind": "specific", "level1": "产出指标", "level2": "数量指标", "name": "宣传次数",
         "sectors": ["99999"]},
    ]
    plan = plan_import(library, json.dumps(items, ensure_ascii=False).encode(), "list.json",
                       defaults=ImportDefaults(source_document="某省指标库（某财〔2022〕3号）"))
    assert [(p.location, p.field) for p in plan.errors] == [("list.json 第3项", "sectors")]
    assert "99999" in plan.errors[0].message
    got = {r.name: r for r in plan.adds}
    assert got["资金拨付及时率"].generated_code and got["资金拨付及时率"].code.startswith("IMP-GX-")
    assert got["资金拨付及时率"].data["source"] == {"document": "某省指标库", "doc_number": "某财〔2022〕3号",
                                                   "issuer": "", "url": "", "year": None, "page": ""}
    assert got["义诊人次"].data["source"]["document"] == "某活动方案"


def test_plan_as_json_for_the_pages_and_the_command(library):
    rows = [["产出指标", "数量指标", "门急诊人次", "火星医院", "个性", "甲库"]]
    plan = plan_import(library, one_sheet(HEADER + ["联系人"], [rows[0] + ["王五"]]), "p.xlsx")
    doc = json.loads(json.dumps(plan.to_dict(), ensure_ascii=False))
    assert doc["ok"] is False and doc["counts"]["errors"] == 1
    assert doc["errors"] == [{"sheet": "指标", "row": 2, "column": "行业（D列）", "message": "未知的行业（功能分类）“火星医院”"}]
    assert doc["unmapped"] == [{"sheet": "指标", "column": "G", "header": "联系人", "reason": ""}]
    assert doc["sheets"][0]["columns"]["name"] == "三级指标（C列）"


def test_generated_code_rules():
    base = {"kind": "specific", "name": "出院人次"}
    assert generated_code({**base, "sectors": ["21002", "210"]}).startswith("IMP-210-")
    assert generated_code({**base, "project_types": ["PT-PX"]}).startswith("IMP-PX-")
    assert generated_code({**base, "departments": ["D-HOSP-GEN"]}).startswith("IMP-HOSP-GEN-")
    assert generated_code({"kind": "common", "name": "出院人次"}).startswith("IMP-GX-")
    assert generated_code({**base, "sectors": ["21002"]}) != generated_code({**base, "sectors": ["205"]})
    assert normalised_name("资金到位率（％）") == normalised_name("资金到位率") == normalised_name(" 资金 到位率 ")


def test_doc_numbers_are_parsed_out_of_brackets():
    assert split_doc_number("项目支出绩效评价管理办法（财预〔2020〕10号）") == ("项目支出绩效评价管理办法", "财预〔2020〕10号")
    assert split_doc_number("湘财绩[2021]5号 某省指标库") == ("某省指标库", "湘财绩〔2021〕5号")
    assert split_doc_number("某市指标库") == ("某市指标库", "")
    assert split_doc_number("财预〔2020〕10号") == ("财预〔2020〕10号", "财预〔2020〕10号")


def test_a_row_named_like_a_draft_indicator_or_its_synonym_is_held_back_unless_confirmed(library):
    from kb.library import draft as kblib
    from tests.importer_helpers import one_sheet

    synonyms = kblib.draft_record(library, "text", "synonyms")  # the fixture library has the list
    groups = [g for g in synonyms.data.get("groups", []) if "资金到位率" not in g] + [["资金到位率", "资金拨付到位率"]]
    kblib.update_record(library, "text", "synonyms", {"data": {**synonyms.data, "groups": groups}}, synonyms.revision, user="t")
    header = ["一级指标", "二级指标", "三级指标", "计量单位", "指标类别", "来源", "行业"]
    rows = [["产出指标", "质量指标", "资金到位率", "%", "共性", "某文件", ""],          # the same name, another scope
            ["产出指标", "质量指标", "资金拨付到位率", "%", "共性", "某文件", ""],      # a synonym
            ["产出指标", "数量指标", "全新的指标名称", "个", "共性", "某文件", ""]]
    plan = plan_import(library, one_sheet(header, rows), "dups.xlsx")
    assert plan.errors == []
    reasons = {d.name: (d.other_code, d.reason) for d in plan.duplicates if d.in_draft}
    assert reasons["资金到位率"][0] == "T-001" and reasons["资金拨付到位率"] == ("T-001", "同义词")
    report = apply_import(library, plan, user="curator")
    assert [c for c in report.added["indicator"]] == [r.code for r in plan.adds if r.name == "全新的指标名称"]
    confirmed = next(r.code for r in plan.adds if r.name == "资金拨付到位率")
    again = plan_import(library, one_sheet(header, rows), "dups.xlsx")
    report = apply_import(library, again, user="curator", confirmed_duplicates=[confirmed])
    assert report.added["indicator"] == [confirmed]


def test_a_whole_library_document_carrying_the_draft_still_holds_back_a_new_row_named_like_a_draft_indicator(library):
    """An exported library carries every draft indicator; a new row named like one of them repeats the draft (held
    back unless confirmed), not merely another row of the file — and the carried rows are no duplicates of themselves."""
    from kb.library import versions

    doc = versions.export_library(library, versions.resolve(library, "draft"))
    doc["indicators"].append({"code": "T-030", "kind": "common", "level1": "产出指标", "level2": "质量指标",
                              "name": "资金到位率", "unit": "%", "source": {"document": "某文件"}, "provenance": "local"})
    plan = plan_import(library, json.dumps(doc, ensure_ascii=False, default=str).encode(), "library.json")
    assert plan.errors == []
    assert [(d.code, d.other_code, d.in_draft) for d in plan.duplicates] == [("T-030", "T-001", True)]
    report = apply_import(library, plan, user="curator")
    assert "T-030" not in report.added.get("indicator", [])

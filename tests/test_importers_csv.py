"""Reading CSV files: UTF-8 with and without BOM, GBK/GB18030, other separators."""
from __future__ import annotations

import pytest

from importers.csv_reader import decode
from importers.files import FileRejected
from importers.indicator_rows import ImportDefaults
from importers.dry_run import plan_import
from tests.importer_helpers import csv_bytes

HEADER = ["一级指标", "二级指标", "指标名称", "指标说明", "度量单位", "指标性质", "目标值", "领域", "共性个性", "政策依据"]
ROWS = [
    ["产出指标", "数量指标", "家庭医生签约人数", "签约服务的居民人数", "人", "≥", "30000", "卫生健康", "个性", "某市基本公共卫生服务项目实施方案"],
    ["产出指标", "质量指标", "慢病患者规范管理率", "规范管理的慢病患者比例", "%", "≥", "60", "公立医院", "个性", "某市基本公共卫生服务项目实施方案"],
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_are_detected(library, encoding):
    data = csv_bytes([["某市卫生健康个性指标（CSV）"], HEADER, *ROWS], encoding=encoding)
    plan = plan_import(library, data, "health.csv")
    assert plan.errors == []
    got = {r.name: r.data for r in plan.adds}
    assert set(got) == {"家庭医生签约人数", "慢病患者规范管理率"}
    assert got["家庭医生签约人数"]["definition"] == "签约服务的居民人数"
    assert got["家庭医生签约人数"]["sectors"] == ["210"] and got["慢病患者规范管理率"]["sectors"] == ["21002"]
    assert got["家庭医生签约人数"]["source"]["document"] == "某市基本公共卫生服务项目实施方案"
    assert plan.sheets[0].header_row == 2
    row = next(r for r in plan.adds if r.name == "慢病患者规范管理率")
    assert (row.sheet, row.row) == ("health.csv", 4)


def test_gbk_bytes_are_not_mistaken_for_utf8():
    text = "一级指标,二级指标,三级指标\n产出指标,数量指标,门急诊人次\n"
    assert decode(text.encode("gbk"), "a.csv") == text
    assert decode(text.encode("utf-8"), "a.csv") == text
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8"), "a.csv") == text
    assert decode(text.encode("utf-16"), "a.csv") == text


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_tab_and_semicolon_separated(library, delimiter):
    plan = plan_import(library, csv_bytes([HEADER, *ROWS], delimiter=delimiter), "health.txt")
    assert plan.errors == [] and len(plan.adds) == 2


def test_multiline_cells_and_neutralised_cells(library):
    rows = [["产出指标", "数量指标", "随访次数", "第一行\n第二行", "次", "≥", "'-5", "公立医院", "个性", "某方案"]]
    plan = plan_import(library, csv_bytes([HEADER, *rows]), "x.csv")
    assert plan.errors == []
    rec = plan.adds[0].data
    assert rec["definition"] == "第一行\n第二行"
    assert rec["reference_values"][0]["value"] == "-5"  # the apostrophe a writer added is removed


def test_csv_with_a_bad_row_reports_its_record_number(library):
    rows = [*ROWS, ["产出指标", "数量指标", "儿童保健人数", "", "人", "大约", "100", "儿童医院", "个性", "某方案"]]
    plan = plan_import(library, csv_bytes([HEADER, *rows]), "bad.csv")
    located = {(p.location, p.row, p.field) for p in plan.errors}
    assert located == {("bad.csv", 4, "指标性质（F列）"), ("bad.csv", 4, "领域（H列）")}
    assert any("儿童医院" in p.message for p in plan.errors)


def test_binary_content_in_a_csv_is_rejected(library):
    with pytest.raises(FileRejected, match="编码"):
        plan_import(library, b"\x00\x01\x02abc\x00" * 50, "x.csv")


def test_defaults_apply_to_csv_rows(library):
    header = ["一级指标", "二级指标", "三级指标"]
    plan = plan_import(library, csv_bytes([header, ["产出指标", "时效指标", "完成及时率"]]), "x.csv",
                       defaults=ImportDefaults(source_document="某办法", kind="common", provenance="adapted"))
    assert plan.errors == []
    rec = plan.adds[0].data
    assert (rec["kind"], rec["provenance"], rec["source"]["document"]) == ("common", "adapted", "某办法")

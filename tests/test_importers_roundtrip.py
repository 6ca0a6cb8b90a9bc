"""Export → import → export gives identical content (xlsx, csv, json), and
cells a spreadsheet would run as formulas are neutralised in what is written."""
from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from sqlmodel import SQLModel

from importers.dry_run import apply_import, plan_import
from importers.writers import export_indicators, export_library
from kb import db as kbdb
from kb.library import draft as kblib
from kb.library import versions
from tests.conftest import load_fixture_library
from tests.importer_helpers import cells_of, draft_snapshot

SOURCE = {"document": "某市公立医院绩效指标（试行）", "doc_number": "某卫发〔2023〕12号", "issuer": "某市卫生健康委员会",
          "url": "http://example.gov.cn/a.html", "year": 2023, "page": "第3页"}
# Every field filled, and text that spreadsheets would take for formulas.
TRICKY = [
    {"code": "R-001", "kind": "specific", "level1": "产出指标", "level2": "质量指标", "name": "门诊处方合格率（%）",
     "definition": "+ 抽查处方中合格处方所占比例", "formula": "=合格处方数/抽查处方数×100%", "unit": "%",
     "operator": "≥", "direction": "monitor", "qualitative": False,
     "reference_values": [{"value": "95", "basis": "行业标准", "note": "三级医院", "year": 2023},
                          {"value": "-5", "basis": "历史标准", "note": "@较上年变化", "year": 2022}],
     "scoring_rule": "-1分/每降低1个百分点", "data_source": "处方点评系统", "national_monitoring": True,
     "sectors": ["21002", "2100201"], "departments": ["D-HOSP-GEN"], "project_types": ["PT-PX"],
     "keywords": ["处方", "合格率"], "source": SOURCE, "provenance": "local", "certainty": "uncertain",
     "note": "\t以质控中心口径为准"},
    {"code": "R-002", "kind": "common", "level1": "效益指标", "level2": "社会效益指标", "name": "群众就医体验",
     "definition": "第一行\n第二行", "operator": "定性", "qualitative": True, "target_level1": "效益指标",
     "target_level2": "社会效益指标", "reference_values": [{"value": "达到预期", "basis": "计划标准", "note": "说明一\n说明二"}],
     "status": "superseded", "superseded_by": "T-002", "source": {"document": "'引号开头的文件名"}, "provenance": "adapted"},
    {"code": "R-003", "kind": "common", "level1": "成本指标", "level2": "经济成本指标", "name": "人均培训成本",
     "unit": "元/人·天", "operator": "≤", "direction": "down", "status": "retired",
     "reference_values": [{"value": "550", "basis": "计划标准", "note": ""}],
     "source": {"document": "中央和国家机关培训费管理办法", "doc_number": "财行〔2016〕540号"}, "provenance": "verbatim",
     "certainty": "verified"},
]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
from importers.table import HARMLESS  # noqa: E402


def _add_tricky(session) -> None:
    batch, problems = kblib.build_batch([("indicator", dict(r), "test", i) for i, r in enumerate(TRICKY, 1)])
    assert problems == []
    kblib.apply_batch(session, batch, user="test")


def _fresh_library(tmp_path):
    engine = kbdb.make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    SQLModel.metadata.create_all(engine)
    session = kbdb.session(engine)
    load_fixture_library(session)
    return engine, session


def _draft(session):
    return versions.resolve(session, versions.DRAFT)


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "json"])
def test_export_import_export_is_identical(library, tmp_path, fmt):
    _add_tricky(library)
    first = export_indicators(library, _draft(library), fmt)
    # into the same draft: nothing changes
    before = draft_snapshot(library)
    same = plan_import(library, first.data, first.filename)
    assert same.errors == [] and same.adds == [] and same.changes == [] and len(same.unchanged) == 7
    apply_import(library, same, user="test")
    assert draft_snapshot(library) == before
    # into another library that lacks the three: they are added, and export the same
    engine, other = _fresh_library(tmp_path)
    try:
        plan = plan_import(other, first.data, first.filename)
        assert plan.errors == [], plan.errors
        assert sorted(r.code for r in plan.adds) == ["R-001", "R-002", "R-003"] and len(plan.unchanged) == 4
        apply_import(other, plan, user="test")
        second = export_indicators(other, _draft(other), fmt)
        records = {i.code: kblib.record_data("indicator", i) for i in kblib.draft_records(other, "indicator")}
    finally:
        other.close()
        engine.dispose()
    if fmt == "xlsx":
        assert cells_of(second.data) == cells_of(first.data)
    else:
        assert second.data == first.data
    original = {i.code: kblib.record_data("indicator", i) for i in kblib.draft_records(library, "indicator")}
    assert records == original


def test_whole_library_json_round_trip(library, tmp_path):
    first = export_library(library, versions.resolve(library))
    engine = kbdb.make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    SQLModel.metadata.create_all(engine)
    with kbdb.session(engine) as other:
        plan = plan_import(other, first.data, first.filename)
        assert plan.errors == [] and {r.kind for r in plan.adds} >= {"sector", "indicator", "system", "quota"}
        apply_import(other, plan, user="test")
        versions.publish(other, "2024.1")
        second = export_library(other, versions.resolve(other))
    engine.dispose()
    a, b = json.loads(first.data), json.loads(second.data)
    for key in versions.EXPORT_KEYS.values():
        assert a[key] == b[key], key


def test_xlsx_cells_are_neutralised(library):
    _add_tricky(library)
    exported = export_indicators(library, _draft(library), "xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(exported.data)).active
    header = [c.value for c in ws[1]]
    rows = {row[0].value: {header[i]: c for i, c in enumerate(row)} for row in ws.iter_rows(min_row=2)}
    r1 = rows["R-001"]
    assert r1["计算公式"].value == "'=合格处方数/抽查处方数×100%" and r1["计算公式"].data_type == "s"
    assert r1["指标解释"].value == "'+ 抽查处方中合格处方所占比例"
    assert r1["评分标准"].value == "'-1分/每降低1个百分点"
    assert r1["备注"].value == "'\t以质控中心口径为准"
    assert r1["指标值"].value == "95\n-5"  # only a cell's first character matters
    assert rows["R-002"]["来源文件"].value == "''引号开头的文件名"
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            # only what cannot run is left as it is: the operator "=" alone, a signed number
            assert not (isinstance(cell.value, str) and cell.value.startswith(DANGEROUS)
                        and not HARMLESS.match(cell.value)), cell.coordinate


def test_the_operator_equals_is_shown_as_typed(library):
    """指标性质 "=" is not a formula and is not shown as "'=" (nor is a signed number), in xlsx and CSV."""
    _add_tricky(library)
    kblib.update_record(library, "indicator", "R-003", {"operator": "="}, expected_revision=1, user="test")
    exported = export_indicators(library, _draft(library), "xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(exported.data)).active
    header = [c.value for c in ws[1]]
    column = header.index("指标性质")
    cell = next(row[column] for row in ws.iter_rows(min_row=2) if row[0].value == "R-003")
    assert cell.value == "=" and cell.data_type == "s"
    csv_text = export_indicators(library, _draft(library), "csv").data.decode("utf-8-sig")
    assert ",=," in csv_text and ",'=," not in csv_text and "'=合格处方数" in csv_text


def test_csv_cells_are_neutralised_and_excel_reads_the_encoding(library):
    _add_tricky(library)
    exported = export_indicators(library, _draft(library), "csv")
    assert exported.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"), newline="")))
    cells = [cell for row in rows for cell in row]
    assert "'=合格处方数/抽查处方数×100%" in cells and "'@较上年变化" not in cells
    assert not [c for c in cells if c.startswith(DANGEROUS) and not HARMLESS.match(c)]
    r1 = next(row for row in rows if row[0] == "R-001")
    assert r1[rows[0].index("行业")] == "21002 公立医院、2100201 综合医院"
    assert r1[rows[0].index("指标值说明")] == "三级医院\n@较上年变化"


def test_written_tables_use_the_alias_tables_headers(library):
    from importers.aliases import alias_table

    exported = export_indicators(library, versions.resolve(library), "csv")
    header = next(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert header == [c.header for c in alias_table().columns]


def test_library_xlsx_has_a_filter_a_frozen_header_and_wrapped_long_text(library):
    _add_tricky(library)
    exported = export_indicators(library, _draft(library), "xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(exported.data)).active
    header = [c.value for c in ws[1]]
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}{ws.max_row}"
    assert ws.freeze_panes == "D2"
    for name in ("指标解释", "计算公式"):
        column = openpyxl.utils.get_column_letter(header.index(name) + 1)
        assert ws.column_dimensions[column].width >= 36
        cells = [row[header.index(name)] for row in ws.iter_rows(min_row=2) if row[header.index(name)].value]
        assert cells and all(c.alignment.wrap_text for c in cells), name
    name_column = header.index("三级指标") if "三级指标" in header else header.index("指标名称")
    assert not any(row[name_column].alignment.wrap_text for row in ws.iter_rows(min_row=2))

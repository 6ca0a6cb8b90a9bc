"""`zhibiao import` and `zhibiao export --format csv|xlsx`."""
from __future__ import annotations

import json

import openpyxl
import pytest

from tests.conftest import FIXTURE_LIBRARY
from tests.importer_helpers import csv_bytes, education_sheet, health_sheet, workbook_bytes, write


@pytest.fixture
def run(cli):
    _run = cli
    assert _run("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1")[0] == 0
    return _run


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _city(tmp_path):
    def build(wb):
        health_sheet(wb.create_sheet("卫生健康"))
        education_sheet(wb.create_sheet("教育"))
    return write(tmp_path / "city.xlsx", workbook_bytes(build))


def _draft_changes(run) -> list:
    code, out, _ = run("diff", "2024.1", "draft", "--json")
    assert code == 0
    return json.loads(out)["changes"]


def test_dry_run_then_import(run, tmp_path):
    city = _city(tmp_path)
    code, out, err = run("import", str(city), "--dry-run", "--json", "--source-document", "某市指标库（某卫发〔2024〕5号）")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["counts"]["adds"] == 6 and plan["counts"]["duplicates"] == 1 and plan["applied"] is False
    assert plan["ignored"][0]["header"] == "序号"
    assert _draft_changes(run) == []
    code, out, err = run("import", str(city), "--source-document", "某市指标库（某卫发〔2024〕5号）")
    assert code == 0, err
    # the row that duplicates T-003 is held back until the curator says it is another indicator
    assert "新增 5 条" in out and "重复" in out and "T-003" in out and "--allow-duplicates" in out
    assert len(_draft_changes(run)) == 5
    code, out, err = run("import", str(city), "--source-document", "某市指标库（某卫发〔2024〕5号）", "--allow-duplicates")
    assert code == 0 and "新增 1 条" in out, err
    changes = _draft_changes(run)
    assert len(changes) == 6 and {c["change"] for c in changes} == {"added"}


def test_import_with_errors_exits_1_with_one_line_and_changes_nothing(run, tmp_path):
    header = ["一级指标", "二级指标", "三级指标", "指标性质", "行业", "指标类别"]
    bad = write(tmp_path / "bad.csv", csv_bytes([header, ["产出指标", "数量指标", "出院人次", "大约", "公立医院", "个性"]], "gbk"))
    code, out, err = run("import", str(bad), "--kind", "specific")
    assert code == 1
    assert "处错误" in _one_line(err)
    assert "bad.csv 第2行 指标性质（D列）" in out and "缺少来源文件" in out
    assert _draft_changes(run) == []
    code, out, err = run("import", str(bad), "--json", "--source-document", "某库")
    assert code == 1 and _one_line(err)
    assert json.loads(out)["errors"][0]["column"] == "指标性质（D列）"
    renamed = write(tmp_path / "fake.xlsx", "不是工作簿".encode())
    code, _, err = run("import", str(renamed))
    assert code == 1 and "改了扩展名" in _one_line(err)


def test_import_one_sheet_with_a_default_kind(run, tmp_path):
    code, out, err = run("import", str(_city(tmp_path)), "--sheet", "教育", "--source-document", "某库", "--kind", "specific")
    assert code == 0, err
    assert [c["name"] for c in _draft_changes(run)] == ["资助学生人数"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_table_reads_back_unchanged(run, tmp_path, fmt):
    target = tmp_path / f"table.{fmt}"
    code, out, err = run("export", "--format", fmt, "--version", "2024.1", "--output", str(target))
    assert code == 0, err
    assert "4 条指标" in out
    if fmt == "xlsx":
        ws = openpyxl.load_workbook(target).active
        assert ws["A1"].value == "指标编码" and ws.max_row == 5
    code, out, err = run("import", str(target), "--json")
    assert code == 0, err
    assert json.loads(out)["counts"] == {"adds": 0, "changes": 0, "unchanged": 4, "duplicates": 0, "errors": 0, "unmapped": 0}

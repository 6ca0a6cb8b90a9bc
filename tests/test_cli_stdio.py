"""`-` for standard input and output wherever the `zhibiao` command takes a file, and the progress of long
commands: on stderr, on a terminal only, never with --json."""
from __future__ import annotations

import io
import json
import sys
from types import SimpleNamespace

import pytest

from importers.target_xlsx import write_table
from importers.writers import export_indicators
from kb.library import versions
from kb.targets.schema import load_table
from tests.importer_helpers import csv_bytes
from tests.scoring_helpers import SYSTEM, twelve_hospitals
from tests.test_monitoring import ROAD, YEAR_END

NEW_ROW = ["指标编码", "指标类别", "一级指标", "二级指标", "三级指标", "计量单位", "指标性质", "行业", "来源文件"]
NEW_CSV = csv_bytes([NEW_ROW, ["STDIN-001", "个性", "产出指标", "数量指标", "管道导入测试人次", "人次", "≥", "21002", "测试"]])
CASES_CSV = ("案例编码,项目名称,功能分类,来源网址,来源性质,可靠程度,一级指标,二级指标,三级指标,指标值,度量单位\n"
             "CASE-T-301,某县禁毒经费,204,http://example.gov.cn/1.html,verbatim,verified,产出指标,数量指标,禁毒宣传次数,12,次\n"
             ).encode()


def _stdin(monkeypatch, data: bytes) -> None:
    # what a pipe gives: bytes under .buffer (the text layer would mangle a workbook)
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(data)))


def _terminal(monkeypatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)


def _table_bytes(doc: dict, tmp_path, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")
    path = tmp_path / "t.xlsx"
    write_table(load_table(doc), path)
    return path.read_bytes()


# --- standard input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["xlsx", "csv", "json"])
@pytest.mark.parametrize("say", [False, True], ids=["sniffed", "--format"])
def test_import_reads_standard_input_in_each_format(cli, library, monkeypatch, fmt, say):
    version = versions.resolve(library, "2024.1")
    if fmt == "json":
        data = json.dumps(versions.export_library(library, version), ensure_ascii=False, default=str).encode("utf-8")
    else:
        data = export_indicators(library, version, fmt).data
    _stdin(monkeypatch, data)
    code, out, err = cli("import", "-", "--dry-run", "--json", *(["--format", fmt] if say else []))
    assert code == 0, err
    plan = json.loads(out)
    assert plan["format"] == fmt and plan["filename"] == f"标准输入.{fmt}"
    assert plan["ok"] and plan["counts"]["unchanged"] >= 4 and plan["counts"]["errors"] == 0


def test_import_from_standard_input_writes_the_draft(cli, library, monkeypatch):
    _stdin(monkeypatch, NEW_CSV)
    code, out, err = cli("import", "-")
    assert code == 0 and "新增 1 条" in out, err
    code, out, _ = cli("diff", "2024.1", "draft", "--json")
    assert [c["code"] for c in json.loads(out)["changes"]] == ["STDIN-001"]


@pytest.mark.parametrize("data, args, words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", (), "无法判断标准输入的格式"),
    (b"", (), "是空的"),
    (NEW_CSV, ("--format", "xlsx"), "不是有效的 Excel 工作簿"),
    (b"[1, 2", ("--format", "json"), "JSON 格式错误"),
])
def test_import_says_what_is_wrong_with_standard_input(cli, library, monkeypatch, data, args, words):
    _stdin(monkeypatch, data)
    code, out, err = cli("import", "-", "--dry-run", *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and words in lines[-1], err
    assert lines[-1].startswith("错误：") and "Traceback" not in err


@pytest.mark.parametrize("fmt", ["json", "xlsx"])
def test_check_monitor_and_evaluate_read_standard_input(cli, tmp_path, monkeypatch, fmt):
    for command, doc in (("check", ROAD), ("monitor", ROAD), ("evaluate", YEAR_END)):
        data = _table_bytes(doc, tmp_path, fmt)
        named = tmp_path / f"table.{fmt}"
        named.write_bytes(data)
        code, from_file, err = cli(command, str(named), "--json")
        assert code == 0, (command, err)
        _stdin(monkeypatch, data)
        code, from_stdin, err = cli(command, "-", "--json")
        assert code == 0, (command, err)
        assert json.loads(from_stdin) == json.loads(from_file), command


def test_a_target_table_command_refuses_what_it_cannot_read(cli, monkeypatch):
    _stdin(monkeypatch, NEW_CSV)
    code, _, err = cli("check", "-")
    assert code == 1 and "像是 CSV" in err and ".xlsx 工作簿或 JSON" in err and "--format" in err
    _stdin(monkeypatch, b"\x00\x01\x02 not a table")
    code, _, err = cli("evaluate", "-")
    assert code == 1 and "无法判断标准输入的格式" in err


def test_cases_import_reads_standard_input(cli, seeded_db, monkeypatch):
    _stdin(monkeypatch, CASES_CSV)
    code, out, err = cli("cases", "import", "-", "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == ["CASE-T-301"] and json.loads(out)["file"] == "标准输入.csv"


def test_systems_score_reads_standard_input(cli, seeded_db, monkeypatch):
    _stdin(monkeypatch, json.dumps({"units": twelve_hospitals()}, ensure_ascii=False).encode("utf-8"))
    code, out, err = cli("systems", "score", SYSTEM, "-", "--json")
    assert code == 0, err
    assert len(json.loads(out)["units"]) == 12


def test_backup_to_standard_output_restores_from_standard_input(cli, library, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a file named "-" would land
    code, out, err = cli("backup", "-")
    assert code == 0 and err == "", err
    doc = json.loads(out)
    assert doc["format"] == "zhibiao-backup" and len(doc["tables"]["version"]) == 1
    assert not (tmp_path / "-").exists()
    code, _, err = cli("backup", "-", "--json")
    assert code == 2 and "--json" in err
    # into another, empty database
    monkeypatch.setenv("ZHIBIAO_DATABASE_URL", f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    monkeypatch.setenv("ZHIBIAO_DATA_DIR", str(tmp_path / "restored"))
    _stdin(monkeypatch, out.encode("utf-8"))
    code, restored, err = cli("restore", "-", "--json")
    assert code == 0, err
    assert json.loads(restored)["rows"] == sum(len(rows) for rows in doc["tables"].values())
    code, out, _ = cli("versions", "--json")
    assert [v["label"] for v in json.loads(out)["versions"]] == ["2024.1"]


# --- progress on a terminal -----------------------------------------------------------------------------

def test_long_commands_show_progress_on_a_terminal(cli, library, tmp_path, monkeypatch):
    _terminal(monkeypatch)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "new.csv"
    path.write_bytes(NEW_CSV)
    code, out, err = cli("import", str(path))
    assert code == 0 and "… 读取 new.csv" in err and "1/1 行" in err and "… 写入草稿" in err, err
    assert "读取" not in out  # stdout holds the result alone
    code, _, err = cli("reindex")
    assert code == 0 and "… 重建 2024.1 的索引 [####################] 4/4 条" in err, err
    backup = tmp_path / "b.json"
    code, out, err = cli("backup", str(backup))
    assert code == 0 and "… 备份 [" in err and "秒）" in err, err
    # a backup to standard output keeps its progress on stderr, out of the data
    code, out, err = cli("backup", "-")
    assert code == 0 and "… 备份 [" in err and json.loads(out)["format"] == "zhibiao-backup"
    monkeypatch.setenv("ZHIBIAO_DATABASE_URL", f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    code, out, err = cli("restore", str(backup))
    assert code == 0 and "… 恢复 [####################]" in err and "已恢复" in out, err


def test_init_and_cases_import_show_progress_on_a_terminal(cli, tmp_path, monkeypatch):
    from tests.conftest import FIXTURE_LIBRARY

    _terminal(monkeypatch)
    code, _, err = cli("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1")
    assert code == 0 and "… 建表（" in err and "… 载入" in err and "条（" in err, err
    path = tmp_path / "cases.csv"
    path.write_bytes(CASES_CSV.replace(b",204,", b",21002,"))
    code, out, err = cli("cases", "import", str(path), "--dry-run")
    assert code == 0, err
    assert "… 读取并检查 cases.csv 中的案例 [####################] 1/1 个" in err and "… 试运行" in err


def test_no_progress_with_json_or_off_a_terminal(cli, library, tmp_path, monkeypatch):
    path = tmp_path / "new.csv"
    path.write_bytes(NEW_CSV)
    backup = tmp_path / "b.json"
    # not a terminal: nothing on stderr
    assert cli("import", str(path), "--dry-run")[2] == ""
    assert cli("backup", str(backup))[2] == ""
    # a terminal, but --json: a script wants the result alone
    _terminal(monkeypatch)
    for args in (("import", str(path), "--json"), ("reindex", "--json"), ("backup", str(backup), "--json")):
        code, out, err = cli(*args)
        assert code == 0 and err == "", (args, err)
        json.loads(out)
    monkeypatch.setenv("ZHIBIAO_DATABASE_URL", f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    code, out, err = cli("restore", str(backup), "--json")
    assert code == 0 and err == "" and json.loads(out)["rows"] > 0, err


@pytest.mark.parametrize("data, fmt", [
    (b"PK\x03\x04rest of a workbook", "xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old .xls", "xlsx"),  # then refused as .xls by file_format, by name
    (b"\xef\xbb\xbf \n {\"indicators\": []}", "json"),
    (b"\n\t[1]", "json"),
    ("[1]".encode("utf-16"), "json"),
    ("三级指标,计量单位\n门诊人次,人次\n".encode("gbk"), "csv"),
    ("三级指标\t计量单位\n".encode("utf-16"), "csv"),
    (b"\x89PNG\r\n\x1a\n", None),
    (b"abc\x00def", None),
    (b"   \n", None),
])
def test_the_format_of_standard_input_is_told_from_its_bytes(data, fmt):
    from importers.files import sniff_format

    assert sniff_format(data) == fmt

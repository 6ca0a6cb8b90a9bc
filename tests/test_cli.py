"""The `zhibiao` command: happy paths and one-line errors."""
from __future__ import annotations

import json

import pytest

from api.cli import main
from tests.conftest import FIXTURE_LIBRARY


@pytest.fixture
def run(cli):
    return cli


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_init_versions_publish_diff_history_export(run, tmp_path):
    code, out, err = run("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1")
    assert code == 0, err
    code, out, _ = run("versions", "--json")
    assert json.loads(out)["versions"][0]["label"] == "2024.1"
    code, out, _ = run("publish", "2024.2", "--notes", "无变化的再发布")
    assert code == 0 and "2024.2" in out
    code, out, _ = run("diff", "2024.1", "2024.2", "--json")
    assert code == 0 and json.loads(out)["changes"] == []
    code, out, _ = run("history", "T-001", "--json")
    assert json.loads(out)["revisions"][0]["versions"] == ["2024.1", "2024.2"]
    target = tmp_path / "lib.json"
    code, out, _ = run("export", "--format", "json", "--version", "2024.1", "--output", str(target))
    assert code == 0
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["version"] == "2024.1" and len(doc["indicators"]) == 4
    code, out, err = run("init", "--from", str(FIXTURE_LIBRARY))
    assert code != 0 and "--force" in _one_line_error(err)
    assert run("init", "--if-empty")[0] == 0


def test_bad_input_exits_nonzero_with_one_line(run):
    assert run("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1")[0] == 0
    for args, words in [
        (("publish", "第一版"), "格式不对"),
        (("publish", "2024.1"), "已发布过"),
        (("diff", "2024.1", "2099.1"), "未找到版本"),
        (("history", "NO-SUCH-CODE"), "未找到指标"),
        (("export", "--format", "json", "--version", "1999.1", "--output", "x.json"), "未找到版本"),
        (("export", "--format", "pdf", "--output", "x.pdf"), "pdf"),
        (("no-such-command",), "no-such-command"),
    ]:
        code, _, err = run(*args)
        assert code != 0, args
        assert words in _one_line_error(err), (args, err)


def test_missing_database_is_reported_and_not_created(tmp_path, monkeypatch, capsys):
    db_file = tmp_path / "absent" / "zhibiao.sqlite3"
    monkeypatch.setenv("ZHIBIAO_DATABASE_URL", f"sqlite:///{db_file}")
    with pytest.raises(SystemExit) as info:
        main(["versions"])
    assert info.value.code != 0
    assert "zhibiao init" in _one_line_error(capsys.readouterr().err)
    assert not db_file.exists()


def test_unreadable_database_is_reported(tmp_path, monkeypatch, capsys):
    db_file = tmp_path / "zhibiao.sqlite3"
    db_file.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("ZHIBIAO_DATABASE_URL", f"sqlite:///{db_file}")
    with pytest.raises(SystemExit) as info:
        main(["versions"])
    assert info.value.code != 0
    assert "数据库" in _one_line_error(capsys.readouterr().err)


def test_refused_publish_lists_problems_on_stdout_and_one_line_on_stderr(run, monkeypatch):
    assert run("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1")[0] == 0
    from kb.library import gates
    from kb.errors import Problem

    monkeypatch.setattr(gates, "check_records", lambda records: [Problem("权重合计为 90，应为 100", "权重")])
    code, out, err = run("publish", "2024.2")
    assert code != 0 and "权重合计" in out and "未发布" in _one_line_error(err)


def test_quota_command_finds_standards(run):
    assert run("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1")[0] == 0
    code, out, _ = run("quota", "三类", "--json")
    assert code == 0
    found = json.loads(out)["quotas"]
    assert [q["code"] for q in found] == ["Q-T-1"] and found[0]["amount"] == 550
    code, out, _ = run("quota", "不存在的标准")
    assert code == 0 and "0 项" in out
    code, _, err = run("quota", "会议", "--version", "1999.1")
    assert code != 0 and "未找到版本" in _one_line_error(err)


def test_a_bad_setting_is_named_in_one_line(run, monkeypatch):
    assert run("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1")[0] == 0
    for value in ("ten", "0", "-5"):
        monkeypatch.setenv("ZHIBIAO_MAX_UPLOAD_MB", value)
        code, _, err = run("versions")
        assert code != 0 and "ZHIBIAO_MAX_UPLOAD_MB" in _one_line_error(err), value
    monkeypatch.setenv("ZHIBIAO_MAX_UPLOAD_MB", "0.5")
    assert run("versions")[0] == 0


def test_quota_calc_gives_the_calculator_pages_answer(run):
    """The calculator lives in kb (kb.targets.quota_calculator): the command answers what /quotas/calculator does."""
    assert run("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1")[0] == 0
    code, out, err = run("quota-calc", "Q-T-1", "--people", "一百", "--days", "2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["total_yuan"] == 550 * 2 * 100 and data["version"] == "2024.1"
    assert data["factors"] == [{"value": 2, "what": "天"}, {"value": 100, "what": "人"}]
    code, out, _ = run("quota-calc", "Q-T-1", "--people", "100", "--days", "2")
    assert code == 0 and "110000" in out and "三类会议综合定额" in out
    code, _, err = run("quota-calc", "Q-T-1", "--people", "100")
    assert code != 0 and "请填写天数" in _one_line_error(err)
    code, _, err = run("quota-calc", "Q-T-1", "--people", "abc", "--days", "2")
    assert code != 0 and "人数“abc”应为大于0的数字" in _one_line_error(err)

"""The command line in one language, with --json where a script needs it
(issue 16): Chinese help for every command and option, click's own errors in
Chinese, none of Flask's options or extension commands in the help, --json on
the commands that change things, `export --output -` to stdout, and an import
plan that does not print every row."""
from __future__ import annotations

import json
import re

import click
import pytest

from api.cli import cli as zhibiao
from tests.conftest import FIXTURE_LIBRARY

CJK = re.compile(r"[\u4e00-\u9fff]")


def _walk(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, path + (name,))


def test_help_is_chinese_and_only_zhibiao_s(cli):
    code, out, _ = cli("--help")
    assert code == 0 and out.startswith("用法： zhibiao [选项] 命令 [参数]...")
    for leaked in ("--env-file", "-A, --app", "--debug", "limiter", "openapi"):
        assert leaked not in out
    assert "显示本帮助并退出" in out
    for path, command in _walk(zhibiao):
        assert CJK.search(command.help or ""), f"zhibiao {' '.join(path)} has no Chinese help"
        for param in command.params:
            if isinstance(param, click.Option):
                assert CJK.search(param.help or ""), f"zhibiao {' '.join(path)} {param.opts[0]} has no Chinese help"


@pytest.mark.parametrize("args, message", [
    (("versions", "--jsno"), "错误：没有选项 '--jsno'。 您是否想用 '--json'？"),
    (("exprot",), "错误：没有命令 'exprot'。 您是否想用 'export'？"),
    (("check",), "错误：缺少参数 'FILE'。"),
    (("export", "--format", "pdf", "--output", "x"), "错误：'--format' 的值不正确：'pdf' 不在可选值 'json', 'csv', 'xlsx' 之中。"),
    (("serve", "--port", "八千"), "错误：'--port' 的值不正确：'八千' 不是有效的整数。"),
    (("versions", "extra"), "错误：多余的参数（extra）"),
])
def test_click_s_own_errors_are_chinese(cli, args, message):
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert err.strip() == message


def test_commands_that_change_things_answer_json(cli, tmp_path):
    code, out, err = cli("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["initialised"] is True and body["version"]["label"] == "2024.1" and body["loaded"] > 0
    assert err == ""  # steps are shown on a terminal only, and never with --json
    assert json.loads(cli("init", "--if-empty", "--json")[1])["initialised"] is False

    assert json.loads(cli("publish", "2024.2", "--json")[1])["label"] == "2024.2"
    exported = json.loads(cli("export", "--format", "json", "--output", str(tmp_path / "lib.json"), "--json")[1])
    assert exported["version"] == "2024.2" and exported["indicators"] > 0 and (tmp_path / "lib.json").exists()
    assert json.loads(cli("reindex", "--json")[1])["version"] == "2024.2"
    backed = json.loads(cli("backup", str(tmp_path / "b.json.gz"), "--json")[1])
    assert backed["rows"] > 0 and backed["tables"]["version"] == 2
    user = json.loads(cli("user", "create", "王五", "--role", "curator", "--password", "pw-123456789", "--json")[1])
    assert user == {"name": "王五", "role": "curator"}
    key = json.loads(cli("apikey", "create", "预算一体化", "--scopes", "read,suggest", "--json")[1])
    assert key["token"].startswith("zb_") and key["scopes"] == ["read", "suggest"]


def test_export_to_stdout(cli, tmp_path, monkeypatch):
    assert cli("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1")[0] == 0
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("export", "--format", "json", "--output", "-")
    assert code == 0, err
    assert json.loads(out)["version"] == "2024.1"
    assert not (tmp_path / "-").exists()
    code, _, err = cli("export", "--format", "json", "--output", "-", "--json")
    assert code == 2 and "不能再加 --json" in err


def test_a_large_import_plan_is_summed_up(cli, tmp_path):
    assert cli("init", "--from", str(FIXTURE_LIBRARY), "--label", "2024.1")[0] == 0
    rows = ["指标编码,指标类别,一级指标,二级指标,三级指标,计量单位,指标性质,行业,来源文件"]
    rows += [f"BULK-{n:03d},个性,产出指标,数量指标,批量测试指标{n:03d}号,个,≥,21002,批量测试" for n in range(60)]
    path = tmp_path / "bulk.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    code, out, err = cli("import", str(path), "--dry-run")
    assert code == 0, err
    assert len([line for line in out.splitlines() if line.startswith("+ BULK-")]) == 20
    assert "……另有 40 条新增" in out and "新增 60" in out
    code, out, _ = cli("import", str(path), "--dry-run", "--verbose")
    assert len([line for line in out.splitlines() if line.startswith("+ BULK-")]) == 60


def test_every_command_that_reports_something_has_json():
    without = [" ".join(path) for path, command in _walk(zhibiao)
               if not getattr(command, "commands", None) and path and path != ("serve",)
               and not any(getattr(p, "name", "") == "as_json" for p in command.params)]
    assert without == []

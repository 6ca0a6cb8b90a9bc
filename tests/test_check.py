"""kb.targets.check: every rule with a table that triggers it and one that does not,
the fixes it proposes, the grade and its meaning, and bad input."""
from __future__ import annotations

import re

import pytest

from kb.targets.check import RULES, check
from kb.dimensions import dimensions
from kb.errors import KbError
from kb.targets.schema import load_table
from tests.target_helpers import good_table


@pytest.fixture
def lib(targets_db):
    return targets_db


def _rows(table: dict) -> list[dict]:
    return table["indicators"]


def _find(table: dict, name: str) -> dict:
    return next(r for r in _rows(table) if r["name"] == name)


# Each case: (rule, severity, how the good table is spoiled, needs the library).
def _no_goal(t):
    t["goal"] = ""


def _no_satisfaction(t):
    t["indicators"] = [r for r in _rows(t) if r["level1"] != "满意度指标"]


def _no_time_row(t):
    t["indicators"] = [r for r in _rows(t) if r["level2"] != "时效指标"]


def _no_unit(t):
    _find(t, "培训合格率")["unit"] = ""


def _duplicate(t):
    _rows(t).append(dict(_find(t, "培训合格率")))


def _not_a_number(t):
    _find(t, "培训合格率")["value"] = "较高"


def _vague(t):
    _find(t, "培训参加人数").update(value="明显提升", unit="人")


def _over_100(t):
    _find(t, "培训合格率")["value"] = "120"


def _irrelevant(t):
    _rows(t).append({"level1": "产出指标", "level2": "数量指标", "name": "道路硬化里程", "operator": "≥", "value": "100", "unit": "公里"})


def _money_as_output(t):
    _rows(t).append({"level1": "产出指标", "level2": "数量指标", "name": "培训资金投入", "operator": "=", "value": "45", "unit": "万元"})


def _bad_basis(t):
    _find(t, "培训合格率")["basis"] = "拍脑袋"


def _wrong_direction(t):
    _rows(t).append({"level1": "产出指标", "level2": "质量指标", "name": "培训安全事故发生率", "operator": "≥", "value": "0", "unit": "%"})


def _over_budget(t):
    _find(t, "项目总成本")["value"] = "60"


def _over_quota(t):
    _find(t, "人均培训成本")["value"] = "3000"


def _inflated_self_score(t):
    """A self-evaluation: every target met but the pupils trained, and the unit claims full marks for that row."""
    t["project"].update(budget_executed_wan_yuan=44, as_of="2024-12-31")
    for r in _rows(t):
        r["actual"] = r["value"]
    _find(t, "培训参加人数").update(actual="120", self_score=10)


CASES = [
    ("C01", "error", _no_goal, False),
    ("C02", "error", _no_satisfaction, False),
    ("C03", "error", _no_time_row, False),
    ("C04", "error", _no_unit, False),
    ("C05", "warning", _duplicate, False),
    ("C06", "error", _not_a_number, False),
    ("C07", "warning", _vague, False),
    ("C08", "error", _over_100, False),
    ("C09", "warning", _irrelevant, False),
    ("C10", "error", _money_as_output, False),
    ("C11", "warning", _bad_basis, False),
    ("C12", "error", _wrong_direction, False),
    ("C13", "error", _over_budget, False),
    ("C14", "error", _over_quota, True),
    ("C15", "warning", _inflated_self_score, False),
]


def test_every_rule_has_a_case():
    assert [r for r, _ in RULES] == [c[0] for c in CASES]


def test_the_good_table_passes_with_and_without_the_library(lib):
    for result in (check(load_table(good_table())), check(load_table(good_table()), lib)):
        assert result.grade == "优", result.findings
        assert [f.rule for f in result.findings] == ["C16"]
        assert result.meaning == dimensions().grades[0][2]


@pytest.mark.parametrize("rule,severity,spoil,needs_library", CASES, ids=[c[0] for c in CASES])
def test_rule_triggers_on_a_spoiled_table_only(lib, rule, severity, spoil, needs_library):
    good = check(load_table(good_table()), lib)
    assert rule not in good.rules()
    spoiled = good_table()
    spoil(spoiled)
    result = check(load_table(spoiled), lib)
    assert rule in result.rules(severity), [(f.rule, f.severity, f.message) for f in result.findings]
    if not needs_library:
        assert rule in check(load_table(spoiled)).rules(severity)
    finding = next(f for f in result.findings if f.rule == rule)
    assert re.search(r"[\u4e00-\u9fff]", finding.message) and "None" not in finding.message


def test_quota_rules_need_the_library():
    spoiled = good_table()
    _over_quota(spoiled)
    assert "C14" not in check(load_table(spoiled)).rules()


# --- fixes -----------------------------------------------------------------------------------

def _finding(result, rule):
    return next(f for f in result.findings if f.rule == rule)


def test_missing_dimension_fix_is_the_project_types_library_indicator(lib):
    t = good_table()
    _no_satisfaction(t)
    fix = _finding(check(load_table(t), lib), "C02").fix
    assert fix.row.name == "受训学员满意度" and fix.source == "GX-PX-007"
    assert (fix.row.operator, fix.row.value, fix.row.unit) == ("≥", "90", "%")
    t = good_table()
    _no_time_row(t)
    fix = _finding(check(load_table(t), lib), "C03").fix
    assert fix.row.name == "培训计划完成时间" and fix.row.value == "12月31日前"


def test_fix_of_a_cost_over_the_quota_is_the_quota_amount(lib):
    t = good_table()
    _over_quota(t)
    finding = _finding(check(load_table(t), lib), "C14")
    assert finding.row == 5 and "三类培训综合定额" in finding.message
    assert finding.fix.source == "Q-PXF-2016-3"
    assert finding.fix.row.value == "2750"  # 550 元/人·天 × 5 天
    assert "550" in finding.fix.message and "财行〔2016〕540号" in finding.fix.message


def test_per_day_cost_over_the_quota(lib):
    t = good_table()
    _rows(t).append({"level1": "成本指标", "level2": "经济成本指标", "name": "人均每天培训费", "operator": "≤",
                     "value": "800", "unit": "元/人·天"})
    finding = _finding(check(load_table(t), lib), "C14")
    assert finding.fix.row.value == "550"


def test_meeting_longer_than_two_days_is_flagged(lib):
    t = {"project": {"name": "全市卫生健康工作会议", "description": "召开三类会议1次，100人，会期3天", "budget_wan_yuan": 20},
         "goal": "召开全市卫生健康工作会议，部署年度重点工作。",
         "indicators": [{"level1": "产出指标", "level2": "时效指标", "name": "会期", "operator": "≤", "value": "3", "unit": "天"}]}
    rules = check(load_table(t), lib)
    assert any(f.rule == "C14" and "2天" in f.message for f in rules.findings)


def test_other_fixes(lib):
    t = good_table()
    _wrong_direction(t)
    fix = _finding(check(load_table(t), lib), "C12").fix
    assert fix.row.operator == "≤" and fix.row.name == "培训安全事故发生率"
    t = good_table()
    _money_as_output(t)
    fix = _finding(check(load_table(t), lib), "C10").fix
    assert (fix.row.level1, fix.row.level2) == ("成本指标", "经济成本指标")
    t = good_table()
    _not_a_number(t)
    fix = _finding(check(load_table(t), lib), "C06").fix
    assert fix.row.value == "90" and fix.source == "GX-PX-004"  # the library's 培训合格率 ≥ 90 %
    t = good_table()
    _no_goal(t)
    fix = _finding(check(load_table(t), lib), "C01").fix
    assert "培训参加人数≥160人" in fix.text
    t = good_table()
    _irrelevant(t)
    finding = next(f for f in check(load_table(t), lib).findings if f.rule == "C09" and f.row)
    assert finding.row == 9 and finding.fix.row is not None


def test_value_below_the_libraries_historical_standard(lib):
    t = {"project": {"name": "基本公共卫生服务补助", "description": "居民健康档案管理", "sector": "公共卫生"},
         "goal": "按标准开展国家基本公共卫生服务项目。",
         "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "居民电子健康档案建档率", "operator": "≥",
                         "value": "60", "unit": "%"}]}
    finding = _finding(check(load_table(t), lib), "C11")
    assert "历史标准" in finding.message and finding.fix.row.value == "80"
    t["indicators"][0]["value"] = "85"
    assert "C11" not in check(load_table(t), lib).rules()


def test_unknown_sector_is_a_finding_not_an_exception(lib):
    t = good_table()
    t["project"]["sector"] = "不存在的行业"
    result = check(load_table(t), lib)
    assert any(f.rule == "C09" and "不存在的行业" in f.message for f in result.findings)


# --- the grade ------------------------------------------------------------------------------------

def test_grades_follow_the_bureaus_bands(lib):
    bands = {g: meaning for g, _, meaning in dimensions().grades}
    one_error = good_table()
    _over_100(one_error)
    result = check(load_table(one_error), lib)
    assert result.grade == "良" and result.meaning == bands["良"] and "修改" in result.meaning
    bare = {"project": {"name": "某项目"}, "indicators": [{"name": "资金", "value": "很多"}]}
    result = check(load_table(bare), lib)
    assert result.grade == "差" and result.meaning == bands["差"]
    assert result.findings[-1].rule == "C16" and "差" in result.findings[-1].message


def test_json_shape(lib):
    body = check(load_table(good_table()), lib).to_dict()
    assert body["grade"] == "优" and body["version"] == "2024.1"
    assert set(body["findings"][0]) >= {"rule", "severity", "message", "row"}
    t = good_table()
    _over_quota(t)
    finding = next(f for f in check(load_table(t), lib).to_dict()["findings"] if f["rule"] == "C14")
    assert finding["fix"]["row"]["value"] == "2750" and finding["fix"]["source"] == "Q-PXF-2016-3"


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,words", [
    ({"project": {"description": "无名称"}}, "名称"),
    ({"project": {"name": "   "}}, "名称"),
    ({"project": {"name": "某项目", "budget_wan_yuan": "很多"}}, "预算金额"),
    ({"project": {"name": "某项目", "budget_wan_yuan": -5}}, "预算金额"),
    ({"project": {"name": "某项目", "expenditure_type": "其他"}}, "支出类型"),
    ({"project": {"name": "某项目"}, "indicators": "x"}, "绩效指标"),
    ({"project": {"name": "某项目"}, "indicators": [{"name": "甲", "value": True}]}, "指标值"),
    ({"goal": "只有目标"}, "项目信息"),
    ([], "JSON 对象"),
])
def test_bad_tables_are_refused_with_a_chinese_message(raw, words):
    with pytest.raises(KbError) as info:
        load_table(raw)
    assert words in info.value.message


def test_operators_and_values_as_drafters_write_them_are_read():
    t = load_table({"project": {"name": "某项目", "budget_wan_yuan": "50万元"},
                    "indicators": [{"level1": "产出", "level2": "数量", "name": "培训人数", "value": "≥100人"},
                                   {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "满意度", "operator": ">=", "value": 95}]})
    assert t.project.budget_wan_yuan == 50
    first, second = t.indicators
    assert (first.level1, first.level2, first.operator, first.value, first.unit) == ("产出指标", "数量指标", "≥", "100", "人")
    assert (second.operator, second.value) == ("≥", "95")


# --- the command line ----------------------------------------------------------------------------

@pytest.fixture
def run(cli):
    return cli


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_cli_check_json_and_xlsx(run, tmp_path):
    import json

    from importers.target_xlsx import write_table
    from tests.target_helpers import merged_library_dir

    spoiled = good_table()
    _over_quota(spoiled)
    as_json = tmp_path / "t.json"
    as_json.write_text(json.dumps(spoiled, ensure_ascii=False), encoding="utf-8")
    as_xlsx = tmp_path / "t.xlsx"
    write_table(load_table(spoiled), as_xlsx)
    # without a library: the rules that need none still run
    code, out, err = run("check", str(as_json), "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["version"] is None and "C14" not in {f["rule"] for f in body["findings"]}
    assert run("init", "--from", str(merged_library_dir(tmp_path)), "--label", "2024.1")[0] == 0
    code, out, err = run("check", str(as_json), "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["grade"] == "良" and body["version"] == "2024.1"
    assert any(f["rule"] == "C14" and f["row"] == 5 and f["fix"]["row"]["value"] == "2750" for f in body["findings"])
    code, out, _ = run("check", str(as_xlsx), "--json")
    assert json.loads(out)["findings"] == body["findings"]
    code, out, _ = run("check", str(as_xlsx))
    assert code == 0 and "审核等级：良" in out and "[C14 错误] 第5行" in out and "建议：" in out


def test_cli_check_refuses_bad_files(run, tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{bad", encoding="utf-8")
    no_name = tmp_path / "no-name.json"
    no_name.write_text('{"project": {}}', encoding="utf-8")
    not_xlsx = tmp_path / "fake.xlsx"
    not_xlsx.write_bytes(b"not a workbook")
    csv = tmp_path / "t.csv"
    csv.write_text("a,b", encoding="utf-8")
    for path, words in [(bad_json, "JSON"), (no_name, "名称"), (not_xlsx, "Excel"), (csv, ".xlsx"),
                        (tmp_path / "missing.json", "missing.json")]:
        code, _, err = run("check", str(path))
        assert code != 0 and words in _one_line(err), (path, err)


def test_a_value_without_an_operator_is_a_warning_with_the_librarys_operator(lib):
    t = good_table()
    _find(t, "培训合格率").update(operator="", value="95%", unit="")
    finding = _finding(check(load_table(t), lib), "C04")
    assert finding.severity == "warning" and finding.row == 3
    assert (finding.fix.row.operator, finding.fix.row.value, finding.fix.row.unit) == ("≥", "95", "%")

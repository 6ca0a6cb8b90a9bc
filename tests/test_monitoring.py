"""Issue 18 parts 1–2 in kb/: an actual value against its target with every
operator, dates and qualitative grades (kb.targets.achievement); monitoring a
mid-year table (kb.targets.monitoring); self-evaluation scoring and C15
(kb.targets.self_evaluation); and the bad input each refuses."""
from __future__ import annotations

import copy
from datetime import date

import pytest

from kb.targets.achievement import QUALITATIVE, QUANTITATIVE, TIME, assess
from kb.dates import deadline, parse_day, year_share
from kb.errors import InvalidInput
from kb.targets.monitoring import monitor
from kb.targets.self_evaluation import evaluate
from kb.targets.schema import load_table
from kb.targets.table import TargetRow


def row(operator, value, unit, actual, **kw) -> TargetRow:
    return TargetRow(level1=kw.get("level1", "产出指标"), level2=kw.get("level2", "数量指标"), name=kw.get("name", "指标"),
                     operator=operator, value=value, unit=unit, actual=actual)


# --- one row: completion with every operator ---------------------------------------------------------

@pytest.mark.parametrize("operator, value, unit, actual, completion", [
    ("≥", "120", "公里", "120公里", 1.0),
    ("≥", "120", "公里", "130", 1.0),
    ("≥", "120", "公里", "90", 0.75),
    ("≥", "95", "%", "97%", 1.0),
    ("≥", "95", "%", "76%", 0.8),
    (">", "100", "人", "100", 1.0),  # reached the number; > rarely means strictly more in these tables
    ("", "200", "户", "150户", 0.75),  # no operator: more is better
    ("≤", "5", "万元/公里", "4.5", 1.0),
    ("≤", "5", "万元/公里", "5", 1.0),
    ("≤", "5", "万元/公里", "6.25", 0.8),
    ("≤", "0", "起", "0", 1.0),
    ("≤", "0", "起", "2", 0.0),
    ("<", "3", "%", "2", 1.0),
    ("=", "100", "%", "100%", 1.0),
    ("=", "100", "%", "90%", 0.9),
    ("区间", "80-90", "%", "85%", 1.0),
    ("区间", "80-90", "%", "60%", 0.75),
    ("区间", "80-90", "%", "100%", 0.9),
    ("≥", "1.2万", "人次", "9000人次", 0.75),
])
def test_quantitative_completion(operator, value, unit, actual, completion):
    a = assess(row(operator, value, unit, actual), 2024)
    assert a.kind == QUANTITATIVE
    assert a.completion == pytest.approx(completion, abs=1e-4)


def test_strictly_greater_is_not_reached_by_equal_when_the_target_says_so():
    # ">100" met by 100 would be generous; ratio 1.0 but not "reached": completion is the ratio capped
    a = assess(row(">", "100", "人", "100"), 2024)
    assert a.completion == 1.0 and "完成100%" in a.reason


@pytest.mark.parametrize("value, actual, as_of, completion, done", [
    ("12月31日前", "2024-11-30", None, 1.0, True),
    ("2024年10月底前", "2024年11月5日", None, 0.0, False),
    ("2024年10月底前", "2024-10-31", None, 1.0, True),
    ("上半年", "6月20日", None, 1.0, True),
    ("第三季度", "已完成", None, 1.0, True),
    ("2024年5月31日前", "未完成", date(2024, 6, 30), 0.0, False),  # past due at monitoring time
    ("12月31日前", "进行中", date(2024, 6, 30), None, False),  # still time: not a completion yet
    ("12月31日前", "未完成", None, 0.0, False),  # the year is over
])
def test_deadlines(value, actual, as_of, completion, done):
    a = assess(row("", value, "", actual, level2="时效指标"), 2024, as_of)
    assert a.kind == TIME
    assert a.completion == completion and a.done is done


@pytest.mark.parametrize("target, actual, completion, band", [
    ("达到预期", "达到预期", 1.0, "达成年度指标"),
    ("明显改善", "达成", 1.0, "达成年度指标"),
    ("明显改善", "基本达到", 0.8, "部分达成并具有一定效果"),
    ("明显改善", "部分达成", 0.8, "部分达成并具有一定效果"),
    ("明显改善", "未达成", 0.6, "未达成且效果较差"),  # the band's upper bound: the most a unit may claim
    ("好", "差", 0.6, "未达成且效果较差"),
    ("否", "是", 0.0, "未达成且效果较差"),  # "是否造成污染：否" answered 是
    ("否", "否", 1.0, "达成年度指标"),
])
def test_qualitative_grades_fall_in_three_bands(target, actual, completion, band):
    a = assess(row("定性", target, "", actual, level1="效益指标", level2="社会效益指标"), 2024)
    assert a.kind == QUALITATIVE
    assert a.completion == completion and a.band.name == band


def test_an_actual_that_cannot_be_read_says_why():
    assert "不是数字" in assess(row("≥", "95", "%", "挺好"), 2024).problem
    assert "无法归入" in assess(row("定性", "明显改善", "", "还行吧"), 2024).problem
    assert "看不出" in assess(row("", "12月31日前", "", "再说", level2="时效指标"), 2024).problem
    assert assess(row("≥", "95", "%", ""), 2024).completion is None
    assert "下限-上限" in assess(row("区间", "90", "%", "85"), 2024).problem


def test_dates_as_people_write_them():
    assert parse_day("2024/6/30") == parse_day("2024年6月30日") == parse_day("2024.6.30") == date(2024, 6, 30)
    assert parse_day("2024-02-30") is None and parse_day("明年") is None
    assert deadline("年底前", 2024) == date(2024, 12, 31)
    assert deadline("10月中旬", 2024) == date(2024, 10, 20)
    assert deadline("2025年3月", 2024) == date(2025, 3, 31)
    assert year_share(date(2024, 12, 31)) == 1.0


# --- monitoring a mid-year table ----------------------------------------------------------------------

ROAD = {
    "project": {"name": "2024年农村公路养护工程", "sector": "214", "budget_wan_yuan": 800,
                "budget_executed_wan_yuan": 600, "as_of": "2024-06-30"},
    "goal": "全年养护农村公路120公里，验收合格率不低于95%，5月底前完成汛前整治，群众满意度不低于90%。",
    "indicators": [
        {"level1": "产出指标", "level2": "数量指标", "name": "养护里程", "operator": "≥", "value": "120", "unit": "公里",
         "actual": "40"},
        {"level1": "产出指标", "level2": "质量指标", "name": "养护工程验收合格率", "operator": "≥", "value": "95", "unit": "%",
         "actual": "97%"},
        {"level1": "产出指标", "level2": "时效指标", "name": "汛前整治完成时间", "operator": "", "value": "2024年5月31日前",
         "unit": "", "actual": "未完成"},
        {"level1": "产出指标", "level2": "成本指标", "name": "每公里养护成本", "operator": "≤", "value": "5", "unit": "万元/公里",
         "actual": "6"},
        {"level1": "效益指标", "level2": "社会效益指标", "name": "群众出行条件", "operator": "定性", "value": "明显改善",
         "unit": "", "actual": ""},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "群众满意度", "operator": "≥", "value": "90",
         "unit": "%", "actual": ""},
    ],
}


def _road(**project) -> dict:
    t = copy.deepcopy(ROAD)
    t["project"].update(project)
    return t


def test_spending_ahead_of_results_late_and_unreachable():
    res = monitor(load_table(_road()))
    assert res.execution_rate == 0.75
    assert res.time_share == pytest.approx(182 / 366)
    # progress is the 数量 rows': 养护里程 40/120 (quality, time and cost rows have warnings of their own)
    assert res.completion == pytest.approx(1 / 3)
    kinds = {w.kind: w for w in res.warnings}
    assert set(kinds) == {"spending_ahead", "late", "unreachable"}
    assert kinds["spending_ahead"].rows == [1]
    assert kinds["late"].rows == [3] and "2024-05-31" in kinds["late"].message
    # 6 万元/公里 is already over the ≤5 ceiling; 40 km by mid-year projects to ~80 km, below 120 × 0.8
    assert kinds["unreachable"].rows == [1, 4]
    assert all(w.explain.startswith("请说明") for w in res.warnings)
    d = res.to_dict()
    assert {"as_of", "execution_rate", "time_share", "completion", "rows", "warnings"} <= set(d)
    assert d["rows"][4] == {**d["rows"][4], "row": 5, "name": "群众出行条件", "completion": None}
    assert d["rows"][0]["projected"] == pytest.approx(40 / (182 / 366), abs=0.01)


def test_results_ahead_of_spending_and_execution_behind_time():
    t = _road(budget_executed_wan_yuan=80, as_of="2024-07-31")
    for r, actual in zip(t["indicators"], ("100", "98%", "2024-05-20", "4", "", "")):
        r["actual"] = actual
    res = monitor(load_table(t))
    kinds = {w.kind: w for w in res.warnings}
    assert set(kinds) == {"results_ahead", "execution_behind"}
    assert kinds["results_ahead"].rows == [1]
    assert "预算只执行了10%" in kinds["execution_behind"].message


def test_a_table_on_track_raises_nothing():
    t = _road(budget_executed_wan_yuan=420, as_of="2024-07-15")
    for r, actual in zip(t["indicators"], ("62", "96%", "2024-05-28", "4.8", "", "")):
        r["actual"] = actual
    res = monitor(load_table(t))
    assert res.warnings == []
    assert res.completion == pytest.approx(62 / 120)


def test_tolerance_is_configurable():
    loose = monitor(load_table(_road()), tolerance=0.45)
    # 75% spent vs 33% done is within 45 points; 80 km projected is within 45% of 120; the ceiling and the deadline stay
    assert [w.kind for w in loose.warnings] == ["late", "unreachable"]
    assert loose.warnings[1].rows == [4]
    with pytest.raises(InvalidInput, match="容差"):
        monitor(load_table(_road()), tolerance=1.5)


def test_monitoring_refuses_what_it_cannot_monitor():
    with pytest.raises(InvalidInput) as info:
        monitor(load_table({"project": {"name": "某项目"}, "indicators": [ROAD["indicators"][0] | {"actual": ""}]}))
    message = info.value.message
    assert "截至日期" in message and "预算金额" in message and "已执行资金" in message and "实际完成值" in message
    t = _road()
    t["indicators"][0]["actual"] = "一半左右"
    with pytest.raises(InvalidInput, match="第1行养护里程"):
        monitor(load_table(t))
    with pytest.raises(InvalidInput, match="截至日期“明年”"):
        monitor(load_table(_road()), as_of="明年")
    with pytest.raises(InvalidInput, match="日期“6月底”无法识别"):
        load_table(_road(as_of="6月底"))


# --- self-evaluation and C15 -------------------------------------------------------------------------

YEAR_END = {
    "project": {"name": "2024年农村公路养护工程", "budget_wan_yuan": 800, "budget_executed_wan_yuan": 760,
                "as_of": "2024-12-31"},
    "goal": "全年养护农村公路120公里。",
    "indicators": [
        {"level1": "产出指标", "level2": "数量指标", "name": "养护里程", "operator": "≥", "value": "120", "unit": "公里",
         "actual": "108", "self_score": 12.5},
        {"level1": "产出指标", "level2": "质量指标", "name": "养护工程验收合格率", "operator": "≥", "value": "95",
         "unit": "%", "actual": "97%", "self_score": "12.5分"},
        {"level1": "产出指标", "level2": "时效指标", "name": "汛前整治完成时间", "operator": "", "value": "5月31日前",
         "unit": "", "actual": "2024-06-20", "self_score": 10},
        {"level1": "产出指标", "level2": "成本指标", "name": "每公里养护成本", "operator": "≤", "value": "5",
         "unit": "万元/公里", "actual": "5.2", "self_score": 12},
        {"level1": "效益指标", "level2": "社会效益指标", "name": "群众出行条件", "operator": "定性", "value": "明显改善",
         "unit": "", "actual": "基本达到", "self_score": 28},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "群众满意度", "operator": "≥", "value": "90",
         "unit": "%", "actual": "93%", "self_score": 10},
    ],
}


def test_self_evaluation_scores_by_the_2020_rules():
    ev = evaluate(load_table(copy.deepcopy(YEAR_END)))
    # 产出 50 over four rows (12.5 each); 效益 30; 满意度 10; 预算执行率 10 × 760/800
    by_hand = {
        "养护里程": 12.5 * 108 / 120,  # 11.25
        "养护工程验收合格率": 12.5,
        "汛前整治完成时间": 0.0,  # done after the deadline
        "每公里养护成本": 12.5 * 5 / 5.2,  # 12.02
        "群众出行条件": 30 * 0.8,  # 部分达成: the band's upper bound
        "群众满意度": 10.0,
    }
    assert {r.name: r.score for r in ev.rows} == {k: round(v, 2) for k, v in by_hand.items()}
    assert ev.by_level1["预算执行率"] == 9.5
    assert ev.total == round(9.5 + 11.25 + 12.5 + 0 + 12.02 + 24 + 10, 2)  # 79.27
    assert ev.grade == "中"


def test_c15_reports_every_inflated_row_and_the_total():
    ev = evaluate(load_table(copy.deepcopy(YEAR_END)))
    by_row = {f.row: f for f in ev.findings}
    # claimed 12.5 / 12.5 / 10 / 12 / 28 / 10 against 11.25 / 12.5 / 0 / 12.02 / 24 / 10
    assert set(by_row) == {1, 3, 5, None}
    assert by_row[1].excess == 1.25
    assert by_row[3].excess == 10.0
    assert by_row[5].excess == 4.0 and "定性指标按档次最多24分" in by_row[5].message
    assert by_row[None].excess == 15.25 and "多计15.25分" in by_row[None].message
    assert [f.to_dict()["id"] for f in ev.findings] == ["C15"] * 4


def test_honest_claims_raise_no_c15():
    t = copy.deepcopy(YEAR_END)
    for r, claim in zip(t["indicators"], (11.25, 12.5, 0, 12.02, 24, 10)):
        r["self_score"] = claim
    assert evaluate(load_table(t)).findings == []


def test_a_missing_satisfaction_level_passes_its_points_to_the_others():
    t = copy.deepcopy(YEAR_END)
    t["indicators"] = [r for r in t["indicators"] if r["level1"] != "满意度指标"]
    ev = evaluate(load_table(t))
    assert ev.weights == {"产出指标": 56.25, "效益指标": 33.75, "预算执行率": 10.0}
    assert ev.notes and "满意度指标" in ev.notes[0]


def test_cost_as_its_own_level_uses_the_cost_weights():
    t = copy.deepcopy(YEAR_END)
    t["indicators"][3].update(level1="成本指标", level2="经济成本指标")
    ev = evaluate(load_table(t))
    assert ev.weights["成本指标"] == 20 and ev.weights["产出指标"] == 40


def test_self_evaluation_refuses_missing_actuals_and_unknown_levels():
    t = copy.deepcopy(YEAR_END)
    t["indicators"][1]["actual"] = ""
    t["indicators"][4]["actual"] = ""
    t["indicators"][2]["level1"] = "产出值"
    t["project"].pop("budget_executed_wan_yuan")
    with pytest.raises(InvalidInput) as info:
        evaluate(load_table(t))
    message = info.value.message
    assert "第2、5行没有填写实际完成值" in message
    assert "全年执行数" in message and "第3行“产出值”" in message
    t = copy.deepcopy(YEAR_END)
    t["indicators"][0]["actual"] = "优"  # a grade where a number belongs: the wrong column
    with pytest.raises(InvalidInput, match="第1行养护里程：实际完成值“优”不是数字"):
        evaluate(load_table(t))
    with pytest.raises(InvalidInput, match="自评得分“很高”不是数字"):
        load_table({**YEAR_END, "indicators": [YEAR_END["indicators"][0] | {"self_score": "很高"}]})

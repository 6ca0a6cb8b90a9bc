"""Scoring units with an indicator system: each kind of structured rule at its
edges, the rules' validation, a round of twelve hospitals on SYS-YYZT checked
against scores worked by hand, saved rounds that reproduce after a new
version, and bad input refused in Chinese with nothing saved."""
from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
from marshmallow import ValidationError
from sqlalchemy import func, select

from kb.library import gates, draft as library, versions
from kb.systems import rounds, tree as systems
from kb.errors import InvalidInput, PublishRefused, UnknownVersion
from kb.models import EvaluationRound, IndicatorSystem
from kb.schemas import SystemNodeSchema, flatten_messages
from kb.systems.scoring import score_leaf, score_round
from tests.scoring_helpers import FULL_MARKS, SYSTEM, twelve_hospitals, with_changes

CEILING = {"kind": "ceiling", "target": 100, "per_point": 0.3}
BANDS = {"kind": "bands", "bands": [  # GX-BM-005 as the 评分表 writes it
    {"min": 90, "max": None, "share": 1}, {"min": 80, "max": 90, "share": 0.8}, {"min": 70, "max": 80, "share": 0.6},
    {"min": 60, "max": 70, "share": 0.4}, {"min": None, "max": 60, "share": 0}]}
CLOSED_BANDS = {"kind": "bands", "bands": [  # GX-BM-007: =0, ≤10%, ≤20%, ≤30%, >30%
    {"min": 0, "max": 0, "max_inclusive": True, "share": 1},
    {"min": 0, "min_inclusive": False, "max": 10, "max_inclusive": True, "share": "2/3"},
    {"min": 10, "min_inclusive": False, "max": 20, "max_inclusive": True, "share": "1/3"},
    {"min": 20, "min_inclusive": False, "max": 30, "max_inclusive": True, "share": "1/6"},
    {"min": 30, "min_inclusive": False, "max": None, "share": 0}]}


def score(rule, value, points):
    return score_leaf(rule, value, points)[0]


def refused(rule, value, points) -> str:
    with pytest.raises(InvalidInput) as info:
        score_leaf(rule, value, points)
    return info.value.message


# --- proportional -------------------------------------------------------------------------------------

def test_proportional_gives_full_marks_at_and_beyond_the_target():
    rule = {"kind": "proportional", "target": 90}
    assert score(rule, "90%", 3) == 3  # exactly at the target
    assert score(rule, "120", 3) == 3
    assert score(rule, 90.0, 3) == 3


def test_proportional_scores_in_proportion_below_the_target_rounded_half_up():
    assert score({"kind": "proportional", "target": 100}, "95%", 2.5) == 2.38  # 2.375
    assert score({"kind": "proportional", "target": 90}, "85", 4) == 3.78  # 3.777…
    assert score({"kind": "proportional", "target": 100}, "-5", 2) == 0  # never below 0


def test_proportional_with_zero_target_gives_full_marks_from_zero_up():
    rule = {"kind": "proportional", "target": 0}
    assert score(rule, "0", 2) == 2
    assert score(rule, "-1", 2) == 0


def test_proportional_takes_each_units_own_target_when_the_rule_has_none():
    rule = {"kind": "proportional", "target": None}
    assert score(rule, {"actual": "450000", "target": "500,000"}, 2.5) == 2.25
    assert "没有目标值" in refused(rule, "95%", 2.5)
    # a unit's own target also overrides the rule's
    assert score({"kind": "proportional", "target": 100}, {"actual": "80", "target": "80"}, 2) == 2


# --- ceiling --------------------------------------------------------------------------------------------

def test_ceiling_gives_full_marks_at_or_below_the_target():
    assert score(CEILING, "100%", 3) == 3
    assert score(CEILING, "99.5%", 3) == 3


def test_ceiling_deducts_per_point_over_down_to_zero():
    assert score(CEILING, "105%", 3) == 1.5
    assert score(CEILING, "100.5%", 3) == 2.85  # 0.5 over costs 0.15
    assert score(CEILING, "110%", 3) == 0  # exactly used up
    assert score(CEILING, "150%", 3) == 0  # 扣完为止
    _, reason = score_leaf(CEILING, "150%", 3)
    assert "扣完为止" in reason


def test_ceiling_with_zero_target_and_a_share_of_the_points_per_point():
    assert score({"kind": "ceiling", "target": 0, "per_point": 0.2}, "0", 2) == 2
    assert score({"kind": "ceiling", "target": 0, "per_point": 0.2}, "3%", 2) == 1.4
    assert score({"kind": "ceiling", "target": None, "per_point_share": 0.1}, {"actual": "5%", "target": "3%"}, 2) == 1.6
    assert score({"kind": "ceiling", "target": 100, "per_point": "1/3"}, "103%", 2) == 1


def test_ceiling_without_a_deduction_scores_target_over_actual():
    rule = {"kind": "ceiling", "target": None}
    assert score(rule, {"actual": "10", "target": "8"}, 3) == 2.4
    assert score(rule, {"actual": "8", "target": "8"}, 3) == 3
    assert score({"kind": "ceiling", "target": 0}, "1", 3) == 0  # over a zero target: nothing to divide
    assert score({"kind": "ceiling", "target": 0}, "0", 3) == 3


# --- bands ------------------------------------------------------------------------------------------------

def test_band_minimum_is_inclusive_and_maximum_exclusive():
    assert score(BANDS, "90%", 3) == 3
    assert score(BANDS, "89.99%", 3) == 2.4
    assert score(BANDS, "80", 3) == 2.4
    assert score(BANDS, "60", 3) == 1.2
    assert score(BANDS, "59.9", 3) == 0
    assert score(BANDS, "-10", 3) == 0  # an open lower bound


def test_bands_closed_at_the_top_as_the_scoring_table_writes_them():
    assert score(CLOSED_BANDS, "0", 1) == 1
    assert score(CLOSED_BANDS, "10%", 1) == 0.67
    assert score(CLOSED_BANDS, "10.01%", 1) == 0.33
    assert score(CLOSED_BANDS, "30", 1) == 0.17
    assert score(CLOSED_BANDS, "30.5", 1) == 0
    assert "不在评分分档内" in refused(CLOSED_BANDS, "-1", 1)


# --- deduction and judged ------------------------------------------------------------------------------------

def test_deduction_takes_points_per_occurrence_down_to_zero():
    rule = {"kind": "deduction", "per": 0.5}
    assert score(rule, "0", 1.5) == 1.5
    assert score(rule, "2", 1.5) == 0.5
    assert score(rule, "3", 1.5) == 0
    assert score(rule, "9", 1.5) == 0
    assert score({"kind": "deduction", "per_share": "1/3"}, "1", 2.5) == 1.67
    assert score({"kind": "deduction", "per_share": "1/3"}, "3", 2.5) == 0
    assert "0 或正整数" in refused(rule, "1.5", 1.5)
    assert "0 或正整数" in refused(rule, "-1", 1.5)


def test_judged_takes_points_a_share_or_a_grade():
    assert score({"kind": "judged"}, "优", 1.5) == 1.5
    assert score({"kind": "judged"}, "良", 1.5) == 1.2
    assert score({"kind": "judged"}, "差", 2) == 0.8
    # 10号's qualitative bands: the band's upper bound
    assert score({"kind": "judged"}, "达成", 2) == 2
    assert score({"kind": "judged"}, "部分达成", 2) == 1.6
    assert score({"kind": "judged"}, "未达成", 2) == 1.2
    assert score({"kind": "judged"}, "1.2", 1.5) == 1.2
    assert score({"kind": "judged"}, "80%", 1.5) == 1.2
    assert score(None, "良", 1.5) == 1.2  # a leaf without a structured rule is judged
    assert "0–1.5" in refused({"kind": "judged"}, "2", 1.5)
    assert "等级" in refused({"kind": "judged"}, "很好", 1.5)


def test_a_word_where_a_number_is_needed_is_refused_in_chinese():
    message = refused(BANDS, "优", 3)
    assert "应为数字" in message and "优" in message
    assert "不应填目标值" in refused(BANDS, {"actual": "95", "target": "90"}, 3)


# --- rules in the system's nodes ------------------------------------------------------------------------------

def node_problems(rule, **node) -> str:
    with pytest.raises(ValidationError) as info:
        SystemNodeSchema().load({"indicator": "T-001", "weight": 3, "rule": rule, **node})
    return " ".join(m for _, m in flatten_messages(info.value.messages))


def test_a_node_accepts_each_kind_of_complete_rule():
    for rule in (CEILING, BANDS, CLOSED_BANDS, {"kind": "proportional", "target": None},
                 {"kind": "deduction", "per": 0.5, "counts": "发现的问题数"}, {"kind": "judged"}):
        assert SystemNodeSchema().load({"indicator": "T-001", "weight": 3, "rule": rule})["rule"] == rule


def test_a_rule_missing_parameters_is_refused_with_a_clear_message():
    assert "缺少参数：target" in node_problems({"kind": "proportional"})
    assert "缺少参数：target" in node_problems({"kind": "ceiling", "per_point": 0.3})
    assert "缺少参数：bands" in node_problems({"kind": "bands"})
    assert "per（每次扣的分）或 per_share" in node_problems({"kind": "deduction"})
    assert "第2档缺少参数：share" in node_problems({"kind": "bands", "bands": [{"min": 0, "share": 1}, {"max": 0}]})
    assert "kind 须为" in node_problems({"target": 100})
    assert "不认识参数：weight" in node_problems({"kind": "judged", "weight": 3})
    assert "有重叠" in node_problems({"kind": "bands", "bands": [{"min": 0, "max": 10, "share": 1}, {"min": 5, "max": None, "share": 0}]})
    assert "0到1之间" in node_problems({"kind": "bands", "bands": [{"min": 0, "max": None, "share": 3}]})
    assert "应为数字" in node_problems({"kind": "ceiling", "target": "一百"})
    with pytest.raises(ValidationError) as info:
        SystemNodeSchema().load({"name": "过程", "weight": 3, "rule": {"kind": "judged"}, "children": [{"indicator": "T-001", "weight": 3}]})
    assert "叶节点" in str(info.value.messages)


def test_the_publish_gate_refuses_a_broken_rule_however_it_got_into_the_draft():
    good = {"code": "S", "nodes": [{"name": "过程", "weight": 100, "children": [{"indicator": "T-001", "weight": 100, "rule": CEILING}]}]}
    assert gates.system_rules([SimpleNamespace(**good)]) == []
    bad = copy.deepcopy(good)
    bad["nodes"][0]["children"][0]["rule"] = {"kind": "ceiling", "per_point": 0.3}
    bad["nodes"][0]["rule"] = {"kind": "judged"}
    messages = [p.message for p in gates.system_rules([SimpleNamespace(**bad)])]
    assert any("“过程”是分组" in m for m in messages)
    assert any("“T-001”的计分规则有误" in m and "target" in m for m in messages)


def test_publishing_refuses_a_draft_system_whose_rule_is_incomplete(library):
    system = library.get(IndicatorSystem, "SYS-DEMO")
    nodes = copy.deepcopy(system.nodes)
    nodes[0]["children"][0]["rule"] = {"kind": "bands", "bands": [{"min": 0, "max": None}]}
    system.nodes = nodes  # straight into the table: the schema would have refused it
    library.commit()
    with pytest.raises(PublishRefused) as info:
        versions.publish(library, "2024.2")
    assert any("计分规则有误" in p.message and "share" in p.message for p in info.value.problems)


def test_every_leaf_of_the_public_hospital_system_has_a_structured_rule(seeded_db):
    tree = systems.system_tree(seeded_db, SYSTEM, versions.resolve(seeded_db))
    leaves = list(gates.system_leaves([_as_dict(n) for n in tree.nodes]))
    assert len(leaves) == len(FULL_MARKS) == 47
    assert all(leaf["rule"] and leaf["scoring_rule"] for leaf in leaves)
    kinds = {leaf["indicator"]: leaf["rule"]["kind"] for leaf in leaves}
    assert kinds["GX-BM-003"] == "ceiling" and kinds["GX-BM-005"] == "bands" and kinds["GX-BM-015"] == "deduction"
    assert kinds["GX-BM-006"] == "proportional" and kinds["YY3-042"] == "judged"


def _as_dict(node) -> dict:
    return {"indicator": node.indicator, "rule": node.rule, "scoring_rule": node.scoring_rule,
            "children": [_as_dict(c) for c in node.children]}


# --- a round of twelve hospitals -------------------------------------------------------------------------------

def _tree(session, label=None):
    return systems.system_tree(session, SYSTEM, versions.resolve(session, label))


def test_twelve_hospitals_scored_as_worked_by_hand(seeded_db):
    result = score_round(_tree(seeded_db), twelve_hospitals())
    assert result.version == "2024.1" and result.max_total == 100
    assert result.level1 == {"决策": 15, "过程": 25, "产出": 35, "效益": 25}
    by_name = {u.name: u for u in result.units}
    assert len(by_name) == 12

    first = by_name["市第一人民医院"]
    assert (first.total, first.rank, first.grade, first.weakest) == (100, 1, "优", [])

    # 市第二人民医院: lost 1.5 (GX-BM-003) + 0.6 (GX-BM-005) + 0.3 (GX-BM-006) + 0.3 (YY3-042)
    # + 1.0 (GX-BM-015) + 0.6 (YY3-008) + 0.4 (YY3-038) + 0.22 (YY3-053: 4 − 3.78) = 4.92
    second = by_name["市第二人民医院"]
    assert second.total == 95.08 and second.grade == "优" and second.rank == 11
    assert second.by_level1 == {"决策": 12.9, "过程": 23.4, "产出": 34.0, "效益": 24.78}
    assert [(w.indicator, w.score, w.max, w.lost) for w in second.weakest] == [
        ("GX-BM-003", 1.5, 3, 1.5), ("GX-BM-015", 0.5, 1.5, 1.0),
        ("GX-BM-005", 2.4, 3, 0.6), ("YY3-008", 2.4, 3, 0.6),  # equal losses keep the system's order
        ("YY3-038", 1.6, 2, 0.4)]
    assert second.weakest[0].name == "在职人员控制率"

    # 市中医医院: lost 1.67 (GX-BM-001: 2.5 − 0.83) + 0.6 (GX-BM-004) + 0.67 (GX-BM-007: 1 − 0.33)
    # + 1.0 (GX-BM-012) + 0.3 (YY3-012) + 0.6 (YY2-013) + 0.25 (YYCW-030) + 1.0 (YY3-024) + 0.5 (YY3-046) = 6.59
    third = by_name["市中医医院"]
    assert third.total == 93.41 and third.rank == 12
    assert third.by_level1 == {"决策": 12.73, "过程": 23.03, "产出": 34.15, "效益": 23.5}
    assert [w.indicator for w in third.weakest] == ["GX-BM-001", "GX-BM-012", "YY3-024", "GX-BM-007", "GX-BM-004"]
    leaves = {leaf.indicator: leaf for leaf in third.leaves}
    assert leaves["GX-BM-001"].score == 0.83 and leaves["GX-BM-007"].score == 0.33 and leaves["YY2-013"].score == 2.4
    assert "目标值 8 / 实际值 10" in leaves["YY2-013"].reason

    # the nine county hospitals: 99.4 + 0.03 × i; the last two tie and share a rank
    assert by_name["县人民医院1"].total == 99.4
    assert by_name["县人民医院8"].total == by_name["县人民医院9"].total == 99.61
    assert by_name["县人民医院8"].rank == by_name["县人民医院9"].rank == 2
    assert by_name["县人民医院7"].rank == 4 and by_name["县人民医院1"].rank == 10


def test_totals_are_the_sum_of_the_rounded_leaf_scores(seeded_db):
    result = score_round(_tree(seeded_db), twelve_hospitals())
    for unit in result.units:
        assert round(sum(leaf.score for leaf in unit.leaves), 2) == unit.total
        assert round(sum(unit.by_level1.values()), 2) == unit.total


# --- bad input ------------------------------------------------------------------------------------------------

def bad_round(session, units) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        score_round(_tree(session), units)
    return info.value


def test_missing_values_are_refused_naming_unit_and_leaves(seeded_db):
    error = bad_round(seeded_db, [{"name": "市第一人民医院", "values": with_changes({}, drop=("GX-BM-003", "YY3-053"))},
                                  {"name": "市第二人民医院", "values": with_changes({"YY3-042": ""})}])
    messages = [p.message for p in error.problems]
    assert messages == ["单位“市第一人民医院”缺少 2 项指标的值：在职人员控制率（GX-BM-003）、门诊患者满意度（YY3-053）",
                        "单位“市第二人民医院”缺少 1 项指标的值：全面预算管理（YY3-042）"]
    assert error.message.startswith("评分数据有 2 处问题")


def test_a_word_in_a_number_column_names_unit_and_leaf(seeded_db):
    error = bad_round(seeded_db, [{"name": "市中医医院", "values": with_changes({"GX-BM-005": "优"})}])
    assert error.message == "单位“市中医医院”的“重点支出安排率（GX-BM-005）”应为数字（如 95 或 95%），现为“优”"


def test_unknown_leaves_units_without_names_duplicates_and_no_units_are_refused(seeded_db):
    error = bad_round(seeded_db, [{"name": "甲", "values": with_changes({"不存在的指标": "1"})}])
    assert "“不存在的指标”不是指标体系 SYS-YYZT 中的指标" in error.message
    assert "缺少单位名称" in bad_round(seeded_db, [{"name": " ", "values": with_changes({})}]).message
    twice = bad_round(seeded_db, [{"name": "甲", "values": with_changes({})}, {"name": "甲", "values": with_changes({})}])
    assert "单位名称“甲”重复" in twice.message
    assert "没有要评分的单位" in bad_round(seeded_db, []).message
    assert "没有要评分的单位" in bad_round(seeded_db, {"name": "甲"}).message
    both = bad_round(seeded_db, [{"name": "甲", "values": with_changes({"在职人员控制率": "100%"})}])
    assert "是同一指标 在职人员控制率（GX-BM-003）" in both.message
    no_target = bad_round(seeded_db, [{"name": "甲", "values": with_changes({"GX-BM-006": "95%"})}])
    assert "单位“甲”的“预算完成率（GX-BM-006）”没有目标值" in no_target.message


# --- saved rounds ------------------------------------------------------------------------------------------------

def _rounds(session) -> int:
    return session.execute(select(func.count()).select_from(EvaluationRound)).scalar()


def test_a_saved_round_reproduces_after_a_new_version_is_published(seeded_db):
    round_id, saved = rounds.score_and_save(seeded_db, SYSTEM, twelve_hospitals(), user="测试")
    row = rounds.get_round(seeded_db, SYSTEM, round_id)
    assert (row.version_label, row.created_by, len(row.units)) == ("2024.1", "测试", 12)

    # the next version deducts twice as much per point over for 在职人员控制率
    draft = library.draft_record(seeded_db, "system", SYSTEM)
    nodes = copy.deepcopy(draft.nodes)
    nodes[0]["children"][1]["children"][0]["rule"] = {"kind": "ceiling", "target": 100, "per_point": 0.6}
    library.update_record(seeded_db, "system", SYSTEM, {"nodes": nodes}, draft.revision, user="测试")
    versions.publish(seeded_db, "2024.2")
    now = score_round(_tree(seeded_db), twelve_hospitals())
    assert {u.name: u.total for u in now.units}["市第二人民医院"] == 93.58  # 3 − 5 × 0.6 = 0 instead of 1.5

    again = rounds.rescore(seeded_db, row)
    assert again.version == "2024.1"
    assert again.to_dict() == saved.to_dict() == row.results
    assert [r.id for r in rounds.list_rounds(seeded_db, SYSTEM)] == [round_id]


def test_bad_input_saves_no_round(seeded_db):
    with pytest.raises(InvalidInput):
        rounds.score_and_save(seeded_db, SYSTEM, [{"name": "甲", "values": with_changes({"GX-BM-005": "优"})}])
    with pytest.raises(UnknownVersion) as info:
        rounds.score_and_save(seeded_db, SYSTEM, twelve_hospitals(), label="2099.1")
    assert info.value.message == "未找到版本“2099.1”"
    with pytest.raises(InvalidInput) as draft:
        rounds.score_and_save(seeded_db, SYSTEM, twelve_hospitals(), label="draft")
    assert "草稿不能用于评分" in draft.value.message
    seeded_db.rollback()
    assert _rounds(seeded_db) == 0


def test_numbers_beyond_any_indicator_are_refused_not_overflowed():
    assert "10 的 15 次方" in refused({"kind": "proportional", "target": 100}, "1e999999", 3)
    assert "现为“NaN”" in refused({"kind": "judged"}, "NaN", 3)
    assert "10 的 15 次方" in node_problems({"kind": "ceiling", "target": "1e30"})

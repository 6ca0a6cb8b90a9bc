"""The content lint: each rule with an indicator that breaks it and one that passes; errors block publishing;
the seeded library has none."""
from __future__ import annotations

import json

import pytest

from kb.library import gates, draft as library
from kb.library.lint import lint, lint_indicator
from kb.models import IndicatorRecord


def indicator(**fields) -> IndicatorRecord:
    base = dict(code="T-L-001", kind="specific", level1="产出指标", level2="数量指标", name="培训人数", unit="人",
                operator="≥", direction="up", sectors=["210"], source={"document": "测试"}, provenance="local")
    return IndicatorRecord(**{**base, **fields})


@pytest.mark.parametrize("rule,severity,bad,good", [
    ("L01", "error", dict(name="培训人数", unit="%"), dict(name="培训人数", unit="人")),
    ("L01", "warning", dict(name="资金到位率", unit="元", level2="质量指标"), dict(name="资金到位率", unit="%", level2="质量指标")),
    ("L02", "error", dict(name="小学就读人数", operator="≤", direction="none"), dict(name="小学就读人数", operator="≥")),
    ("L02", "warning", dict(name="安全事故发生率", unit="%", operator="≥", level2="质量指标"),
     dict(name="安全事故发生率", unit="%", operator="≤", direction="down", level2="质量指标")),
    ("L02", "warning", dict(operator="≥", reference_values=[{"value": "较上年提高", "basis": "历史标准"}]),
     dict(operator="≥", reference_values=[{"value": "120", "basis": "历史标准"}])),
    ("L03", "error", dict(name="群众满意度", unit="%", level1="效益指标", level2="社会效益指标"),
     dict(name="群众满意度", unit="%", level1="满意度指标", level2="服务对象满意度指标")),
    ("L03", "error", dict(name="预算执行率", unit="%", level2="质量指标"),
     dict(name="预算执行率", unit="%", level1="成本指标", level2="经济成本指标")),
    ("L04", "warning", dict(name="疫苗接种率、建档率及随访率", unit="%", level2="质量指标"),
     dict(name="疫苗接种率", unit="%", level2="质量指标")),
    ("L04", "warning", dict(name="教学条件改善", unit="%", operator="=", level2="质量指标"),
     dict(name="教学条件改善情况", unit="", operator="定性", qualitative=True, level2="质量指标")),
    # the audit's defects (issue 14), each class with its case
    ("L01", "error", dict(name="中职免学费应受助学生数", unit="%"), dict(name="中职免学费应受助学生数", unit="人")),
    ("L01", "warning", dict(name="林木采伐监管", unit="万立方米"), dict(name="林木采伐监管量", unit="万立方米")),
    ("L01", "warning", dict(name="孕产妇死亡率", unit="元", level2="质量指标"),
     dict(name="孕产妇死亡率", unit="1/10万", level2="质量指标")),
    ("L02", "warning", dict(name="违法占用耕地发生率", unit="%", operator="≥", level2="质量指标"),
     dict(name="违法占用耕地案件查处率", unit="%", operator="≥", level2="质量指标")),
    ("L02", "warning", dict(name="学校计算机生机比", unit="", operator="≤", reference_values=[{"value": "较低", "basis": "行业标准"}]),
     dict(name="学校计算机生机比", unit="", operator="≤", reference_values=[{"value": "10:1", "basis": "行业标准"}])),
    ("L03", "error", dict(name="粮食安全事件发生数", unit="起", operator="=", direction="down",
                          level1="满意度指标", level2="服务对象满意度指标"),
     dict(name="粮食安全事件发生数", unit="起", operator="=", direction="down", level1="效益指标", level2="社会效益指标")),
    ("L03", "error", dict(name="资金支出率", unit="%", level2="质量指标"),
     dict(name="资金支出率", unit="%", level1="过程", level2="资金管理")),
    ("L03", "warning", dict(name="国家政策性粮收购价格执行率", unit="%", level1="成本指标", level2="经济成本指标"),
     dict(name="国家政策性粮收购价格执行率", unit="%", level2="质量指标")),
    ("L04", "warning", dict(name="学生受益情况", unit="%", operator="=", level1="效益指标", level2="可持续影响指标"),
     dict(name="学生受益情况", unit="", operator="定性", qualitative=True, level1="效益指标", level2="可持续影响指标")),
    ("L06", "warning", dict(name="结余率", unit="%", operator="≤", level1="成本指标", level2="经济成本指标", provenance="verbatim",
                            note="原表列在“效益指标/经济效益指标”；本库按成本指标归类。"),
     dict(name="结余率", unit="%", operator="≤", level1="成本指标", level2="经济成本指标", provenance="adapted",
          note="原表列在“效益指标/经济效益指标”；本库按成本指标归类。")),
    ("L07", "warning", dict(certainty="verified", source={"document": "测试", "url": "http://example.org/a"},
                            note="公式凭记忆，未在官方文本中核对"),
     dict(certainty="likely", source={"document": "测试", "url": "http://example.org/a"}, note="公式凭记忆，未在官方文本中核对")),
    ("L07", "warning", dict(certainty="verified", source={"document": "测试"}),
     dict(certainty="verified", source={"document": "测试", "url": "http://example.org/a"})),
])
def test_each_rule_catches_its_case_and_passes_the_sound_one(rule, severity, bad, good):
    found = [f for f in lint_indicator(indicator(**bad)) if f.rule == rule]
    assert found and found[0].severity == severity and "T-L-001" in found[0].message
    assert not [f for f in lint_indicator(indicator(**good)) if f.rule == rule]


def test_the_same_name_in_two_placements_is_a_duplicate_warning():
    a = indicator(code="T-L-001", name="运维响应及时率", unit="%", level2="时效指标")
    b = indicator(code="T-L-002", name="运维响应及时率", unit="%", level2="质量指标")
    c = indicator(code="T-L-003", name="资金到位率", unit="%", level2="质量指标")
    [dup] = [f for f in lint([a, b, c]) if f.rule == "L05"]
    assert "T-L-001" in dup.message and "T-L-002" in dup.message and dup.severity == "warning"


def test_a_note_naming_the_placement_the_item_keeps_is_not_a_move():
    kept = indicator(name="食品安全指标达标率", unit="%", level1="效益指标", level2="生态效益指标", provenance="verbatim",
                     note="原表列生态效益指标下；也可放在产出指标/质量指标。")
    assert not [f for f in lint_indicator(kept) if f.rule == "L06"]


def test_findings_say_how_to_fix_and_name_every_code_concerned():
    a = indicator(code="T-L-001", name="运维响应及时率", unit="%", level2="时效指标")
    b = indicator(code="T-L-002", name="运维响应及时率", unit="%", level2="质量指标")
    findings = lint([a, b, indicator(code="T-L-003", name="培训人数", unit="%")])
    assert all(f.fix for f in findings)
    [dup] = [f for f in findings if f.rule == "L05"]
    assert dup.to_dict()["codes"] == ["T-L-001", "T-L-002"] and dup.to_dict()["title"] == "重复与同名"


def test_the_same_name_in_two_evaluation_frameworks_or_with_different_qualifiers_is_no_duplicate():
    dept = indicator(code="T-L-001", kind="common", name="实际完成率", unit="%", level1="产出", level2="职责履行", sectors=[],
                     source={"document": "部门整体支出绩效评价共性指标体系框架", "doc_number": "财预〔2013〕53号"})
    proj = indicator(code="T-L-002", kind="common", name="实际完成率", unit="%", level1="产出", level2="产出数量", sectors=[],
                     source={"document": "项目支出绩效评价指标体系框架", "doc_number": "财预〔2020〕10号"})
    main_roads = indicator(code="T-L-003", name="城市照明亮灯率（快速路、主干路）", unit="%", level2="质量指标")
    side_roads = indicator(code="T-L-004", name="城市照明亮灯率（支路）", unit="%", level2="质量指标")
    assert not [f for f in lint([dept, proj, main_roads, side_roads]) if f.rule == "L05"]
    same_framework = indicator(code="T-L-005", kind="common", name="实际完成率", unit="%", level1="产出", level2="产出质量",
                               sectors=[], source=proj.source)
    unqualified = indicator(code="T-L-006", name="城市照明亮灯率", unit="%", level2="时效指标")
    found = [f for f in lint([dept, proj, same_framework, main_roads, unqualified]) if f.rule == "L05"]
    assert sorted(f.all_codes for f in found) == [("T-L-002", "T-L-005"), ("T-L-003", "T-L-006")]


def test_a_lint_error_blocks_publishing_with_the_rule_and_item_named(library):
    library_create = {"code": "T-L-009", "kind": "specific", "level1": "产出指标", "level2": "数量指标", "name": "培训人数",
                      "unit": "%", "operator": "≥", "sectors": ["210"], "source": {"document": "测试"}, "provenance": "local"}
    from kb.library import draft as kb_library
    kb_library.create_record(library, "indicator", library_create, user="test")
    problems = gates.check_draft(library)
    assert any("L01" in p.location and "T-L-009" in p.message for p in problems)


def test_the_seeded_library_has_no_lint_error(seeded_db, cli):
    records = library.draft_records(seeded_db, "indicator")
    errors = [f for f in lint(records) if f.severity == "error"]
    assert errors == []
    code, out, err = cli("lint", "--json")
    body = json.loads(out)
    assert code == 0 and body["errors"] == 0 and body["warnings"] == len(body["findings"]) > 0


def test_no_public_page_or_api_answer_shows_a_curator_note(seeded_db, make_app):
    """Curators' working notes (“…凭记忆…未取得”) stay on the curator pages; drafters and other systems
    see the public explanation (definition) only."""
    from tests.api_helpers import curator

    notes = {r.code: r.note for r in library.draft_records(seeded_db, "indicator") if len(r.note or "") >= 8}
    assert len(notes) >= 50
    app = make_app()
    client = app.test_client()
    sample = sorted(notes)[::max(1, len(notes) // 20)]
    for code in sample:
        for url in (f"/indicators/{code}", f"/api/v1/indicators/{code}"):
            resp = client.get(url)
            assert resp.status_code == 200, url
            assert notes[code] not in resp.get_data(as_text=True), url
    body = client.get(f"/api/v1/indicators/{sample[0]}?version=draft", headers=curator(app)).get_json()
    assert body["curator_note"] == notes[sample[0]]  # the curators still read it
    for path in ("/search?q=满意度", "/api/v1/indicators?q=满意度&per_page=50"):
        page = client.get(path).get_data(as_text=True)
        assert not [code for code, note in notes.items() if note in page], path

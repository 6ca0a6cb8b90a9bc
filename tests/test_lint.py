"""The content lint: each rule with an indicator that breaks it and one that passes; errors block publishing;
the seeded library has none."""
from __future__ import annotations

import json

import pytest

from kb import gates, library
from kb.lint import lint, lint_indicator
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


def test_a_lint_error_blocks_publishing_with_the_rule_and_item_named(library):
    library_create = {"code": "T-L-009", "kind": "specific", "level1": "产出指标", "level2": "数量指标", "name": "培训人数",
                      "unit": "%", "operator": "≥", "sectors": ["210"], "source": {"document": "测试"}, "provenance": "local"}
    from kb import library as kb_library
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

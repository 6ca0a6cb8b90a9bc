"""kb.targets.quotas: quantities read from Chinese text, the standards that apply, and the estimate."""
from __future__ import annotations

import pytest

from kb.library import snapshot as snapshots
from kb.targets.project import scope
from kb.targets.quotas import applicable, estimate, parse_quantity
from kb.targets.table import Project


@pytest.fixture
def snap(targets_db):
    return snapshots.load(targets_db)


def _quotas(snap, name: str, description: str = "", sector: str = "", project_type: str = ""):
    project = Project(name=name, description=description, sector=sector, project_type=project_type)
    sc = scope(snap, project)
    q = parse_quantity(project.text)
    matches = applicable(snap, project.text, sc.type_codes, sc.sector, q)
    return matches, estimate(matches, q)


def _selected(matches) -> list[str]:
    return [m.quota.code for m in matches if m.selected]


# --- quantities ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("三类培训 3 天 100 人", {"days": 3, "people": 100, "training_class": "三"}),
    ("培训班2期，每期80人，每期5天", {"sessions": 2, "people": 80, "days": 5}),
    ("召开座谈会1次，50人，1天", {"sessions": 1, "people": 50, "days": 1, "meeting_class": "四"}),
    ("举办三期培训班，每期两天，每期一百二十名学员", {"sessions": 3, "days": 2, "people": 120}),
    ("全年培训500人次，每期3天", {"person_times": 500, "days": 3, "people": None}),
    ("服务常住人口50万人，12月31日前完成，资金30天内拨付", {"population": 500000, "days": None, "people": None}),
    ("副高职称专家授课8学时", {"hours": 8}),
    ("二类会议，会期3天，参会300人", {"meeting_class": "二", "days": 3, "people": 300}),
    ("为1.2万名学生提供营养餐，全年200天", {"students": 12000, "days": 200, "people": None}),
    ("一次性补助", {"sessions": None}),
    ("新建高标准农田1.2万亩", {"amounts": {"亩": 12000}}),
])
def test_parse_quantity(text, expected):
    q = parse_quantity(text)
    for key, value in expected.items():
        assert getattr(q, key) == value, (key, q)


# --- which standards ------------------------------------------------------------------------------

def test_training_gets_the_2016_training_quota_by_class_and_the_lecture_fees(snap):
    matches, est = _quotas(snap, "全市财务人员业务培训", "三类培训 3 天 100 人", project_type="培训")
    codes = [m.quota.code for m in matches]
    assert {"Q-PXF-2016-1", "Q-PXF-2016-2", "Q-PXF-2016-3", "Q-JKF-2016-1", "Q-JKF-2016-2", "Q-JKF-2016-3"} <= set(codes)
    assert "Q-PXF-2013-2" not in codes  # superseded
    assert _selected(matches) == ["Q-PXF-2016-3", "Q-JKF-2016-1"]
    assert est.total_yuan == 550 * 3 * 100
    assert est.lines[0].formula == "550 × 3 × 100"
    assert "三类培训综合定额" in est.lines[0].explanation and "165000元" in est.lines[0].explanation


def test_training_class_named_in_the_text_and_sessions(snap):
    matches, est = _quotas(snap, "处级干部轮训", "二类培训，培训班2期，每期80人，每期5天")
    assert "Q-PXF-2016-2" in _selected(matches)
    assert est.total_yuan == 650 * 5 * 80 * 2
    assert est.lines[0].formula == "650 × 5 × 80 × 2"


def test_training_over_thirty_days_counts_the_extra_days_at_seventy_percent(snap):
    _, est = _quotas(snap, "青年干部培训班", "三类培训40天，50人")
    assert est.total_yuan == pytest.approx(550 * (30 + 10 * 0.7) * 50)
    assert "70%" in est.lines[0].note


def test_lecture_fee_by_title_and_hours(snap):
    matches, est = _quotas(snap, "业务培训", "三类培训2天，60人，邀请正高级职称专家授课8学时")
    assert "Q-JKF-2016-2" in _selected(matches)
    lecture = next(line for line in est.lines if line.code == "Q-JKF-2016-2")
    assert lecture.subtotal == 1000 * 8
    assert est.total_yuan == 550 * 2 * 60 + 1000 * 8


def test_a_units_own_meeting_is_class_three(snap):
    matches, est = _quotas(snap, "全市卫生健康工作座谈会", "召开座谈会1次，50人，1天")
    assert {m.quota.code for m in matches} == {"Q-T-1", "Q-HYF-2016-1", "Q-HYF-2016-2"}
    assert _selected(matches) == ["Q-T-1"]
    assert est.total_yuan == 550 * 1 * 50


def test_meeting_class_named_in_the_text(snap):
    matches, est = _quotas(snap, "全省工作会议", "召开二类会议，会期2天，参会200人")
    assert _selected(matches) == ["Q-HYF-2016-2"]
    assert est.total_yuan == 650 * 2 * 200
    matches, est = _quotas(snap, "全省工作会议", "召开二类会议，会期3天，参会200人")
    assert any("不超过2天" in n for n in est.notes)


def test_travel_by_the_words_of_the_text(snap):
    matches, est = _quotas(snap, "外出考察学习", "赴外地出差考察，5人3天")
    assert set(_selected(matches)) == {"Q-CLF-2014-HSBZ", "Q-CLF-2014-SNJT"}
    assert est.total_yuan == (100 + 80) * 3 * 5
    matches, _ = _quotas(snap, "援藏考察", "赴西藏出差，5人3天")
    assert "Q-CLF-2014-HSBZ-XQX" in _selected(matches)


def test_sector_standard_by_sector_and_keywords(snap):
    matches, est = _quotas(snap, "基本公共卫生服务补助", "按辖区常住人口50万人补助国家基本公共卫生服务", sector="公共卫生")
    assert _selected(matches) == ["Q-JBGW-2023"]
    assert "行业" in matches[0].reason
    assert est.total_yuan == 89 * 500000 and est.total_wan_yuan == 4450
    # the same words in a project of another sector bring no sector standard
    matches, _ = _quotas(snap, "高标准农田建设", "基本公共卫生服务宣传", sector="农田建设")
    assert not any(m.quota.category == "基本公共卫生服务" for m in matches)


def test_nothing_applies_and_nothing_is_estimated(snap):
    matches, est = _quotas(snap, "医疗设备购置", "购置CT 2台", sector="公立医院")
    assert matches == [] and est is None
    matches, est = _quotas(snap, "业务培训", "培训若干人", project_type="培训")
    assert _selected(matches) and est is None  # no quantities stated


@pytest.mark.parametrize("text, budget, phrase", [
    ("项目预算800万元，培训500人次", 800, "800万元"),
    ("总投资1.2亿元", 12000, "1.2亿元"),
    ("资金八百万，年内完成", 800, "八百万"),
    ("安排资金3,000,000元", 300, "3,000,000元"),
    ("每人补助500元，人均1.2万元", None, ""),  # a unit price is not the project's budget
])
def test_stated_reads_the_budget_a_summary_gives(text, budget, phrase):
    from kb.targets.quotas import stated

    found = stated(text)
    assert found.budget_wan_yuan == budget and found.budget_phrase == phrase


def test_stated_lists_the_quantities_the_estimate_reads():
    from kb.targets.quotas import stated

    assert stated("举办培训班2期，每期80人，全年培训500人次").quantities == ["500人次", "2期", "80人"]

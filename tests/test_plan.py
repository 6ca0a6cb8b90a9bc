"""The plan dashboard's figures, computed from the seeded library."""
from datetime import date

import pytest

from kb.plan import progress as plan
from kb.library import snapshot, versions
from kb.models import ChangeRequest, QueryLog


@pytest.fixture
def seeded(seeded_db):
    return seeded_db


def _by_code(progress):
    return {m.milestone.code: m for y in progress.years for m in y.milestones}


def test_dashboard_counts_come_from_the_library(seeded):
    version = versions.resolve(seeded)
    indicators = versions.records(seeded, "indicator", version)
    quotas = versions.records(seeded, "quota", version)
    progress = plan.progress(seeded, snapshot.load(seeded, version), today=date(2024, 7, 1))
    rows = _by_code(progress)
    assert [y.year for y in progress.years] == [2024, 2025, 2026]

    hospital = sum(1 for i in indicators if i.kind == "specific" and i.status not in ("retired", "superseded")
                   and any(s.startswith("21002") for s in i.sectors))
    # three milestones of 21002 (56 三级, 28 二级, 60 整体) share what 21002 holds, each indicator counted once
    assert rows["M2024-06"].held == hospital >= 84
    assert (rows["M2024-06"].actual, rows["M2024-07"].actual) == (56, 28)
    assert rows["M2024-06"].actual + rows["M2024-07"].actual + rows["M2024-08"].actual == hospital
    assert rows["M2024-06"].ratio == 1.0
    assert rows["M2024-04"].actual == sum(1 for i in indicators if i.kind == "common" and "PT-PX" in i.project_types)
    assert rows["M2024-12"].actual == sum(1 for q in quotas if q.status == "current")
    assert rows["M2024-13"].actual == 0 and rows["M2024-13"].ratio == 1.0  # a task, nothing to count
    education = sum(1 for i in indicators if i.kind == "specific" and any(s.startswith("205") for s in i.sectors))
    assert rows["M2025-02"].actual == education
    assert not rows["M2025-02"].overdue  # due 2025-12-15, today 2024-07-01
    year = progress.years[0]
    assert year.done == sum(min(m.actual, m.milestone.target_count) for m in year.milestones)
    assert 0 < year.ratio <= 1
    assert progress.sector_counts["210"] >= 84
    assert "D-FIN" in {code for code, _ in progress.departments_without}
    assert progress.project_types_without == []  # every project type has its common set


def test_overdue_is_computed_against_today(seeded):
    version = versions.resolve(seeded)
    later = _by_code(plan.progress(seeded, snapshot.load(seeded, version), today=date(2027, 1, 1)))
    assert all(m.overdue == (m.actual < m.milestone.target_count) for m in later.values())


def test_demand_signals(seeded):
    for q, n in (("无人机巡检", 3), ("碳排放", 1)):
        for _ in range(n):
            seeded.add(QueryLog(query=q, normalized=q, total=0))
    seeded.add(QueryLog(query="门诊", normalized="门诊", total=12))
    for _ in range(2):
        seeded.add(ChangeRequest(sector="21002", name="日间手术占比"))
    seeded.add(ChangeRequest(sector="205", name="课后服务覆盖率"))
    seeded.commit()
    progress = plan.progress(seeded, snapshot.load(seeded, versions.resolve(seeded)))
    assert progress.zero_result_queries[:2] == [("无人机巡检", 3), ("碳排放", 1)]
    assert progress.proposals[0] == ("21002", "日间手术占比", 2)


def test_each_record_counts_for_one_milestone_only():
    """A library built to expose double counting: commons claimed by three unscoped milestones and one typed
    one; 农业 indicators tagged with two sectors; 210 beside 21003."""
    from types import SimpleNamespace as R

    from kb.models import Milestone

    def ind(code, kind="specific", sectors=(), types=()):
        return R(code=code, kind=kind, sectors=list(sectors), project_types=list(types), departments=[], status="standard")

    indicators = ([ind(f"GX-{n}", "common") for n in range(10)] + [ind(f"PX-{n}", "common", types=["PT-PX"]) for n in range(4)]
                  + [ind(f"NY-{n}", sectors=["21301", "21302"]) for n in range(6)]
                  + [ind(f"WS-{n}", sectors=["21001"]) for n in range(5)] + [ind(f"JC-{n}", sectors=["21003"]) for n in range(2)])
    milestones = [Milestone(code="A1", year=2024, title="", measure="common", target_count=5),
            Milestone(code="A2", year=2024, title="", measure="common", target_count=3),
            Milestone(code="A3", year=2024, title="", measure="common", target_count=20),
            Milestone(code="A4", year=2024, title="", measure="common", project_type="PT-PX", target_count=8),
            Milestone(code="B1", year=2025, title="", measure="specific", sector="21301", target_count=6),
            Milestone(code="C1", year=2026, title="", measure="specific", sector="21302", target_count=6),
            Milestone(code="D1", year=2024, title="", measure="specific", sector="210", target_count=5),
            Milestone(code="D2", year=2024, title="", measure="specific", sector="21003", target_count=30)]
    got = plan.allocate(milestones, indicators, [], {m.sector for m in milestones if m.sector})
    actual = {code: n for code, (n, _, _) in got.items()}
    # the typed commons go to their type; the other 10 fill A1, then A2, the rest to A3
    assert actual == {"A1": 5, "A2": 3, "A3": 2, "A4": 4, "B1": 6, "C1": 0, "D1": 5, "D2": 2}
    assert sum(actual.values()) == len(indicators)  # every indicator counted exactly once
    assert got["A1"][1] == got["A3"][1] == 10  # what the shared scope holds

"""The three-year building plan: years and milestones (a working document,
edited in place rather than versioned)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, func, select
from sqlmodel import Session

from kb.models import ChangeRequest, Milestone, PlanYear, QueryLog


def replace_plan(session: Session, years: list[dict], milestones: list[dict]) -> None:
    """Replace the whole plan (used by the seed loader and by restore)."""
    session.execute(delete(Milestone))
    session.execute(delete(PlanYear))
    session.flush()
    for y in years:
        session.add(PlanYear(**y))
    session.flush()
    for m in milestones:
        session.add(Milestone(**m))
    session.flush()


def plan_years(session: Session) -> list[PlanYear]:
    return list(session.execute(select(PlanYear).order_by(PlanYear.year)).scalars())


def milestones(session: Session, year: int | None = None) -> list[Milestone]:
    stmt = select(Milestone).order_by(Milestone.year, Milestone.code)
    if year is not None:
        stmt = stmt.where(Milestone.year == year)
    return list(session.execute(stmt).scalars())


# --- progress, computed from the library itself ------------------------------------



@dataclass
class MilestoneProgress:
    milestone: Milestone
    scope: str  # what is counted, in words
    actual: int  # this milestone's share of what its scope holds (kb.plan.progress.allocate)
    overdue: bool
    held: int = 0  # what the scope holds in all, shared by the milestones of that scope

    @property
    def ratio(self) -> float:
        if not self.milestone.target_count:
            return 1.0
        return min(self.actual / self.milestone.target_count, 1.0)


@dataclass
class YearProgress:
    year: int
    theme: str
    milestones: list[MilestoneProgress]

    @property
    def target(self) -> int:
        return sum(m.milestone.target_count for m in self.milestones)

    @property
    def done(self) -> int:
        return sum(min(m.actual, m.milestone.target_count) for m in self.milestones)

    @property
    def ratio(self) -> float:
        return self.done / self.target if self.target else 1.0


@dataclass
class PlanProgress:
    version: str
    years: list[YearProgress]
    sector_counts: dict[str, int]  # top-level 类 code → specific indicators
    departments_without: list[tuple[str, str]]  # (code, name) of departments with no specific indicator
    project_types_without: list[tuple[str, str]]
    zero_result_queries: list[tuple[str, int]] = field(default_factory=list)
    proposals: list[tuple[str, str, int]] = field(default_factory=list)  # (sector, name, times proposed)


def in_scope(milestone: Milestone, indicators, quotas, other_sectors: set[str]) -> tuple[list, str]:
    """The live records a milestone's scope holds, and what is counted, in words."""
    if milestone.measure == "task":
        return [], "工作任务（不计数）"
    if milestone.measure == "quota":
        live = [q for q in quotas if q.status == "current"]
        if milestone.sector:
            live = [q for q in live if any(s.startswith(milestone.sector) for s in q.sectors)]
        return live, "现行支出标准"
    live = [i for i in indicators if i.status not in ("retired", "superseded")]
    if milestone.measure == "common":
        live = [i for i in live if i.kind == "common"]
        if milestone.project_type:
            return [i for i in live if milestone.project_type in i.project_types], f"项目类别 {milestone.project_type} 的共性指标"
        return live, "共性指标"
    live = [i for i in live if i.kind == "specific"]
    if milestone.sector:
        live = [i for i in live if any(s.startswith(milestone.sector) for s in i.sectors)]
        scope = f"功能分类 {milestone.sector} 下的个性指标"
    elif milestone.department or milestone.project_type:
        scope = "个性指标"
    else:
        # "其余行业": specific indicators of sectors no other milestone names
        live = [i for i in live if not any(s.startswith(o) for s in i.sectors for o in other_sectors)]
        return live, "其余行业的个性指标"
    if milestone.department:
        live = [i for i in live if milestone.department in i.departments]
        scope += f"（部门 {milestone.department}）"
    if milestone.project_type:
        live = [i for i in live if milestone.project_type in i.project_types]
        scope += f"（项目类别 {milestone.project_type}）"
    return live, scope


def scope_of(m: Milestone) -> tuple:
    return (m.measure, m.sector or "", m.department or "", m.project_type or "")


def _specificity(m: Milestone) -> tuple[int, int]:
    """Narrower scopes first: a department or project type, then the longer sector code."""
    return (1 if (m.department or m.project_type) else 0, len(m.sector or ""))


def allocate(plan: list[Milestone], indicators, quotas, other_sectors: set[str]) -> dict[str, tuple[int, int, str]]:
    """Milestone code → (what it counts, what its scope holds in all, the scope in words), each record counted once.

    A record in the scope of several milestones goes to the narrowest (21003 before 210, a project type before
    all common indicators), on a tie to the earliest. Milestones of one scope share what it holds: the earliest
    is filled up to its target first, then the next (any surplus stays with the last), so three milestones of
    the common indicators no longer each count the same 177."""
    ordered = sorted(plan, key=lambda m: (m.year, m.code))
    holds = {m.code: in_scope(m, indicators, quotas, other_sectors) for m in ordered}
    owner: dict[tuple[str, str], tuple] = {}  # (kind of record, code) → the scope that counts it
    for m in sorted(ordered, key=lambda m: (_specificity(m), -m.year), reverse=True):
        kind = "quota" if m.measure == "quota" else "indicator"
        for record in holds[m.code][0]:
            owner.setdefault((kind, record.code), scope_of(m))
    owned: dict[tuple, int] = {}
    for scope in owner.values():
        owned[scope] = owned.get(scope, 0) + 1
    result = {}
    by_scope: dict[tuple, list[Milestone]] = {}
    for m in ordered:
        by_scope.setdefault(scope_of(m), []).append(m)
    for scope, group in by_scope.items():
        left = owned.get(scope, 0)
        for k, m in enumerate(group):
            share = left if k == len(group) - 1 else min(left, m.target_count)
            left -= share
            result[m.code] = (share, owned.get(scope, 0), holds[m.code][1])
    return result


def progress(session: Session, snap, today: date | None = None) -> PlanProgress:
    """The plan's progress counted in a version, given its snapshot (kb.library.snapshot.load).

    Counted over the snapshot's light rows: a published version's is read once per process, and reading
    every record for it took a second of each visit to the plan pages at 4,000 indicators."""
    today = today or date.today()
    indicators = snap.rows
    quotas = snap.quotas
    plan = milestones(session)
    named_sectors = {m.sector for m in plan if m.sector}
    counted = allocate(plan, indicators, quotas, named_sectors)
    years = []
    for y in plan_years(session):
        rows = []
        for m in milestones(session, y.year):
            actual, held, scope = counted[m.code]
            overdue = bool(m.due_date and m.due_date < today and actual < m.target_count)
            rows.append(MilestoneProgress(m, scope, actual, overdue, held))
        years.append(YearProgress(y.year, y.theme, rows))
    specific = [i for i in indicators if i.kind == "specific" and i.status not in ("retired", "superseded")]
    sector_counts = Counter(top for i in specific for top in {s[:3] for s in i.sectors})
    covered_departments = {d for i in specific for d in i.departments}
    covered_types = {t for i in indicators if i.status != "retired" for t in i.project_types}
    departments = snap.departments.values()
    project_types = snap.project_types.values()
    return PlanProgress(
        version=snap.version.label,
        years=years,
        sector_counts=dict(sorted(sector_counts.items())),
        departments_without=[(d.code, d.name) for d in departments if d.code not in covered_departments],
        project_types_without=[(p.code, p.name) for p in project_types if p.code not in covered_types],
        zero_result_queries=zero_result_queries(session),
        proposals=top_proposals(session),
    )


def zero_result_queries(session: Session, limit: int = 20) -> list[tuple[str, int]]:
    rows = session.execute(
        select(QueryLog.normalized, func.count().label("n"))
        .where(QueryLog.total == 0, QueryLog.normalized != "")
        .group_by(QueryLog.normalized)
        .order_by(func.count().desc(), QueryLog.normalized)
        .limit(limit)
    )
    return [(q, n) for q, n in rows]


def top_proposals(session: Session, limit: int = 20) -> list[tuple[str, str, int]]:
    rows = session.execute(
        select(ChangeRequest.sector, ChangeRequest.name, func.count().label("n"))
        .where(ChangeRequest.status == "pending")
        .group_by(ChangeRequest.sector, ChangeRequest.name)
        .order_by(func.count().desc(), ChangeRequest.name)
        .limit(limit)
    )
    return [(s or "", name, n) for s, name, n in rows]

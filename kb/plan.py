"""The three-year building plan: years and milestones (a working document,
edited in place rather than versioned)."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlmodel import Session

from kb.models import Milestone, PlanYear


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

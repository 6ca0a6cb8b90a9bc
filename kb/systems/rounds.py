"""Evaluation rounds: units scored with an indicator system, saved with the
input and the version they were scored against.

A round names the published version it used (never "current" or the draft),
so scoring its input again gives the same figures whatever was published
since: published versions never change.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from kb.systems import tree as systems
from kb.library import versions
from kb.errors import InvalidInput, NotFound
from kb.models import EvaluationRound
from kb.systems.scoring import RoundScores, score_round


class UnknownRound(NotFound):
    error = "round_not_found"
    meaning = "该指标体系没有这个编号的评分轮次"

    def __init__(self, code: str, round_id):
        super().__init__(f"指标体系“{code}”没有编号为 {round_id} 的评分轮次")


@dataclass(frozen=True)
class RoundSummary:
    id: int
    system: str
    version: str
    created_by: str
    created_at: datetime
    units: int


def scores(session: Session, code: str, units, label: str | None = None) -> RoundScores:
    """Score `units` with system `code` as version `label` had it (default current), saving nothing."""
    ref = versions.resolve(session, label)
    if ref.is_draft:
        # a round must be reproducible, and the draft changes under it
        raise InvalidInput("评分须依据已发布的版本，草稿不能用于评分")
    return score_round(systems.system_tree(session, code, ref), units)


def score_and_save(session: Session, code: str, units, label: str | None = None, user: str = "") -> tuple[int, RoundScores]:
    """Score and save as one round; bad input raises before anything is written."""
    result = scores(session, code, units, label)
    row = EvaluationRound(system_code=result.system, version_label=result.version, created_by=user or "",
                          units=units, results=result.to_dict())
    session.add(row)
    session.commit()
    return row.id, result


def get_round(session: Session, code: str, round_id: int) -> EvaluationRound:
    # an id beyond the column's range would be a database error on PostgreSQL, not a missing round
    known = isinstance(round_id, int) and 0 < round_id < 2**31
    row = session.get(EvaluationRound, round_id) if known else None
    if row is None or row.system_code != code:
        raise UnknownRound(code, round_id)
    return row


def list_rounds(session: Session, code: str, limit: int = 200) -> list[RoundSummary]:
    """The rounds of a system, newest first."""
    rows = session.execute(
        select(EvaluationRound.id, EvaluationRound.system_code, EvaluationRound.version_label,
               EvaluationRound.created_by, EvaluationRound.created_at, EvaluationRound.units)
        .where(EvaluationRound.system_code == code)
        .order_by(EvaluationRound.id.desc())
        .limit(limit)
    ).all()
    return [RoundSummary(r.id, r.system_code, r.version_label, r.created_by, r.created_at, len(r.units or [])) for r in rows]


def rescore(session: Session, row: EvaluationRound) -> RoundScores:
    """The round's input scored again with the version it names: the same figures as saved."""
    return scores(session, row.system_code, row.units, row.version_label)


def round_dict(row: EvaluationRound) -> dict:
    """A saved round as the API and the command line show it (the results plus who and when)."""
    return {**row.results, "round": row.id, "created_by": row.created_by, "created_at": row.created_at}

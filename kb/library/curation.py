"""The curator's work on the draft beyond single edits: finding indicators,
spotting duplicates and merging them.

A merge changes several records (the indicators merged away, the systems
whose leaves point at them, the indicators already superseded by them) and
is applied in one transaction with revision-guarded writes, so it lands
whole or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Hashable

from sqlalchemy import or_, select
from sqlmodel import Session

from kb.errors import InvalidInput
from kb.library.draft import (
    DRAFT_MODELS,
    KIND_NAMES,
    draft_record,
    draft_records,
    field_changes,
    guarded_update,
    log_change,
    record_data,
    require_revision,
    validate_record,
)
from kb.models import Indicator

INACTIVE = ("retired", "superseded")


# --- finding draft indicators -----------------------------------------------------------

@dataclass(frozen=True)
class DraftFilter:
    q: str = ""  # part of the code or the name
    kind: str = ""
    status: str = ""
    level1: str = ""
    sector: str = ""  # a 功能分类 code; its sub-codes match too
    department: str = ""
    project_type: str = ""

    def is_empty(self) -> bool:
        return not any(self.__dict__.values())


@dataclass
class DraftPage:
    total: int
    items: list[Indicator]
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total


def find_draft_indicators(session: Session, flt: DraftFilter, offset: int = 0, limit: int = 50) -> DraftPage:
    stmt = select(Indicator).order_by(Indicator.code)
    q = flt.q.strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Indicator.code.ilike(like), Indicator.name.like(like)))
    for column, value in ((Indicator.kind, flt.kind), (Indicator.status, flt.status), (Indicator.level1, flt.level1)):
        if value:
            stmt = stmt.where(column == value)
    rows = list(session.execute(stmt).scalars())
    # Scopes are JSON lists: filtered here rather than in engine-specific SQL.
    if flt.sector:
        rows = [i for i in rows if any(s.startswith(flt.sector) for s in i.sectors or ())]
    if flt.department:
        rows = [i for i in rows if flt.department in (i.departments or ())]
    if flt.project_type:
        rows = [i for i in rows if flt.project_type in (i.project_types or ())]
    offset = max(offset, 0)
    return DraftPage(len(rows), rows[offset:offset + limit], offset, limit)


def duplicate_groups(session: Session, identity: Callable[[dict], Hashable]) -> list[list[Indicator]]:
    """Live draft indicators that share an identity (e.g. normalised name and scope),
    in groups of two or more, each ordered by code."""
    groups: dict[Hashable, list[Indicator]] = {}
    for obj in draft_records(session, "indicator"):
        if obj.status not in INACTIVE:
            groups.setdefault(identity(record_data("indicator", obj)), []).append(obj)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0].code)


# --- merging ---------------------------------------------------------------------------

@dataclass
class MergeReport:
    survivor: str
    superseded: list[str]
    systems: list[str] = field(default_factory=list)  # systems whose leaves now point at the survivor
    redirected: list[str] = field(default_factory=list)  # indicators superseded by a merged one, now by the survivor


def merge_indicators(session: Session, survivor: str, others: list[str], expected: dict[str, int],
                     user: str = "") -> MergeReport:
    """Keep `survivor`; mark each of `others` superseded by it and re-point what referred to them.

    `expected` holds the revision of each indicator as the curator saw it
    (survivor included); if any has moved since, nothing is written.
    """
    others = list(dict.fromkeys(c for c in others if c))
    if not others:
        raise InvalidInput("请至少选择一条要并入的指标")
    if survivor in others:
        raise InvalidInput("保留的指标不能同时被并入")
    keep = draft_record(session, "indicator", survivor)
    if keep.status in INACTIVE:
        raise InvalidInput(f"保留的指标“{survivor}”已停用或已被替代，请另选")
    merged = [draft_record(session, "indicator", code) for code in others]
    for obj in [keep, *merged]:
        seen = expected.get(obj.code)
        if seen is not None:
            require_revision(obj, seen, f"“{obj.code}”在您打开此页后已被他人修改，请刷新后再合并；未做任何修改")
    gone = set(others)
    report = MergeReport(survivor, others)
    try:
        for obj in merged:
            _merge_update(session, "indicator", obj, {"status": "superseded", "superseded_by": survivor},
                            expected.get(obj.code, obj.revision), user, "merge")
        for obj in draft_records(session, "indicator"):
            if obj.superseded_by in gone and obj.code not in gone:
                _merge_update(session, "indicator", obj, {"superseded_by": survivor}, obj.revision, user, "merge")
                report.redirected.append(obj.code)
        for system in draft_records(session, "system"):
            nodes, moved = _repoint(system.nodes or [], gone, survivor)
            if moved:
                _merge_update(session, "system", system, {"nodes": nodes}, system.revision, user, "merge")
                report.systems.append(system.code)
        session.commit()
    except Exception:
        session.rollback()
        raise
    session.expire_all()
    return report


def _repoint(nodes: list[dict], gone: set[str], survivor: str) -> tuple[list[dict], bool]:
    out, moved = [], False
    for node in nodes:
        node = dict(node)
        if node.get("indicator") in gone:
            node["indicator"], moved = survivor, True
        if node.get("children"):
            node["children"], below = _repoint(node["children"], gone, survivor)
            moved = moved or below
        out.append(node)
    return out, moved


def _merge_update(session: Session, kind: str, obj, values: dict, expected: int, user: str, action: str) -> None:
    """Write `values` to a draft record if it is still at `expected`, log it; no commit."""
    before = record_data(kind, obj)
    after = {**before, **values}
    _, problems = validate_record(kind, after)
    if problems:
        raise InvalidInput(f"{KIND_NAMES[kind]}“{obj.code}”修改后内容有误", problems)
    guarded_update(session, DRAFT_MODELS[kind], obj.code, expected, values, f"“{obj.code}”已被他人修改，请刷新后再试；未做任何修改")
    log_change(session, kind, obj.code, action, field_changes(before, after), user)

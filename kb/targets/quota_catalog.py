"""The quota standards (支出定额标准) of a version: finding them by words,
category and tier, grouping them by category (with what replaced what), and the estimate a project's text implies (kb.targets.quotas does
the matching and the arithmetic)."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlmodel import Session

from kb.library import snapshot as snapshots
from kb.models import QuotaRecord
from kb.targets.project import scope as resolve_scope
from kb.targets.quotas import CATEGORY_WORDS, Estimate, Quantity, QuotaMatch, applicable, estimate, parse_quantity
from kb.targets.table import Project
from kb.library.versions import VersionRef


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _text(q: QuotaRecord) -> str:
    return _fold(" ".join([q.code, q.name, q.category, q.tier, q.standard_type, q.scope, q.region, *q.keywords]))


def find(session: Session, version: VersionRef, query: str = "", category: str | None = None,
         tier: str | None = None, status: str | None = None) -> list[QuotaRecord]:
    """Standards whose text holds every word of `query`, of this category and tier
    (a tier matches when it contains the words given: "三类" finds 三类会议)."""
    words = _fold(query).split()
    found = []
    for q in snapshots.load(session, version).quotas:
        if category and q.category != category:
            continue
        if tier and _fold(tier) not in _fold(q.tier):
            continue
        if status and q.status != status:
            continue
        if words and not all(w in _text(q) for w in words):
            continue
        found.append(q)
    return sorted(found, key=lambda q: (q.category, q.code))


def categories(session: Session, version: VersionRef) -> list[str]:
    return sorted({q.category for q in snapshots.load(session, version).quotas})


@dataclass
class CategoryGroup:
    name: str
    quotas: list[QuotaRecord] = field(default_factory=list)

    @property
    def tiers(self) -> list[str]:
        return list(dict.fromkeys(q.tier for q in self.quotas if q.tier))


def category_order(name: str) -> tuple:
    known = list(CATEGORY_WORDS)
    return (known.index(name) if name in known else len(known), name)


def group_by_category(quotas: list[QuotaRecord]) -> list[CategoryGroup]:
    groups: dict[str, CategoryGroup] = {}
    for q in sorted(quotas, key=lambda q: (q.status != "current", q.code)):
        groups.setdefault(q.category, CategoryGroup(q.category)).quotas.append(q)
    return [groups[name] for name in sorted(groups, key=category_order)]


def successors(quotas: list[QuotaRecord]) -> dict[str, QuotaRecord]:
    """code of a replaced standard → the standard that replaced it."""
    return {q.supersedes: q for q in quotas if q.supersedes}


@dataclass
class ProjectEstimate:
    version: str
    quantity: Quantity
    matches: list[QuotaMatch]
    estimate: Estimate | None


def estimate_project(session: Session, project: Project, version: VersionRef) -> ProjectEstimate:
    """Which standards apply to the project, the tier of each, and the cost the quantities in its text allow."""
    snap = snapshots.load(session, version)
    sc = resolve_scope(snap, project)
    quantity = parse_quantity(project.text)
    matches = applicable(snap, project.text, sc.type_codes, sc.sector, quantity)
    return ProjectEstimate(version.label, quantity, matches, estimate(matches, quantity))

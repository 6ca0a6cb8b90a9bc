"""Matching names from a spreadsheet to indicator codes (what the W3C
Reconciliation Service API asks of a service).

Candidates come from two places: indicators whose name is the query's name
(compared as kb.snapshot.name_key compares them) or whose code it is, and the
search engine's hits for the words. Each is scored 0–100 by how alike the
names are; an exact name or code scores 100 and is a `match` when it is the
only such candidate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from sqlmodel import Session

from kb import search
from kb import snapshot as snapshots
from kb.models import IndicatorRecord
from kb.search.model import SearchFilters
from kb.snapshot import name_key
from kb.versions import VersionRef

# Types of entity the service knows: every indicator, or common / specific ones.
TYPES = {"indicator": "绩效指标", "common": "共性指标", "specific": "个性指标"}
DEFAULT_TYPE = "indicator"
# Query properties that narrow the candidates, as the search filters them.
FILTER_PROPERTIES = {
    "sector": "行业（功能分类编码）",
    "level1": "一级指标",
    "level2": "二级指标",
    "department": "部门",
    "project_type": "项目类别",
}
LIVE = ("standard", "candidate")
RECALL = 15  # search hits looked at per query, before scoring


@dataclass(frozen=True)
class Query:
    text: str = ""
    types: tuple[str, ...] = ()
    limit: int = 5
    properties: tuple[tuple[str, str], ...] = ()  # (pid, value)


@dataclass
class Candidate:
    id: str
    name: str
    score: float
    match: bool
    description: str
    types: list[tuple[str, str]]
    features: list[tuple[str, float | bool]] = field(default_factory=list)


def describe(ind: IndicatorRecord) -> str:
    parts = [f"{ind.level1}/{ind.level2}", TYPES.get(ind.kind, ind.kind)]
    if ind.unit:
        parts.append(f"单位 {ind.unit}")
    return " · ".join(parts)


def types_of(ind: IndicatorRecord) -> list[tuple[str, str]]:
    return [(DEFAULT_TYPE, TYPES[DEFAULT_TYPE])] + ([(ind.kind, TYPES[ind.kind])] if ind.kind in TYPES else [])


def similarity(a: str, b: str) -> float:
    ka, kb_ = name_key(a), name_key(b)
    if not ka or not kb_:
        return 0.0
    return SequenceMatcher(None, ka, kb_).ratio()


def _filters(query: Query) -> SearchFilters | None:
    """The search filters the query asks for; None when it asks for a type this service lacks."""
    values = {pid: value for pid, value in query.properties if pid in FILTER_PROPERTIES and value}
    kinds = {t for t in query.types if t != DEFAULT_TYPE}
    if any(t not in TYPES for t in query.types) or len(kinds) > 1:
        return None
    return SearchFilters(kind=next(iter(kinds), None), **values)


def _passes(ind: IndicatorRecord, f: SearchFilters) -> bool:
    if ind.status not in LIVE:
        return False
    if f.kind and ind.kind != f.kind:
        return False
    if f.level1 and f.level1 not in (ind.level1, ind.target_level1):
        return False
    if f.level2 and f.level2 not in (ind.level2, ind.target_level2):
        return False
    if f.sector and not any(s.startswith(f.sector) for s in ind.sectors):  # the sector or one inside it
        return False
    if f.department and f.department not in ind.departments:
        return False
    return not (f.project_type and f.project_type not in ind.project_types)


def reconcile(session: Session, index_dir: Path | str, query: Query, version: VersionRef) -> list[Candidate]:
    """The best candidates for one query, best first."""
    filters = _filters(query)
    text = (query.text or "").strip()
    if filters is None or not text:
        return []
    snap = snapshots.load(session, version)
    exact: dict[str, IndicatorRecord] = {}
    by_code = snap.by_code.get(text.upper())
    if by_code is not None and _passes(by_code, filters):
        exact[by_code.code] = by_code
    for ind in snap.by_name.get(name_key(text), []):
        if _passes(ind, filters):
            exact[ind.code] = ind
    result = search.search(session, index_dir, text, filters, version.label, per_page=RECALL, log=False, facets=False)
    unique = len(exact) == 1
    candidates: dict[str, Candidate] = {}
    for ind in exact.values():
        candidates[ind.code] = Candidate(ind.code, ind.name, 100.0, unique, describe(ind), types_of(ind),
                                         [("name_similarity", 1.0), ("exact", True)])
    for hit in result.hits:
        ind = snap.by_code.get(hit.code)
        if hit.code in candidates or ind is None or not _passes(ind, filters):
            continue
        ratio = similarity(text, ind.name)
        candidates[ind.code] = Candidate(ind.code, ind.name, round(min(99.0, 100 * ratio), 1), False, describe(ind),
                                         types_of(ind), [("name_similarity", round(ratio, 4)), ("exact", False),
                                                         ("search_score", round(hit.score, 4))])
    ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.id))
    return ranked[: max(1, query.limit)]


def suggest(session: Session, index_dir: Path | str, prefix: str, version: VersionRef, cursor: int = 0,
            limit: int = 10) -> list[IndicatorRecord]:
    """Indicators whose name (or pinyin) starts with `prefix`, or whose code is it."""
    prefix = (prefix or "").strip()
    if not prefix:
        return []
    snap = snapshots.load(session, version)
    found: list[IndicatorRecord] = []
    by_code = snap.by_code.get(prefix.upper())
    if by_code is not None:
        found.append(by_code)
    for c in search.complete(session, index_dir, prefix, version.label, limit=min(50, cursor + limit + 1)):
        ind = snap.by_code.get(c.code)
        if ind is not None and ind not in found:
            found.append(ind)
    return found[cursor: cursor + limit]

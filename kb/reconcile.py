"""Matching names from a spreadsheet to indicator codes (what the W3C
Reconciliation Service API asks of a service).

Candidates come from two places: indicators whose name is the query's name
(compared as kb.library.snapshot.name_key compares them) or whose code it is, and the
search engine's hits for the words. Each is scored 0–100 by how alike the
names are; an exact name or code scores 100 and is a `match` when it is the
only such candidate. A name that is the query's once the library's own
synonyms are read as one word (门诊病人满意度 = 门诊患者满意度, 培训人数 =
培训人次) scores 95 and is a match when it is the only one. Candidates that
share nothing with the query (score 0) are left out.

Data extension (`extend`) gives the fields of indicators by code, so that a
sheet can pull 计量单位, 指标解释, 计算公式, 一级/二级 … beside the codes it matched.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

from sqlmodel import Session

from kb import search
from kb.library import versions
from kb.library import snapshot as snapshots
from kb.models import IndicatorRecord
from kb.schemas import KIND_LABELS
from kb.search.model import SearchFilters
from kb.library.snapshot import IndicatorRow, name_key
from kb.library.versions import VersionRef

# Types of entity the service knows: every indicator, or common / specific ones.
TYPES = {"indicator": "绩效指标", **KIND_LABELS}
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
    """The search filters the query asks for; None when it asks only for types this service lacks.

    A type array means any of them: ["common", "specific"] or one with "indicator" is every indicator."""
    values = {pid: value for pid, value in query.properties if pid in FILTER_PROPERTIES and value}
    known = [t for t in query.types if t in TYPES]
    if query.types and not known:
        return None
    kinds = set(known)
    kind = next(iter(kinds)) if len(kinds) == 1 and DEFAULT_TYPE not in kinds else None
    return SearchFilters(kind=kind, **values)


def _passes(ind: IndicatorRecord | IndicatorRow, f: SearchFilters) -> bool:
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


SYNONYM_SCORE = 95.0


@dataclass(frozen=True)
class Synonyms:
    """The version's synonym groups as one rewrite: every spelling → the group's first, longest first."""
    pattern: re.Pattern | None
    canonical: dict[str, str]

    def key(self, name: str) -> str:
        key = name_key(name)
        return self.pattern.sub(lambda m: self.canonical[m.group(0)], key) if self.pattern else key


@lru_cache(maxsize=8)
def _synonyms(version_key: tuple, groups: tuple[tuple[str, ...], ...]) -> Synonyms:
    canonical = {}
    for group in groups:
        words = [name_key(w) for w in group if name_key(w)]
        for w in words[1:]:
            canonical.setdefault(w, words[0])
    if not canonical:
        return Synonyms(None, {})
    return Synonyms(re.compile("|".join(map(re.escape, sorted(canonical, key=len, reverse=True)))), canonical)


def synonyms(session: Session, version: VersionRef) -> Synonyms:
    groups = ()
    for record in versions.records(session, "text", version):
        if record.code == "synonyms":
            groups = tuple(tuple(g) for g in (record.data or {}).get("groups", []) if isinstance(g, list))
    return _synonyms((version.id, version.label), groups)


def _same_by_synonyms(snap, words: Synonyms, text: str, filters) -> dict[str, IndicatorRecord]:
    by_key = snap.memo.get("reconcile_synonym_keys")
    if by_key is None:  # built once per snapshot: every name under its synonym-folded key (light rows)
        by_key = {}
        for row in snap.rows:
            by_key.setdefault(words.key(row.name), []).append(row)
        snap.memo["reconcile_synonym_keys"] = by_key
    return {row.code: snap.record(row) for row in by_key.get(words.key(text), []) if _passes(row, filters)}


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
    near = {} if exact else _same_by_synonyms(snap, synonyms(session, version), text, filters)
    result = search.search(session, index_dir, text, filters, version.label, per_page=RECALL, log=False, facets=False)
    candidates: dict[str, Candidate] = {}
    for ind in exact.values():
        candidates[ind.code] = Candidate(ind.code, ind.name, 100.0, len(exact) == 1, describe(ind), types_of(ind),
                                         [("name_similarity", 1.0), ("exact", True)])
    for ind in near.values():
        candidates[ind.code] = Candidate(ind.code, ind.name, SYNONYM_SCORE, len(near) == 1, describe(ind), types_of(ind),
                                         [("name_similarity", round(similarity(text, ind.name), 4)), ("exact", False),
                                          ("synonym", True)])
    for hit in result.hits:
        ind = snap.by_code.get(hit.code)
        if hit.code in candidates or ind is None or not _passes(ind, filters):
            continue
        ratio = similarity(text, ind.name)
        candidates[ind.code] = Candidate(ind.code, ind.name, round(min(99.0, 100 * ratio), 1), False, describe(ind),
                                         types_of(ind), [("name_similarity", round(ratio, 4)), ("exact", False),
                                                         ("search_score", round(hit.score, 4))])
    ranked = sorted((c for c in candidates.values() if c.score > 0), key=lambda c: (-c.score, c.id))
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


# --- data extension ------------------------------------------------------------------------------------

# Fields a sheet can pull beside a matched code: id → (name, how to read it off an indicator)
PROPERTIES: dict[str, tuple[str, object]] = {
    "name": ("指标名称", lambda i: [i.name]),
    "unit": ("计量单位", lambda i: [i.unit]),
    "definition": ("指标解释", lambda i: [i.definition]),
    "formula": ("计算公式", lambda i: [i.formula]),
    "level1": ("一级指标", lambda i: [i.level1]),
    "level2": ("二级指标", lambda i: [i.level2]),
    "target_level1": ("目标表一级指标", lambda i: [i.target_dims[0]]),
    "target_level2": ("目标表二级指标", lambda i: [i.target_dims[1]]),
    "kind": ("指标类别", lambda i: [TYPES.get(i.kind, i.kind)]),
    "operator": ("指标性质", lambda i: [i.operator]),
    "direction": ("指标方向", lambda i: [i.direction]),
    "reference_value": ("参考值", lambda i: [f"{r.get('value', '')}（{r.get('basis', '')}）" for r in i.reference_values]),
    "scoring_rule": ("评分标准", lambda i: [i.scoring_rule]),
    "data_source": ("数据来源", lambda i: [i.data_source]),
    "sectors": ("适用行业", lambda i: list(i.sectors)),
    "departments": ("适用部门", lambda i: list(i.departments)),
    "project_types": ("项目类别", lambda i: list(i.project_types)),
    "status": ("状态", lambda i: [i.status]),
    "source_document": ("来源文件", lambda i: [(i.source or {}).get("document", "")]),
    "source_doc_number": ("文号", lambda i: [(i.source or {}).get("doc_number", "")]),
}
PROPOSED = ("unit", "definition", "formula", "level1", "level2", "kind", "operator", "reference_value", "source_doc_number")


def property_list(ids: list[str] | None = None) -> list[dict]:
    return [{"id": pid, "name": PROPERTIES[pid][0]} for pid in (ids or PROPERTIES)]


def suggest_properties(prefix: str) -> list[dict]:
    """Properties whose id or Chinese name contains `prefix` (all of them for an empty prefix)."""
    prefix = (prefix or "").strip().lower()
    return [{"id": pid, "name": name, "description": f"指标的{name}"} for pid, (name, _) in PROPERTIES.items()
            if not prefix or prefix in pid or prefix in name.lower()]


def extend(session: Session, version: VersionRef, ids: list[str], properties: list[str]) -> dict:
    """The W3C data extension response: for each id, each property's values as [{"str": …}]; an unknown id
    gets empty values, as the spec asks."""
    snap = snapshots.load(session, version)
    rows = {}
    for code in ids:
        ind = snap.by_code.get(code) or snap.by_code.get(code.upper())
        rows[code] = {pid: ([{"str": str(v)} for v in PROPERTIES[pid][1](ind) if v not in (None, "")] if ind else [])
                      for pid in properties}
    return {"meta": property_list(properties), "rows": rows}

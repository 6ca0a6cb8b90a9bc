"""Recommend a 绩效目标表 for a project: library indicators grouped by 一级/二级,
each with a score, a one-line reason, an operator, a unit and a suggested
value with its basis; the quota standards that apply and a cost estimate.

Candidates, in the order a reviewer expects them:
1. the common indicators of the project's types (given, or detected from the text);
2. specific indicators found by BM25 through the search index, queried with the
   project's discriminative terms (TF-IDF over the library: frequent in the text,
   rare in the library) as an any-word query, then re-scored by scope (the
   sector and its parent codes, the department, the project type);
3. the 通用 common indicators every project may use;
and every required dimension of the 101号 template gets candidates (filled
from the library when neither of the above gave one).

Deterministic: no randomness, ties broken by code; no network, no model.
"""
from __future__ import annotations

import hashlib
import math
import re
import weakref
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from sqlmodel import Session

from kb.targets import cases as case_library
from kb.library import snapshot as snapshots
from kb.dimensions import dimensions
from kb.errors import InvalidInput
from kb.models import IndicatorRecord
from kb.numerals import fmt
from kb.targets.places import strip_places
from kb.targets.project import Scope, TypeMatch, scope as resolve_scope
from kb.targets.quotas import Estimate, Quantity, QuotaMatch, applicable, estimate, parse_quantity
from kb.result_schemas import RecommendationSchema
from kb.library.snapshot import IndicatorRow, Snapshot, name_key, sectors_related
from kb.targets.schema import load_project
from kb.targets.table import Project, TargetRow, TargetTable
from kb.targets.tokens import GENERIC_WORDS
from kb.targets.values import SuggestedValue, default_operator, money_factor, row_for, suggest, value_is_valid
from kb.library.versions import VersionRef

TOP_TERMS = 8  # discriminative terms in the any-word query
SEARCH_LIMIT = 60  # BM25 hits considered (plus as many again within the project's sector)
SECTOR_HITS = 15  # … unless this many of the first hits are already in the sector
PER_GROUP = 8  # suggestions listed per 二级
RESERVE = 16  # further candidates per 二级 kept for drafting a table
GENERAL_PER_DIM = 4  # 通用 common indicators offered per 二级 (a big library may have many)
TERM_MAX_SHARE = 0.03  # a discriminative term occurs in at most this share of the library (or 20 indicators)
# score of each kind of candidate; BM25 adds up to TEXT_WEIGHT, scope the bonuses
TYPE_COMMON = 2.0
OTHER_TYPE_COMMON = 1.2  # a further type detected from the text
GENERAL_COMMON = 0.9
TEXT_WEIGHT = 1.0
SECTOR_BONUS = 0.5  # in the project's own 7-digit 项; less for a 款 or 类 (the broader the sector, the less it says)
PARENT_SECTOR_BONUS = 0.3
DEPARTMENT_BONUS = 0.2
TYPE_BONUS = 0.3
OUT_OF_SECTOR = 0.4  # multiplier for a specific indicator of another sector
FILL = 0.3  # an indicator added only so that a required dimension has a candidate
MIN_SCORE = 0.5  # a search hit scoring less (weak text match, other sector) is not suggested: measured on the judged dev tables, 0.15 → 0.5 kept recall and cut irrelevant suggestions by a third
ONE_WORD = 0.5  # text score multiplier for a specific indicator sharing only one two-character term with the project
MIN_TEXT = 0.1  # a search hit below this share of the best hit's BM25 is not text evidence
CASE_WEIGHT = 1.6  # a library indicator similar cases used: up to this much, by those cases' share of similarity
CASE_ONLY = 0.3  # added for a row several similar cases use that no library indicator matches
# rows per 二级 in the table `to_table` drafts
TABLE_ROWS = {"数量指标": 2, "质量指标": 2, "时效指标": 1, "经济成本指标": 2, "服务对象满意度指标": 1}
TABLE_EFFECT_ROWS = 2  # 效益指标 rows, over its 二级


@dataclass
class Suggestion:
    code: str
    name: str
    level1: str  # the 目标表 一级/二级 (target_dims)
    level2: str
    kind: str
    score: float
    reason: str
    operator: str
    suggested_value: str
    unit: str
    basis: str = ""
    basis_note: str = ""
    definition: str = ""
    matched: list[str] = field(default_factory=list)  # the project's terms found in the indicator
    cases: list[str] = field(default_factory=list)  # codes of the similar cases that used it
    general: bool = False  # a 通用 common indicator (no project type)


@dataclass
class Group:
    level1: str
    level2: str
    required: bool
    suggestions: list[Suggestion] = field(default_factory=list)  # the best PER_GROUP, shown
    reserve: list[Suggestion] = field(default_factory=list)  # the rest, for drafting a table


@dataclass
class Recommendation:
    version: str
    project: Project
    project_types: list[TypeMatch]
    sector: str | None
    terms: list[str]
    groups: list[Group]
    quotas: list[QuotaMatch]
    quantity: Quantity
    estimate: Estimate | None
    records: dict[str, IndicatorRecord] = field(default_factory=dict, repr=False)
    total_cost: IndicatorRecord | None = field(default=None, repr=False)  # the library's 项目总成本, if any
    similar: list[case_library.SimilarCase] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what was set aside to answer (an unknown sector)
    case_values: dict[str, SuggestedValue] = field(default_factory=dict, repr=False)  # code → a value from the cases
    values: dict[tuple[str, bool], SuggestedValue | None] = field(default_factory=dict, repr=False)  # (code, fallback) → suggest()

    @property
    def indicators(self) -> list[Suggestion]:
        """Every suggestion, dimension by dimension (101号 order), best first within one."""
        return [s for g in self.groups for s in g.suggestions]

    def top(self, n: int = 20) -> list[Suggestion]:
        """The n best suggestions over all dimensions: at most one 通用 common indicator per 二级
        (the project's own indicators first), and 效益 and 满意度 always represented."""
        ranked = sorted(self.indicators, key=lambda s: (-s.score, s.code))
        chosen, general_dims = [], set()
        for s in ranked:
            if s.general:
                if s.level2 in general_dims:
                    continue
                general_dims.add(s.level2)
            chosen.append(s)
        out = chosen[:n]
        for level1 in ("效益指标", "满意度指标"):
            if out and not any(s.level1 == level1 for s in out):
                best = next((s for s in chosen[n:] if s.level1 == level1), None)
                if best is not None:
                    out[-1] = best
                    out.sort(key=lambda s: (-s.score, s.code))
        return out

    @property
    def missing_dimensions(self) -> list[str]:
        return [f"{g.level1}/{g.level2}" for g in self.groups if g.required and not g.suggestions]

    def to_table(self) -> TargetTable:
        """A draft table: per 二级 the best suggestions that have a value, one total cost row at most."""
        rows: list[TargetRow] = []
        seen: set[str] = set()
        effects = 0
        has_total = False
        for g in self.groups:
            want = TABLE_ROWS.get(g.level2, 0)
            if g.level1 == "效益指标":
                want = 1 if effects < TABLE_EFFECT_ROWS else 0
            taken = 0
            for s in g.suggestions + (g.reserve if g.required else []):
                if taken >= want or (taken and s in g.reserve):
                    break
                if s.kind == "specific" and not s.matched and taken:
                    continue  # beyond a group's first row, a specific indicator needs words of the project
                rec = self.records[s.code]
                value = self._value(rec)
                row = row_for(rec, value or self.case_values.get(s.code) or self._value(rec, fallback=True))
                key = name_key(row.name)
                if key in seen or not _usable(row):
                    continue
                total = money_factor(row.unit) is not None and not re.search(r"(人均|单位|每|/)", row.name)
                if total and has_total:
                    continue
                has_total = has_total or total
                rows.append(row)
                seen.add(key)
                taken += 1
            if g.level1 == "效益指标" and taken:
                effects += 1
        if self.project.budget_wan_yuan and not has_total:
            rows = self._with_total_cost(rows)
        return TargetTable(self.project, self.goal(rows), rows)

    def _value(self, rec: IndicatorRecord, fallback: bool = False) -> SuggestedValue | None:
        """kb.targets.values.suggest for this project, each record worked out once (the groups already did the shown ones)."""
        key = (rec.code, fallback)
        if key not in self.values:
            self.values[key] = suggest(rec, self.quantity, self.quotas, self.project.budget_wan_yuan, self.estimate, fallback=fallback)
        return self.values[key]

    def _with_total_cost(self, rows: list[TargetRow]) -> list[TargetRow]:
        """Reviewers send back tables whose cost is not broken down to money: with
        a budget given, one cost row states the total in 万元 (it takes the place
        of the group's second row, so the table does not grow)."""
        rec = self.total_cost
        total = TargetRow("成本指标", "经济成本指标", rec.name if rec else "项目总成本", "≤",
                          fmt(self.project.budget_wan_yuan), "万元", rec.code if rec else "", "计划标准")
        cost = [i for i, r in enumerate(rows) if r.level2 == "经济成本指标"]
        if len(cost) >= TABLE_ROWS["经济成本指标"]:
            rows = rows[:cost[-1]] + rows[cost[-1] + 1:]
            cost = cost[:-1]
        at = cost[-1] + 1 if cost else next((i for i, r in enumerate(rows) if r.level1 in ("效益指标", "满意度指标")), len(rows))
        return rows[:at] + [total] + rows[at:]

    def goal(self, rows: list[TargetRow] | None = None) -> str:
        """A 年度总体目标 drafted from the table's output and effect rows."""
        rows = rows if rows is not None else self.to_table().indicators
        outputs = [r for r in rows if r.level1 == "产出指标" and r.operator != "定性"][:3]
        effect = next((r for r in rows if r.level1 == "效益指标"), None)
        parts = [f"{r.name}{'' if r.operator == '=' else r.operator}{r.value}{'' if r.unit == '日期' else r.unit}" for r in outputs]
        text = f"年内完成{self.project.name}"
        if parts:
            text += "，" + "，".join(parts)
        if effect:
            text += f"，{effect.name}{'' if effect.operator in ('=', '定性') else effect.operator}{effect.value}{effect.unit}"
        return text + "。"

    @cached_property
    def table(self) -> TargetTable:
        """The drafted table (`to_table`), worked out once: the answer gives it and its reasons."""
        return self.to_table()

    @property
    def reasons(self) -> dict[str, str]:
        """Code → why it was suggested, for each row of the drafted table that is a suggestion."""
        by_code = {s.code: s for s in self.indicators}
        return {r.code: by_code[r.code].reason for r in self.table.indicators if r.code in by_code}

    def to_dict(self) -> dict:
        """The `zhibiao suggest --json` shape (DESIGN §9), with groups, explanations and the drafted table:
        kb.result_schemas.RecommendationSchema, the one the API and the drafting page answer with."""
        return RecommendationSchema().dump(self)


def _usable(row: TargetRow) -> bool:
    """A row the check will not object to: a valid value, and a unit when quantitative."""
    if not value_is_valid(row.operator, row.value, row.unit, row.level2):
        return False
    return row.operator == "定性" or bool(row.unit)


# --- candidates ------------------------------------------------------------------------

@dataclass
class _Candidate:
    rec: IndicatorRecord
    score: float
    reasons: list[str]
    matched: list[str] = field(default_factory=list)
    use: case_library.CaseUse | None = None  # how similar cases used it


def _template_dims(rec: IndicatorRecord) -> bool:
    dims = dimensions()
    level1, level2 = rec.target_dims
    return level1 in dims.target_level1 and level2 in dims.level2_of(level1)


def _framework_item(rec: IndicatorRecord) -> bool:
    """An item of an evaluation framework (决策/过程/产出/效益, 投入/过程/产出/效果): scored after the year,
    not a target a drafter sets, even when the library places it in the 目标表."""
    frameworks = dimensions().raw.get("frameworks", {})
    return any(rec.level1 in f.get("level1", []) for f in frameworks.values())


def _commons(snap: Snapshot) -> tuple[dict[str, list[IndicatorRecord]], list[IndicatorRecord]]:
    """Common indicators by project type, and the general ones (no type), computed once per snapshot.

    Within one type and one dimension they all score the same and rank by code, so no more than a
    group can show or keep are taken (PER_GROUP + RESERVE; GENERAL_PER_DIM of the general ones):
    the same answer, at a cost that does not grow with the library."""
    if "commons" not in snap.memo:
        by_type: dict[str, list[IndicatorRecord]] = {}
        general: list[IndicatorRecord] = []
        taken: Counter = Counter()
        for row in sorted(snap.active_rows, key=lambda r: r.code):
            if row.kind != "common" or not _template_dims(row) or _framework_item(row):
                continue
            dims = row.target_dims
            rec = None  # made only for the rows taken
            for t in row.project_types:
                if taken[(t, dims)] < PER_GROUP + RESERVE:
                    taken[(t, dims)] += 1
                    rec = rec or snap.record(row)
                    by_type.setdefault(t, []).append(rec)
            if not row.project_types and taken[("", dims)] < GENERAL_PER_DIM:
                taken[("", dims)] += 1
                general.append(rec or snap.record(row))
        snap.memo["commons"] = (by_type, general)
    return snap.memo["commons"]


def _dim_pool(snap: Snapshot, level1: str, level2: str) -> list[IndicatorRow]:
    key = ("dim_pool", level1, level2)
    if key not in snap.memo:
        snap.memo[key] = [r for r in snap.active_rows if r.target_dims == (level1, level2)]
    return snap.memo[key]


# place names (宁晋县, 湖北省 …) and amounts say where and how much, not what: the library's
# sources mention places, so they would pull in indicators by their source document
_NOT_A_TERM = re.compile(r"^(.{2,}[省市县州镇乡]|万元|亿元|元|年度|\d+.*)$")


# labels of a 申报表 copied into the summary, with their values up to the next clause: who
# manages the project and how it is filed, not what it does ("归口科室 (08)经济贸易科")
_FORM_FIELDS = re.compile(r"(项目类别|项目类型|项目属性|归口科室|归口处室|业务科室|实施单位|主管部门|预算单位|项目单位|"
                          r"责任单位|项目负责人|联系人|联系电话)\s*[:：]?\s*[^；;。\n]*")


def subject_text(text: str) -> str:
    """What a project's text says it does: form fields and place names (乌海市, 湖北省 …) taken out,
    so their pieces (海市) do not become search terms."""
    return strip_places(_FORM_FIELDS.sub(" ", text))


def _is_han(token: str) -> bool:
    return all("\u3400" <= ch <= "\u9fff" for ch in token)


def discriminative_terms(opened, project: Project, limit: int = TOP_TERMS) -> list[str]:
    """The project's words that say most about it: tf (name counted twice) × idf over the
    indexed library; words absent from the library or in more than TERM_MAX_SHARE of it are left out
    (they find too much to say anything, and make the any-word query slow)."""
    tf: Counter = Counter()
    for text, weight in ((project.name, 2), (project.description, 1)):
        for t in opened.analyzer.tokens(subject_text(text or "")):
            tf[t] += weight
    n = max(opened.count, 1)
    scored = []
    for token, f in tf.items():
        if token in GENERIC_WORDS or token.isdigit() or (len(token) < 2 and _is_han(token)) or _NOT_A_TERM.search(token):
            continue
        df = opened.doc_freq(token)
        if df == 0 or df > max(TERM_MAX_SHARE * n, 20):
            continue
        scored.append((f * math.log(1 + n / df), token))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [t for _, t in scored[:limit]]


def _bm25(opened, project: Project, sc: Scope) -> tuple[list[str], dict[str, float]]:
    """Discriminative terms and code → normalised BM25 score (0–1), over the whole library and within the sector."""
    from kb.search.engine import EngineFilter, QueryPlan

    if opened is None:
        return [], {}
    terms = discriminative_terms(opened, project)
    if not terms:
        return terms, {}
    plan = QueryPlan("any", tokens=tuple(terms))
    raw: dict[str, float] = {}

    def run(filt) -> tuple[int, int]:
        res = opened.reader.search(plan, filt, SEARCH_LIMIT, False)
        docs = _hit_docs(opened.reader, [h for h, _ in res.hits])
        in_sector = 0
        for (code, sectors), (_, score) in zip(docs, res.hits):
            raw[code] = max(raw.get(code, 0.0), float(score))
            in_sector += bool(sc.sector and any(sectors_related(s, sc.sector) for s in sectors))
        return res.total, in_sector

    total, in_sector = run(EngineFilter())
    # the sector's own indicators may rank below other sectors' on words alone: look for them too,
    # unless the first search already saw every match or enough of them
    if sc.sector and total > SEARCH_LIMIT and in_sector < SECTOR_HITS:
        run(EngineFilter(sector_path=sc.sector))
    top = max(raw.values(), default=0.0) or 1.0
    return terms, {code: s / top for code, s in raw.items()}


# (code, sectors) of the documents search hits named, per open reader: the stored fields are
# decompressed and unpickled on every fetch (a third of a suggestion's search time at 10k), and
# an opened index never changes (a new version is a new index and a new reader)
_HIT_DOCS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()
HIT_DOCS_MAX = 200_000  # documents remembered per reader (the largest library benchmarked is 100k)


def _hit_docs(reader, handles: list) -> list[tuple[str, tuple[str, ...]]]:
    try:
        known = _HIT_DOCS.setdefault(reader, {})
        missing = [h for h in handles if h not in known]
    except TypeError:  # a reader or a handle that cannot be remembered: fetch every time
        return [(d["code"], tuple(d.get("sectors") or ())) for d in reader.fetch(handles)]
    if missing:
        fetched = reader.fetch(missing)
        if len(known) + len(missing) > HIT_DOCS_MAX:
            known.clear()
        for h, d in zip(missing, fetched):
            known[h] = (d["code"], tuple(d.get("sectors") or ()))
    return [known[h] for h in handles]


# people or bodies an indicator may be only about (流动人口中新涂阳肺结核患者…, 非国有博物馆…): a project that does
# not name them serves others
_ONLY_ABOUT = ("流动人口", "非国有", "民办")


def _others(project: Project) -> tuple[str, ...]:
    """The _ONLY_ABOUT words the project does not name: an indicator whose name has one serves others."""
    text = project.text
    return tuple(w for w in _ONLY_ABOUT if w not in text)


def _matched(rec: IndicatorRecord, terms: list[str]) -> list[str]:
    """The project's terms found in the indicator, a word inside a longer one found (高标 in 高标准农田) left out."""
    text = rec.name + " ".join(rec.keywords) + rec.definition
    found = [t for t in terms if t in text]
    return [t for t in found if not any(t != o and t in o for o in found)]


def _scope_bonus(rec: IndicatorRecord, sc: Scope, snap: Snapshot) -> tuple[float, float, list[str]]:
    """(bonus, multiplier, reasons) for the indicator's sector, department and type against the project's."""
    bonus, factor, reasons = 0.0, 1.0, []
    if sc.sectors and rec.sectors:
        own = sc.sectors[0]
        inside = [s for s in rec.sectors if s.startswith(own)]
        above = [s for s in rec.sectors if own.startswith(s)]
        if inside:
            bonus += SECTOR_BONUS * len(own) / 7
            reasons.append(f"行业：{snap.sectors[inside[0]].name if inside[0] in snap.sectors else inside[0]}")
        elif above:
            bonus += PARENT_SECTOR_BONUS
            reasons.append(f"上级行业：{snap.sectors[above[0]].name if above[0] in snap.sectors else above[0]}")
        elif rec.kind == "specific":
            factor = OUT_OF_SECTOR
    if sc.department and sc.department in rec.departments:
        bonus += DEPARTMENT_BONUS
        reasons.append(f"部门：{snap.departments[sc.department].name}")
    shared = [t for t in sc.types if t.code in rec.project_types]
    if shared and rec.kind == "specific":
        bonus += TYPE_BONUS
        reasons.append(f"项目类别：{shared[0].name}")
    return bonus, factor, reasons


def recommend(session: Session, index_dir: Path | str, project: Project | dict, version: str | VersionRef | None = None,
              engine: str | None = None) -> Recommendation:
    """Recommend a target table for `project` from a library version (default: current; a VersionRef the
    caller resolved already saves resolving it again), searching that version's index under `index_dir`
    (built first if missing)."""
    from kb.search import open_index

    if isinstance(project, dict):
        project = load_project(project)
    snap = snapshots.load(session, version)
    opened = open_index(session, index_dir, snap.version, engine)
    return recommend_from(snap, opened, project)


def recommend_from(snap: Snapshot, opened, project: Project) -> Recommendation:
    """The recommendation itself, given a library snapshot and its opened search index
    (kb.search's OpenIndex; None to go without text relevance)."""
    warnings = []
    try:
        sc = resolve_scope(snap, project)
    except InvalidInput as exc:
        if "行业" not in exc.message:
            raise
        # an unknown sector is set aside, not a failure: the words and the cases still say a lot
        warnings.append(exc.message + "；已按项目名称和内容推荐")
        sc = resolve_scope(snap, replace(project, sector=""))
    if sc.sector is None:
        inferred = infer_sector(snap, project, sc.type_codes)
        if inferred:
            code, why = inferred
            sc = resolve_scope(snap, replace(project, sector=code))
            warnings.append(f"未填写行业（或无法识别），按{why}推断为 {code} {snap.sectors[code].name}")
    quantity = parse_quantity(project.text)
    quotas = applicable(snap, project.text, sc.type_codes, sc.sector, quantity)
    est = estimate(quotas, quantity)
    candidates: dict[str, _Candidate] = {}

    by_type, general = _commons(snap)
    for i, t in enumerate(sc.types):
        base = TYPE_COMMON if i == 0 or t.given else OTHER_TYPE_COMMON
        for rec in by_type.get(t.code, []):
            if rec.code not in candidates and _fits_goods(rec, project):
                candidates[rec.code] = _Candidate(rec, base, [f"{t.name}共性指标"])
    terms, text_scores = _bm25(opened, project, sc)
    others = _others(project)
    for code, text in sorted(text_scores.items()):
        rec = snap.by_code.get(code)
        if rec is None or rec.status not in ("standard", "candidate") or not _template_dims(rec):
            continue
        matched = _matched(rec, terms)
        if code in candidates:
            c = candidates[code]
            c.score += TEXT_WEIGHT * text * 0.5
            c.matched = matched
            continue
        ours = [t for t in sc.types if t.code in rec.project_types]
        if text < MIN_TEXT and not (rec.kind == "common" and ours):
            continue  # a word the indicator shares only in passing; the scope bonuses alone would carry it
        if not _fits_goods(rec, project):
            continue
        if rec.kind == "specific" and any(w in rec.name for w in others):
            continue
        bonus, factor, reasons = _scope_bonus(rec, sc, snap)
        if rec.kind == "specific" and len(matched) < 2 and all(len(t) <= 2 for t in matched):
            factor *= ONE_WORD  # one shared two-character word (患者, 邀请, 环卫) says little; 健康管理 says more
        score = TEXT_WEIGHT * text * factor + bonus
        if rec.kind == "common" and ours and not _framework_item(rec):
            score = (TYPE_COMMON if ours[0] is sc.types[0] or ours[0].given else OTHER_TYPE_COMMON) + TEXT_WEIGHT * text * 0.5
            reasons = [f"{ours[0].name}共性指标"]
        elif rec.kind == "common" and (rec.project_types or _framework_item(rec)):
            score *= 0.5  # the common indicator of a type this project is not, or a framework item
            reasons.insert(0, "评价框架指标" if _framework_item(rec) else "其他类别共性指标")
        elif rec.kind == "common":
            score += GENERAL_COMMON
            reasons.insert(0, "通用共性指标")
        if score >= MIN_SCORE:
            candidates[code] = _Candidate(rec, score, reasons, matched)
    similar = case_library.similar_cases(snap, project.name, project.description, sc.sector, sc.type_codes,
                                         project.budget_wan_yuan)
    _add_case_uses(candidates, case_library.case_uses(snap, similar), snap, sc)
    for rec in general:
        if rec.code not in candidates:
            candidates[rec.code] = _Candidate(rec, GENERAL_COMMON, ["通用共性指标"])
    _fill_required(candidates, snap, sc, project)

    case_values: dict[str, SuggestedValue] = {}
    values: dict[tuple[str, bool], SuggestedValue | None] = {}
    groups = _group(candidates, quantity, quotas, project, est, case_values, values)
    return Recommendation(snap.version.label, project, sc.types, sc.sector, terms, groups, quotas, quantity, est,
                          {c.rec.code: c.rec for c in candidates.values()}, _total_cost_indicator(snap), similar, warnings,
                          case_values, values)


INFER_CASE_SCORE = 0.3  # a similar case this close says which 类 the project is in
INFER_AGREE = 2  # … or this many of the three most similar cases agree on it


def infer_sector(snap: Snapshot, project: Project, type_codes: list[str]) -> tuple[str, str] | None:
    """The 支出功能分类 类 of a project that names none, from the published projects most like it
    ("县级储备粮轮换费用" → 222 粮油物资储备): (code, how it was found), or None when they do not say."""
    similar = case_library.similar_cases(snap, project.name, project.description, None, type_codes,
                                         project.budget_wan_yuan, limit=3)
    classes = [c.case.sector[:3] for c in similar if c.case.sector[:3] in snap.sectors]
    if not classes:
        return None
    best = classes[0] if similar[0].score >= INFER_CASE_SCORE and similar[0].case.sector[:3] == classes[0] else None
    common, n = Counter(classes).most_common(1)[0]
    code = best or (common if n >= INFER_AGREE else None)
    if code is None:
        return None
    example = next(c for c in similar if c.case.sector[:3] == code)
    return code, f"相似案例“{example.label}”"


def _add_case_uses(candidates: dict[str, _Candidate], uses: list[case_library.CaseUse], snap: Snapshot, sc: Scope) -> None:
    """What similar cases used: a library indicator gains up to CASE_WEIGHT by the cases' share of
    similarity; a row several cases use that the library lacks becomes a case indicator."""
    top = max((c.score for use in uses for c in use.cases), default=0.0)
    for use in uses:
        if use.indicator:
            rec = snap.by_code.get(use.indicator)
            if rec is None or rec.status not in ("standard", "candidate") or not _template_dims(rec):
                continue
            bonus, factor, reasons = _scope_bonus(rec, sc, snap)
            c = candidates.get(rec.code)
            if c is None:
                # what only similar cases suggest is held to the bar of a search hit: one weakly similar
                # case of another sector (托育 rows for a 基本公共卫生 project) is not evidence enough
                score = bonus + CASE_WEIGHT * use.weight * factor
                if score < MIN_SCORE and not _close_case(use, top):
                    continue
                c = candidates[rec.code] = _Candidate(rec, bonus, reasons)
            c.score += CASE_WEIGHT * use.weight * factor  # another 类's indicator needs more than one case
            c.reasons.append(use.explanation)
            c.use = use
        elif len(use.cases) >= case_library.MIN_ROW_CASES and use.dims:
            rec = _case_indicator(use)
            candidates[rec.code] = _Candidate(rec, CASE_ONLY + CASE_WEIGHT * use.weight, [use.explanation, "库中尚无此指标"], use=use)


CLOSE_CASE = 2 * case_library.MIN_SIMILARITY  # a case this similar is evidence by itself …
CLOSE_CASE_SHARE = 0.5  # … when it is not far behind the project's most similar case


PURCHASE_TYPE = "PT-GZ"
# goods that wear and are used over years; a purchase of none of them (疫苗, 药品, 图书, 物资) is not
# judged by how equipment is kept and used
_EQUIPMENT = re.compile(r"(设备|仪器|装备|器械|器材|车辆|车|电脑|计算机|终端|家具|设施|机组|机具|农机|监控|服务器|空调|电梯)")


def _fits_goods(rec: IndicatorRecord, project: Project) -> bool:
    """A 购置类 common indicator about equipment (设备完好率, 设备使用率) only for a project that buys some."""
    if PURCHASE_TYPE not in rec.project_types or "设备" not in rec.name:
        return True
    return bool(_EQUIPMENT.search(project.text))


def _close_case(use: case_library.CaseUse, top: float) -> bool:
    """One of the cases using the indicator is close to the project: as similar as CLOSE_CASE and
    at least CLOSE_CASE_SHARE of the most similar case (the only close case of a 普惠金融 project
    counts; a 托育 case far behind a 基本公共卫生 project's own cases does not)."""
    best = max((c.score for c in use.cases), default=0.0)
    return best >= CLOSE_CASE and best >= CLOSE_CASE_SHARE * top


def _case_indicator(use: case_library.CaseUse) -> IndicatorRecord:
    """A row of similar cases, as a record the groups and the drafted table can hold (kind "case";
    its code names the row, not a library indicator)."""
    values = use.values
    unit = values.unit if values else ""
    operator = values.operator if values and values.operator else ("定性" if values and values.texts and not values.numbers else "")
    return IndicatorRecord(
        code="CASE-" + hashlib.sha1(use.key.encode()).hexdigest()[:10].upper(), kind="case",
        level1=use.dims[0], level2=use.dims[1], name=use.name, unit=unit, operator=operator,
        direction="down" if operator == "≤" else "up", qualitative=operator == "定性",
        source={"document": "案例库：" + "、".join(c.case.code for c in use.cases)}, provenance="verbatim")


def _case_value(use: case_library.CaseUse | None) -> SuggestedValue | None:
    """A value from similar cases: the median of a rate, share or time limit; the usual wording of a
    qualitative one. Another place's counts and amounts are never a target here."""
    values = use.values if use else None
    if values is None:
        return None
    if values.numbers and values.portable:
        return SuggestedValue(fmt(values.median), "其他标准", values.note(), values.unit)
    if values.texts and not values.numbers and len(values.texts) >= 2:
        return SuggestedValue(Counter(values.texts).most_common(1)[0][0], "其他标准", values.note())
    return None


def _total_cost_indicator(snap: Snapshot) -> IndicatorRecord | None:
    """The common indicator that states a project's whole cost in 万元, found once per snapshot
    (a scan of the whole library: 25 ms a request at 100k indicators)."""
    if "total_cost" not in snap.memo:
        live = [r for r in snap.rows if r.kind == "common" and r.status == "standard" and r.unit == "万元"
                and r.target_dims == ("成本指标", "经济成本指标") and "总成本" in r.name]
        best = min(live, key=lambda r: (r.name != "项目总成本", r.code), default=None)
        snap.memo["total_cost"] = snap.record(best) if best else None
    return snap.memo["total_cost"]


def _fill_required(candidates: dict[str, _Candidate], snap: Snapshot, sc: Scope, project: Project) -> None:
    """Give every required dimension a candidate: an in-scope indicator of that dimension, the most similar to the project's name."""
    have = {c.rec.target_dims for c in candidates.values()}
    for level in dimensions().target_levels:
        needed = [(level.level1, l2) for l2 in level.required]
        if level.required_any and not any((level.level1, l2) in have for l2 in level.level2):
            needed.append((level.level1, level.level2[0]))
        for dim in needed:
            if dim in have:
                continue
            pool = [r for r in _dim_pool(snap, *dim)
                    if r.kind == "common" or not sc.sectors or any(sectors_related(s, sc.sectors[0]) for s in r.sectors)]
            if not pool:
                continue
            name = set(project.name)
            best = max(pool, key=lambda r: (len(name & set(r.name)) / max(len(set(r.name)), 1), r.kind == "common", -len(r.name), r.code))
            candidates[best.code] = _Candidate(snap.record(best), FILL, [f"补足{dim[1]}"])
            have.add(dim)


def _group(candidates: dict[str, _Candidate], quantity: Quantity, quotas: list[QuotaMatch], project: Project,
           est: Estimate | None, case_values: dict[str, SuggestedValue],
           values: dict[tuple[str, bool], SuggestedValue | None]) -> list[Group]:
    dims = dimensions()
    groups: dict[tuple[str, str], Group] = {}
    for level in dims.target_levels:
        for level2 in level.level2:
            groups[(level.level1, level2)] = Group(level.level1, level2, level2 in level.required)
    ordered = sorted(candidates.values(), key=lambda c: (-c.score, c.rec.code))
    seen_names: set[str] = set()
    for c in ordered:
        group = groups.get(c.rec.target_dims)
        key = name_key(c.rec.name)
        if group is None or key in seen_names or len(group.reserve) >= RESERVE:
            continue
        seen_names.add(key)
        shown = len(group.suggestions) < PER_GROUP
        # a reserve's value is worked out only if a drafted table needs it (to_table does)
        value = None
        if shown:
            value = values[(c.rec.code, False)] = suggest(c.rec, quantity, quotas, project.budget_wan_yuan, est)
        from_cases = _case_value(c.use)
        if from_cases is not None:
            case_values[c.rec.code] = from_cases
            if shown and value is None and value_is_valid(default_operator(c.rec), from_cases.value, from_cases.unit, group.level2):
                value = from_cases
        row = row_for(c.rec, value)
        note = value.note if value else ""
        if c.use and c.use.values and value is not from_cases and c.use.values.note():
            note = "；".join(x for x in (note, c.use.values.note()) if x)
        reason = "；".join(([f"匹配“{'、'.join(c.matched[:3])}”"] if c.matched else []) + c.reasons) or "相关指标"
        target = group.suggestions if shown else group.reserve
        target.append(Suggestion(
            code=c.rec.code, name=c.rec.name, level1=group.level1, level2=group.level2, kind=c.rec.kind,
            score=round(c.score, 4), reason=reason, operator=row.operator, suggested_value=row.value, unit=row.unit,
            basis=value.basis if value else "", basis_note=note, definition=c.rec.definition,
            matched=c.matched, cases=[x.case.code for x in c.use.cases] if c.use else [],
            general=c.rec.kind == "common" and not c.rec.project_types,
        ))
    return [g for g in groups.values() if g.suggestions or g.required]


def describe(rec: Recommendation) -> str:
    """A few lines for the command line."""
    lines = [f"注意：{w}" for w in rec.warnings]
    lines += [f"版本 {rec.version}；项目类别：{'、'.join(t.reason for t in rec.project_types) or '未识别'}；检索词：{'、'.join(rec.terms) or '—'}"]
    for g in rec.groups:
        if not g.suggestions:
            continue
        lines.append(f"【{g.level1} / {g.level2}】")
        for s in g.suggestions:
            value = f"{s.operator} {s.suggested_value} {s.unit}".strip() if s.suggested_value else f"{s.operator} （待填） {s.unit}".strip()
            lines.append(f"  {s.name}  {value}  [{s.code}，{s.score:.2f}] {s.reason}" + (f"（{s.basis}：{s.basis_note}）" if s.basis_note else ""))
    if rec.similar:
        lines.append("【相似案例】")
        for c in rec.similar:
            lines.append(f"  {c.label}  [{c.case.code}，{c.score:.2f}] " + "；".join(
                ([f"共有“{'、'.join(c.words)}”"] if c.words else []) + c.reasons))
    if rec.quotas:
        lines.append("【适用支出标准】")
        for m in rec.quotas:
            lines.append(f"  {'*' if m.selected else ' '} {m.quota.name} {fmt(m.quota.amount)}{m.quota.unit}（{m.reason}；{m.source}）")
    if rec.estimate:
        lines.append("【测算】")
        for line in rec.estimate.lines:
            lines.append("  " + line.explanation)
        lines.append(f"  合计 {fmt(rec.estimate.total_yuan)} 元（{fmt(rec.estimate.total_wan_yuan)} 万元）")
        lines += [f"  注意：{n}" for n in rec.estimate.notes]
    return "\n".join(lines)

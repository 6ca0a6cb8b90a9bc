"""The case library at work: the published tables most similar to a project,
and what their rows say — which indicators similar projects used, how often,
with which values.

Similarity is TF-IDF over character bigrams of the Han text (a case's name
counts twice, its summary and goal once), plus the sector (the same 项, 款 or
类), the project type and the budget's order of magnitude. Bigrams need no
dictionary, so a case written in words the tokenizer does not know is still
found.

Each case row is tied to a library indicator when their names match (the same
key, one containing the other, or bigram Dice ≥ 0.6 — the fuzzy match the
evaluation documents); rows without a counterpart are grouped by name, and a
name that several similar cases use is offered as a case indicator.

Everything per case (vectors, row mappings) is computed once per snapshot.
"""
from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from kb.dimensions import dimensions
from kb.models import CaseRecord
from kb.numerals import fmt
from kb.library.snapshot import IndicatorRow, Snapshot, bigram_dice, name_key
from kb.targets.table import canonical_levels, normalise_operator, numeric_value, split_value

TOP_CASES = 10  # similar cases considered
MIN_SIMILARITY = 0.12  # a case scoring less is not similar
MIN_TEXT = 0.04  # … and one sharing (almost) no words is similar only by a shared 项 or 款
NAME_WEIGHT = 2
SECTOR_BONUS = {7: 0.25, 5: 0.15, 3: 0.08}  # the case shares the project's 项, 款 or 类
OTHER_SECTOR = 0.5  # multiplier for a case of another 类
TYPE_BONUS = 0.05
BUDGET_BONUS = 0.05  # at most, for a budget of the same order of magnitude
DICE = 0.6
ROW_MATCHES = "case-rows-1"  # the name case rows' library matches are kept under; a new one when matching changes
MIN_ROW_CASES = 2  # a row without a library counterpart is offered when this many similar cases use it
PERCENT_UNITS = ("%", "％")
TIME_UNITS = ("天", "日", "月", "周", "工作日", "小时", "分钟", "年", "季度")

_HAN = re.compile(r"[\u3400-\u9fff]+")


def bigrams(text: str) -> list[str]:
    out = []
    for run in _HAN.findall(text or ""):
        out += [run[i:i + 2] for i in range(len(run) - 1)] or [run]
    return out


def names_match(a: str, b: str) -> bool:
    """Equal keys, one inside the other (the shorter at least 4 characters), or bigram Dice ≥ 0.6."""
    x, y = name_key(a), name_key(b)
    if not x or not y:
        return False
    if x == y:
        return True
    short, long = sorted((x, y), key=len)
    if len(short) >= 4 and short in long:
        return True
    return bigram_dice(x, y) >= DICE


def _key_bigrams(key: str) -> set[str]:
    return {key[i:i + 2] for i in range(len(key) - 1)} or {key}


# --- one row of a case, placed in the 101号 template ---------------------------------------

_LEVEL1_WORDS = (("满意", "满意度指标"), ("成本", "成本指标"), ("产出", "产出指标"), ("效益", "效益指标"), ("效果", "效益指标"))
_LEVEL2_WORDS = (("数量", "数量指标"), ("质量", "质量指标"), ("时效", "时效指标"), ("进度", "时效指标"),
                 ("经济成本", "经济成本指标"), ("社会成本", "社会成本指标"), ("环境成本", "生态环境成本指标"),
                 ("生态环境成本", "生态环境成本指标"), ("成本", "经济成本指标"),
                 ("经济效益", "经济效益指标"), ("社会效益", "社会效益指标"), ("生态效益", "生态效益指标"),
                 ("环境效益", "生态效益指标"), ("可持续", "可持续影响指标"), ("满意", "服务对象满意度指标"))


def template_dims(level1: str, level2: str, name: str) -> tuple[str, str] | None:
    """A printed 一级/二级 ("社会公众或服务对象满意度指标", "产出指标/成本指标", "数量") → the
    101号 dimension it is, or None when it cannot be told."""
    dims = dimensions()
    l1, l2 = canonical_levels(level1, level2)
    if l1 in dims.target_level1 and l2 in dims.level2_of(l1):
        return l1, l2
    found2 = next((v for w, v in _LEVEL2_WORDS if w in (level2 or "")), None)
    if found2 is None and "满意度" in (name or ""):
        found2 = "服务对象满意度指标"
    if found2 is None:
        return None
    owner = next((l for l in dims.target_level1 if found2 in dims.level2_of(l)), None)
    found1 = next((v for w, v in _LEVEL1_WORDS if w in (level1 or "")), None)
    if owner and (found1 in (None, owner) or found2 == "经济成本指标" or found2 == "服务对象满意度指标"):
        return owner, found2
    return None


@dataclass(frozen=True)
class CaseRow:
    case: int  # index into the snapshot's cases
    name: str
    dims: tuple[str, str] | None
    operator: str
    value: str
    unit: str
    indicator: str  # the library code it corresponds to, or ""


def _row(index: int, raw: dict, library_code: str) -> CaseRow:
    op, value, unit = normalise_operator(raw.get("operator", "")), (raw.get("value") or "").strip(), (raw.get("unit") or "").strip()
    if value and not unit:
        split_op, split_number, split_unit = split_value(value)
        if split_number and split_unit and len(split_unit) <= 6:
            op, value, unit = op or split_op, split_number, split_unit
    return CaseRow(index, (raw.get("name") or "").strip(), template_dims(raw.get("level1", ""), raw.get("level2", ""), raw.get("name", "")),
                   op, value, unit, library_code)


# --- what is computed once per snapshot ---------------------------------------------------------

@dataclass
class CaseIndex:
    cases: list[CaseRecord]
    vectors: list[dict[str, float]]  # bigram → weight, L2-normalised
    postings: dict[str, list[tuple[int, float]]]
    idf: dict[str, float]
    rows: list[list[CaseRow]]


def _vector(counts: Counter, idf: dict[str, float]) -> dict[str, float]:
    vec = {g: (1 + math.log(c)) * idf.get(g, 0.0) for g, c in counts.items() if idf.get(g)}
    norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
    return {g: w / norm for g, w in vec.items()}


def _case_counts(case: CaseRecord) -> Counter:
    counts: Counter = Counter()
    for g in bigrams(case.name):
        counts[g] += NAME_WEIGHT
    counts.update(bigrams(case.summary[:600]))
    counts.update(bigrams(case.goal[:600]))
    return counts


def _library_matcher(snap: Snapshot):
    """A function: a row's name → the library code it corresponds to ("" when none)."""
    by_bigram: dict[str, list[IndicatorRow]] = defaultdict(list)
    for rec in snap.active_rows:  # light rows, each with its name's key: no record made, no name_key memo filled
        for g in _key_bigrams(rec.key):
            by_bigram[g].append(rec)

    def same_class(rec: IndicatorRow, sector: str) -> bool:
        return rec.kind == "common" or not sector or not rec.sectors or any(s[:3] == sector[:3] for s in rec.sectors)

    def match(name: str, sector: str) -> str:
        """A row is the library indicator of the same name, or of a near name (names_match), when that
        indicator is common or of the case's own 类: 扶持标准达标率 of a science fund is not
        资助标准达标率 of student aid, and a 项目（工程）完成及时率 filed under 农业 is not what a
        一般公共服务 table meant by it."""
        key = name_key(name)
        if not key:
            return ""
        exact = [r for r in snap.rows_named(key) if r.status in ("standard", "candidate") and same_class(r, sector)]
        if exact:
            return min(exact, key=lambda r: (r.kind != "specific", r.code)).code
        shared: Counter = Counter()
        for g in _key_bigrams(key):
            # counted in C: at 100k indicators a common bigram is shared by tens of thousands of rows
            # (rows, one per code, in the order their codes were counted before: the same ranking)
            shared.update(by_bigram.get(g, ()))
        best = None
        for rec, n in shared.most_common(40):
            if same_class(rec, sector) and names_match(name, rec.name):
                other = rec.key
                closeness = n / max(len(other), len(key))
                if best is None or closeness > best[0]:
                    best = (closeness, rec.code)
        return best[1] if best else ""

    return match


def case_index(snap: Snapshot) -> CaseIndex:
    if "cases" not in snap.memo:
        cases = sorted(snap.cases, key=lambda c: c.code)
        counts = [_case_counts(c) for c in cases]
        df: Counter = Counter()
        for c in counts:
            df.update(c.keys())
        n = max(len(cases), 1)
        idf = {g: math.log(1 + n / d) for g, d in df.items()}
        vectors = [_vector(c, idf) for c in counts]
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, vec in enumerate(vectors):
            for g, w in vec.items():
                postings[g].append((i, w))
        matched = snap.kept(ROW_MATCHES, lambda: _match_rows(snap, cases))
        rows = []
        for i, case in enumerate(cases):
            out = []
            for raw in case.rows:
                name = (raw.get("name") or "").strip()
                if not name:
                    continue
                code = _own_code(snap, raw) or matched.get(_match_key(name, case.sector), "")
                out.append(_row(i, raw, code))
            rows.append(out)
        snap.memo["cases"] = CaseIndex(cases, vectors, dict(postings), idf, rows)
    return snap.memo["cases"]


def _own_code(snap: Snapshot, raw: dict) -> str:
    """The library code a case row names itself, when this version has it."""
    code = raw.get("indicator") or ""
    return code if code in snap.by_code else ""


def _match_key(name: str, sector: str) -> str:
    """A row is matched by its name within its case's 类 (JSON keys are strings)."""
    return f"{name}\t{sector[:3]}"


def _match_rows(snap: Snapshot, cases: list[CaseRecord]) -> dict[str, str]:
    """_match_key → the library code the row corresponds to, for the rows without a code of their own that have
    one: matching every case row against the whole library takes most of a second at 100k indicators, so a
    published version keeps the result beside its file (Snapshot.kept) and a worker starting later reads it."""
    match = _library_matcher(snap)
    keys = {_match_key(name, case.sector) for case in cases for raw in case.rows
            if (name := (raw.get("name") or "").strip()) and not _own_code(snap, raw)}
    found = {key: match(*key.rsplit("\t", 1)) for key in sorted(keys)}
    return {key: code for key, code in found.items() if code}


# --- similar cases --------------------------------------------------------------------------

@dataclass
class SimilarCase:
    case: CaseRecord
    score: float
    words: list[str]  # the words of the project found in the case
    reasons: list[str]

    @property
    def label(self) -> str:
        where = "".join(x for x in (self.case.region, f"{self.case.year}年" if self.case.year else "") if x)
        return f"{self.case.name}（{where}）" if where else self.case.name


def _shared_words(project_text: str, case: CaseRecord, limit: int = 3) -> list[str]:
    """The longest runs of the project's Han text that the case's name or summary also holds."""
    other = f"{case.name} {case.summary} {case.goal}"
    found: list[str] = []
    for run in _HAN.findall(project_text):
        i = 0
        while i < len(run) - 1:
            j = i + 2
            if run[i:j] not in other:
                i += 1
                continue
            while j < len(run) and run[i:j + 1] in other:
                j += 1
            found.append(run[i:j])
            i = j
    found = sorted(set(found), key=lambda w: (-len(w), w))
    return [w for w in found if not any(w != o and w in o for o in found)][:limit]


def similar_cases(snap: Snapshot, name: str, description: str, sector: str | None, type_codes: list[str],
                  budget_wan_yuan: float | None, limit: int = TOP_CASES) -> list[SimilarCase]:
    idx = case_index(snap)
    if not idx.cases:
        return []
    counts: Counter = Counter()
    for g in bigrams(name):
        counts[g] += NAME_WEIGHT
    counts.update(bigrams((description or "")[:600]))
    query = _vector(counts, idx.idf)
    text: dict[int, float] = defaultdict(float)
    for g, w in query.items():
        for i, cw in idx.postings.get(g, ()):
            text[i] += w * cw
    sector = sector or ""
    pool = set(text)
    if sector:
        pool |= {i for i, c in enumerate(idx.cases) if c.sector and c.sector[:5] == sector[:5]}
    scored = []
    for i in pool:
        case = idx.cases[i]
        t = text.get(i, 0.0)
        score, reasons = t, []
        if sector and case.sector:
            shared = next((n for n in (7, 5, 3) if len(sector) >= n and len(case.sector) >= n and case.sector[:n] == sector[:n]), 0)
            if shared:
                score += SECTOR_BONUS[shared]
                reasons.append("同" + {7: "项", 5: "款", 3: "类"}[shared])
            else:
                score *= OTHER_SECTOR
        if t < MIN_TEXT and not (len(sector) == 7 and case.sector == sector):
            continue  # without shared words only a case of the very same 项 is similar
        if case.project_type and case.project_type in type_codes:
            score += TYPE_BONUS
            reasons.append("同项目类别")
        if budget_wan_yuan and case.budget_wan_yuan:
            gap = abs(math.log10(max(budget_wan_yuan, 0.01) / max(case.budget_wan_yuan, 0.01)))
            score += BUDGET_BONUS * max(0.0, 1 - gap)
        if score >= MIN_SIMILARITY:
            scored.append((score, i, reasons))
    scored.sort(key=lambda x: (-x[0], idx.cases[x[1]].code))
    project_text = f"{name} {description or ''}"
    return [SimilarCase(idx.cases[i], round(s, 4), _shared_words(project_text, idx.cases[i]), r) for s, i, r in scored[:limit]]


# --- what the similar cases' rows say -------------------------------------------------------------

@dataclass
class ValueSummary:
    """The values similar cases set for one indicator."""
    operator: str
    unit: str
    numbers: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # qualitative values, as printed
    cases: int = 0

    @property
    def median(self) -> float | None:
        return statistics.median(self.numbers) if self.numbers else None

    @property
    def portable(self) -> bool:
        """A value that means the same in another project: a rate, a share or a time limit.
        Another place's absolute counts (人次, 个, 万元) are not a target for this one."""
        return self.unit in PERCENT_UNITS or self.unit in TIME_UNITS

    def note(self) -> str:
        if self.numbers:
            low, high = min(self.numbers), max(self.numbers)
            spread = f"，范围 {fmt(low)}–{fmt(high)}{self.unit}" if low != high else ""
            return f"相似案例 {len(self.numbers)} 个：{self.operator}{fmt(self.median)}{self.unit}（中位数{spread}）"
        if self.texts:
            common = Counter(self.texts).most_common(1)[0][0]
            return f"相似案例 {len(self.texts)} 个，常见取值“{common}”"
        return ""


def summarise_values(rows: list[CaseRow]) -> ValueSummary | None:
    if not rows:
        return None
    units = Counter(r.unit for r in rows if r.value)
    unit = units.most_common(1)[0][0] if units else ""
    ops = Counter(r.operator for r in rows if r.operator)
    summary = ValueSummary(ops.most_common(1)[0][0] if ops else "", unit, cases=len({r.case for r in rows}))
    seen: set[int] = set()
    for r in rows:
        if r.case in seen or not r.value:
            continue
        number = numeric_value(r.value)
        if number is not None and r.unit == unit and math.isfinite(number):
            summary.numbers.append(number)
            seen.add(r.case)
        elif number is None and not re.search(r"\d", r.value) and len(r.value) <= 20:
            summary.texts.append(r.value)
            seen.add(r.case)
    return summary


@dataclass
class CaseUse:
    """One indicator (a library one, or a name no library indicator matches) as similar cases used it."""
    key: str  # the library code, or "名:" + the name's key
    name: str  # the name the cases print most
    dims: tuple[str, str] | None
    weight: float  # the summed similarity of the cases using it, over the similar cases' total
    cases: list[SimilarCase]
    rows: list[CaseRow]
    indicator: str = ""

    @cached_property
    def values(self) -> ValueSummary | None:
        """Summarised once: a suggestion reads it for its value, its note and the drafted table."""
        return summarise_values(self.rows)

    @property
    def explanation(self) -> str:
        names = "、".join(c.label for c in self.cases[:2])
        more = f"等{len(self.cases)}个" if len(self.cases) > 2 else ""
        return f"相似案例：{names}{more}"


def case_uses(snap: Snapshot, similar: list[SimilarCase]) -> list[CaseUse]:
    """What the similar cases' rows used, most used first."""
    if not similar:
        return []
    idx = case_index(snap)
    position = {c.code: i for i, c in enumerate(idx.cases)}
    # a share of the similar cases' total, but weak cases stay weak when they are all there is
    total = max(sum(s.score for s in similar), 1.0)
    groups: dict[str, list[tuple[SimilarCase, CaseRow]]] = defaultdict(list)
    for s in similar:
        for row in idx.rows[position[s.case.code]]:
            key = row.indicator or "名:" + name_key(row.name)
            if len(key) > 2:
                groups[key].append((s, row))
    uses = []
    for key, items in groups.items():
        cases: dict[str, SimilarCase] = {}
        for s, _ in items:
            cases.setdefault(s.case.code, s)
        rows = [r for _, r in items]
        names = Counter(r.name for r in rows)
        dims = Counter(r.dims for r in rows if r.dims)
        uses.append(CaseUse(key, names.most_common(1)[0][0], dims.most_common(1)[0][0] if dims else None,
                            sum(s.score for s in cases.values()) / total, list(cases.values()), rows,
                            rows[0].indicator))
    uses.sort(key=lambda u: (-u.weight, u.key))
    return uses


# --- honest evaluation ------------------------------------------------------------------------------

def source_key(url: str) -> str:
    """A page's address compared without scheme, www., trailing slash or case."""
    url = (url or "").strip().lower()
    for prefix in ("https://", "http://"):
        url = url.removeprefix(prefix)
    return url.removeprefix("www.").rstrip("/")


def leave_source_out(snap: Snapshot, url: str) -> tuple[Snapshot, int, int]:
    """The snapshot less every indicator and case whose source is the page at `url`, so that a table
    from that page is suggested for as if nobody had transcribed it; with how many of each were left out."""
    from dataclasses import replace

    key = source_key(url)
    if not key:
        return snap, 0, 0
    indicators = [i for i in snap.indicators if source_key((i.source or {}).get("url", "")) != key]
    cases = [c for c in snap.cases if source_key((c.source or {}).get("url", "")) != key]
    dropped = (len(snap.indicators) - len(indicators), len(snap.cases) - len(cases))
    if dropped == (0, 0):
        return snap, 0, 0
    return replace(snap, indicators=indicators, cases=cases, memo={}), *dropped


# --- demand from practice -----------------------------------------------------------------------------

@dataclass
class Demand:
    """An indicator several published tables use and the library lacks: what the curator adds next."""
    name: str  # as the cases print it most
    dims: tuple[str, str] | None
    cases: list[CaseRecord]
    sectors: list[str]  # the cases' 类
    examples: list[str]  # values as printed ("≥ 95 %")
    unit: str


def demand(snap: Snapshot, min_cases: int = MIN_ROW_CASES) -> list[Demand]:
    """Case rows no library indicator matches, grouped by near names, used by at least `min_cases`
    cases; most used first."""
    idx = case_index(snap)
    # near names are one indicator (names_match), grouped around the first name seen; only groups
    # sharing a bigram with a name can match it, so they alone are compared (not every group: 40k rows)
    groups: list[tuple[str, list[CaseRow]]] = []
    by_bigram: dict[str, list[int]] = defaultdict(list)
    for rows in idx.rows:
        for row in rows:
            key = name_key(row.name)
            if row.indicator or not key:
                continue
            candidates = sorted({i for g in _key_bigrams(key) for i in by_bigram.get(g, ())})
            found = next((i for i in candidates if names_match(groups[i][0], row.name)), None)
            if found is None:
                for g in _key_bigrams(key):
                    by_bigram[g].append(len(groups))
                groups.append((row.name, [row]))
            else:
                groups[found][1].append(row)
    out = []
    for _, rows in groups:
        cases = sorted({idx.cases[r.case].code: idx.cases[r.case] for r in rows}.values(), key=lambda c: c.code)
        if len(cases) < min_cases:
            continue
        dims = Counter(r.dims for r in rows if r.dims)
        units = Counter(r.unit for r in rows if r.unit)
        examples = list(dict.fromkeys(" ".join(x for x in (r.operator, r.value, r.unit) if x) for r in rows if r.value))[:3]
        out.append(Demand(Counter(r.name for r in rows).most_common(1)[0][0], dims.most_common(1)[0][0] if dims else None,
                          cases, sorted({c.sector[:3] for c in cases if c.sector}), examples,
                          units.most_common(1)[0][0] if units else ""))
    out.sort(key=lambda d: (-len(d.cases), d.name))
    return out

"""Which quota standards (支出定额标准) apply to a project, the quantities its
text states, and the cost they allow.

"三类培训 3 天 100 人" → 三类培训综合定额 550 元/人·天 → 550 × 3 × 100 = 165000 元.

A standard applies through the project's type (a quota lists its project
types), through words of the text for the common expense categories (会议费,
培训费, 讲课费, 差旅费: CATEGORY_WORDS) and, for sector unit standards (基本公共卫生
服务, 生均公用经费 …), through the quota's own keywords within the project's
sector. Within one standard that has tiers (一类/二类/三类 …) the tier the
text names is selected, else the usual one for a unit's own work (DEFAULT_TIERS).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from kb.models import QuotaRecord
from kb.numerals import CHINESE_NUMERAL, fmt, stated_budget, to_number
from kb.library.snapshot import Snapshot, sectors_related

# words of a project's text that bring in a common expense category
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "会议费": ("会议", "座谈会", "研讨会", "论坛", "评审会", "论证会", "推进会", "现场会", "交流会", "年会", "联席会"),
    "培训费": ("培训", "轮训", "研修", "学习班", "训练营"),
    "讲课费": ("培训", "授课", "讲课", "讲座", "师资"),
    "差旅费": ("出差", "差旅", "赴外地", "外出考察", "外出学习", "异地调研"),
}
# a tier is chosen by these words when the text names none: the usual case of a
# unit's own meeting or course (三类), the lowest 讲课费 band, ordinary places and staff
DEFAULT_TIERS: dict[str, tuple[str, ...]] = {
    "会议费": ("三类",),
    "培训费": ("三类",),
    "讲课费": ("副高级",),
    "差旅费": ("一般地区", "其他人员"),
    "*": ("中西部",),  # the bureau is in Hunan (中部): 生均公用经费 and the like
}
# words that say a meeting is 四类 (其他业务性会议) or a course's class by the trainees' rank
MEETING_CLASS_WORDS = {"四": ("座谈会", "研讨会", "评审会", "论证会", "交流会")}
TRAINING_CLASS_WORDS = {"一": ("省部级",), "二": ("司局级", "厅局级", "厅级"), "三": ("处级", "科级", "处级及以下", "一般干部")}
# quota keywords too general to bring a sector standard in by themselves
GENERIC_QUOTA_WORDS = {"标准", "补助", "补助标准", "人均补助", "财政补助标准", "公用经费", "基准定额", "综合定额", "定额"}

_N = rf"(?:\d+(?:\.\d+)?|{CHINESE_NUMERAL})"


@dataclass
class Quantity:
    """What a project's text says about its size; per session unless `person_times`."""
    people: float | None = None
    days: float | None = None
    sessions: float | None = None
    person_times: float | None = None  # 人次, a total over all sessions
    hours: float | None = None  # 学时 per session
    population: float | None = None
    students: float | None = None
    meeting_class: str = ""  # 一 二 三 四
    training_class: str = ""
    amounts: dict[str, float] = field(default_factory=dict)  # other stated quantities by unit: 台 → 12, 亩 → 12000
    amount_context: dict[str, str] = field(default_factory=dict)  # 亩 → "新建高标准农田": what the amount is of
    evidence: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.amounts and all(getattr(self, k) in (None, "") for k in
                                        ("people", "days", "sessions", "person_times", "hours", "population", "students"))

    @property
    def headcount(self) -> float | None:
        """People over all sessions (人次 when given)."""
        if self.person_times:
            return self.person_times
        if self.people:
            return self.people * (self.sessions or 1)
        return None


@dataclass
class QuotaMatch:
    quota: QuotaRecord
    reason: str
    selected: bool  # the tier that applies to this project; used in the estimate

    @property
    def source(self) -> str:
        s = self.quota.source or {}
        return "".join(p for p in (s.get("document", ""), f"（{s['doc_number']}）" if s.get("doc_number") else "") if p)


@dataclass
class EstimateLine:
    code: str
    name: str
    amount: float
    unit: str
    factors: list[tuple[float, str]]  # (quantity, what), multiplied with amount
    subtotal: float
    note: str = ""

    @property
    def formula(self) -> str:
        return " × ".join([fmt(self.amount)] + [fmt(v) for v, _ in self.factors])

    @property
    def explanation(self) -> str:
        parts = [f"{fmt(self.amount)}{self.unit}"] + [f"{fmt(v)}{what}" for v, what in self.factors]
        return f"{self.name}：" + " × ".join(parts) + f" = {fmt(self.subtotal)}元" + (f"（{self.note}）" if self.note else "")


@dataclass
class Estimate:
    lines: list[EstimateLine]
    notes: list[str] = field(default_factory=list)

    @property
    def total_yuan(self) -> float:
        return round(sum(line.subtotal for line in self.lines), 2)

    @property
    def total_wan_yuan(self) -> float:
        return round(self.total_yuan / 10000, 4)

    @property
    def formula(self) -> str:
        return " + ".join(f"{line.formula}" for line in self.lines) + f" = {fmt(self.total_yuan)} 元"


# --- quantities from text --------------------------------------------------------------

def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"(?<=\d)\s+(?=[^\d\s])|(?<=[^\d\s])\s+(?=\d)", "", text)


def _number(raw: str, wan: str = "") -> float | None:
    if raw == "半":
        return 0.5
    value = to_number(raw)
    if value is None:
        return None
    return value * 10000 if wan else value


_PER = re.compile(r"(每期|每次|每场|每班|每批|每个班|每天|每人)$")


def _pick(text: str, pattern: re.Pattern, prefer_per: bool = True) -> tuple[float, str] | None:
    """The first match, or the first one written "每期…" when there are several."""
    found = []
    for m in pattern.finditer(text):
        start = m.start()
        before = text[max(0, start - 1):start]
        if before in ("第", "月", "至", "-", "~", "～"):
            continue  # an ordinal or a date, not a quantity
        value = _number(m.group("n"), m.groupdict().get("wan") or "")
        if value is None or value <= 0:
            continue
        per = bool(_PER.search(text[max(0, start - 4):start].replace("，", "").replace(",", "")))
        found.append((per, value, m.group(0)))
    if not found:
        return None
    if prefer_per:
        for per, value, phrase in found:
            if per:
                return value, phrase
    return found[0][1], found[0][2]


_PEOPLE_RE = re.compile(rf"(?P<n>{_N})(?:名|人)(?!次|口|民|均|工|大|才|数|员|群|社|际|力|身|格|事|文|道|情)")
_PERSON_TIMES_RE = re.compile(rf"(?P<n>{_N})(?P<wan>万)?人次")
_DAYS_RE = re.compile(rf"(?P<n>{_N}|半)个?(?:天|日)(?![前内以后间常])")
_SESSIONS_RE = re.compile(rf"(?P<n>{_N})个?(?:期|场|批次|批|班次|个班|次)(?![数间限货刊性])")
_HOURS_RE = re.compile(rf"(?P<n>{_N})个?(?:学时|课时)")
_POPULATION_RE = re.compile(rf"(?:常住人口|服务人口|辖区人口|户籍人口|人口)(?:约|为|共|达|总数)?(?P<n>\d+(?:\.\d+)?|{CHINESE_NUMERAL})(?P<wan>万)?人?")
_STUDENTS_RE = re.compile(rf"(?P<n>\d+(?:\.\d+)?|{CHINESE_NUMERAL})(?P<wan>万)?(?:名|个)?(?:在校学生|在校生|学生|寄宿生|幼儿)")
_CLASS_RE = re.compile(r"([一二三四])类(会议|培训)?")
# units of the things a project delivers, longest first so that 平方米 is not read as 米
AMOUNT_UNITS = ("平方米", "立方米", "公里", "千米", "延米", "亩", "台", "套", "件", "辆", "所", "座", "间", "张", "册",
                "户", "家", "处", "条", "棵", "株", "头", "只", "吨", "米", "项", "份", "篇", "部", "个")
_AMOUNT_RE = re.compile(rf"(?P<n>\d+(?:\.\d+)?|{CHINESE_NUMERAL})(?P<wan>万)?(?P<unit>{'|'.join(AMOUNT_UNITS)})")


def parse_quantity(text: str) -> Quantity:
    """People, days, sessions, 学时, population, students and meeting/training class stated in a text.

    "培训班2期，每期80人，每期5天" → sessions 2, people 80, days 5;
    "三类培训 3 天 100 人" → training class 三, days 3, people 100."""
    t = _normalise(text)
    q = Quantity()
    for attr, pattern in (("person_times", _PERSON_TIMES_RE), ("hours", _HOURS_RE), ("days", _DAYS_RE),
                          ("sessions", _SESSIONS_RE), ("population", _POPULATION_RE), ("students", _STUDENTS_RE)):
        hit = _pick(t, pattern)
        if hit:
            setattr(q, attr, hit[0])
            q.evidence.append(hit[1])
    # people are counted after removing what was read as 人次/人口/学生, so "500人次" is not 500 people
    rest = _PERSON_TIMES_RE.sub("", _POPULATION_RE.sub("", _STUDENTS_RE.sub("", t)))
    hit = _pick(rest, _PEOPLE_RE)
    if hit:
        q.people = hit[0]
        q.evidence.append(hit[1])
    for m in _AMOUNT_RE.finditer(t):
        unit = m.group("unit")
        value = _number(m.group("n"), m.group("wan") or "")
        if value and unit not in q.amounts and t[max(0, m.start() - 1):m.start()] not in ("第", "每"):
            q.amounts[unit] = value
            q.amount_context[unit] = re.split(r"[,，;；。:：、\n]", t[max(0, m.start() - 20):m.start()])[-1]
            q.evidence.append(m.group(0))
    for m in _CLASS_RE.finditer(t):
        noun = m.group(2) or ""
        if noun in ("", "会议") and not q.meeting_class:
            q.meeting_class = m.group(1)
        if noun in ("", "培训") and not q.training_class:
            q.training_class = m.group(1)
    if not q.meeting_class:
        q.meeting_class = next((c for c, words in MEETING_CLASS_WORDS.items() if any(w in t for w in words)), "")
    if not q.training_class:
        q.training_class = next((c for c, words in TRAINING_CLASS_WORDS.items() if any(w in t for w in words)), "")
    return q


@dataclass
class Stated:
    """What a project's summary states that the form has fields or uses for: shown to the drafter to confirm."""
    budget_wan_yuan: float | None = None
    budget_phrase: str = ""
    quantities: list[str] = field(default_factory=list)  # the phrases the cost estimate reads: 500人次, 2期, 80人


def stated(text: str) -> Stated:
    """The budget and the quantities a summary (项目概况, 年度总体目标) states: "预算800万元，培训500人次" →
    800 万元 and ["500人次"]."""
    budget = stated_budget(_normalise(text))
    return Stated(budget[0] if budget else None, budget[1] if budget else "", parse_quantity(text).evidence)


# --- which standards apply ------------------------------------------------------------

def _component(q: QuotaRecord) -> tuple[str, str]:
    """Tiers of one standard share a component: "三、四类会议综合定额" and "一类会议综合定额" → 会议综合定额."""
    name = re.sub(r"[（(][^）)]*[）)]", "", q.name)
    name = re.sub(r"^[一二三四、]+类", "", name)
    return q.category, name


def applicable(snapshot: Snapshot, text: str, project_types: list[str], sector: str | None,
               quantity: Quantity | None = None) -> list[QuotaMatch]:
    """Current quota standards that apply to a project, each with why; tiers chosen as described above."""
    t = _normalise(text)
    quantity = quantity or parse_quantity(text)
    type_names = {code: snapshot.project_types[code].name for code in project_types if code in snapshot.project_types}
    chosen: dict[str, tuple[QuotaRecord, str]] = {}
    for q in sorted(snapshot.current_quotas(), key=lambda q: q.code):
        reason = ""
        shared = [c for c in q.project_types if c in type_names]
        words = [w for w in CATEGORY_WORDS.get(q.category, ()) if w in t]
        if shared:
            reason = "项目类别：" + "、".join(type_names[c] for c in shared)
        elif words:
            reason = f"项目内容含“{words[0]}”"
        elif q.category not in CATEGORY_WORDS:
            hits = [k for k in q.keywords if k not in GENERIC_QUOTA_WORDS and not k.isdigit() and len(k) >= 2 and k in t]
            in_sector = bool(sector and q.sectors and any(sectors_related(sector, s) for s in q.sectors))
            if hits and (in_sector or not sector or not q.sectors):
                reason = (f"行业：{snapshot.sectors[sector].name}；" if in_sector and sector in snapshot.sectors else "") + f"项目内容含“{hits[0]}”"
        if reason:
            chosen[q.code] = (q, reason)
    groups: dict[tuple[str, str], list[QuotaRecord]] = {}
    for q, _ in chosen.values():
        groups.setdefault(_component(q), []).append(q)
    matches = []
    for (category, _), tiers in groups.items():
        picked = _select_tier(category, tiers, t, quantity)
        for q in tiers:
            matches.append(QuotaMatch(q, chosen[q.code][1], q.code in picked))
    order = {c: i for i, c in enumerate(CATEGORY_WORDS)}
    matches.sort(key=lambda m: (order.get(m.quota.category, len(order)), m.quota.category, not m.selected, m.quota.code))
    return matches


def _select_tier(category: str, tiers: list[QuotaRecord], text: str, quantity: Quantity) -> set[str]:
    if len(tiers) == 1:
        return {tiers[0].code}
    wanted = quantity.meeting_class if category == "会议费" else quantity.training_class if category == "培训费" else ""
    if wanted:
        hits = {q.code for q in tiers if f"{wanted}类" in q.tier or f"{wanted}类" in q.name}
        if hits:
            return hits
    # words that tell the tiers apart (e.g. 小学/初中, 正高级/院士, 西藏), found in the text
    common = set.intersection(*(set(q.keywords) for q in tiers))
    scored = []
    for q in tiers:
        words = (set(q.keywords) - common) | set(re.split(r"[（）()、，,\s]+", q.tier))
        hits = [w for w in words if len(w) >= 2 and w in text]
        if hits:
            scored.append((len(hits), q.code))
    if scored:
        best = max(s for s, _ in scored)
        return {code for s, code in scored if s == best}
    defaults = DEFAULT_TIERS.get(category, ()) + DEFAULT_TIERS["*"]
    return {q.code for q in tiers if any(w in q.tier or w in q.name for w in defaults)}


# --- the cost they allow ----------------------------------------------------------------

_OVER_RE = re.compile(r"超过(\d+)天[^；。]*?(\d+)%")


def _day_factor(q: QuotaRecord, days: float) -> tuple[float, str]:
    """Days counted at the rate the standard allows: "超过30天的…按70%" → 40 days = 30 + 10 × 0.7."""
    steps = sorted({(int(a), int(b)) for a, b in _OVER_RE.findall(q.adjustments or "")})
    if not steps or days <= steps[0][0]:
        return days, ""
    total, note = 0.0, []
    bounds = [(0, 100)] + steps
    for i, (start, pct) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else days
        span = max(0.0, min(days, end) - start)
        total += span * pct / 100
        if span and pct != 100:
            note.append(f"超过{start}天的{fmt(span)}天按{pct}%")
    return total, "，".join(note)


def estimate(matches: list[QuotaMatch], quantity: Quantity) -> Estimate | None:
    """The cost the selected standards allow for the stated quantities (None when nothing can be computed)."""
    lines: list[EstimateLine] = []
    notes: list[str] = []
    sessions = quantity.sessions or 1
    for m in matches:
        if not m.selected:
            continue
        q = m.quota
        unit = q.unit.replace(" ", "")
        factors: list[tuple[float, str]] = []
        note = ""
        if unit in ("元/人·天", "元/人天", "元/人/天"):
            if not quantity.days or not (quantity.people or quantity.person_times):
                continue
            days, note = _day_factor(q, quantity.days)
            factors.append((days, "天"))
            if quantity.person_times:
                factors.append((quantity.person_times, "人次"))
            else:
                factors.append((quantity.people, "人"))
                if sessions != 1:
                    factors.append((sessions, "期"))
        elif unit in ("元/学时", "元/课时"):
            if not quantity.hours:
                continue
            factors.append((quantity.hours, "学时"))
            if sessions != 1:
                factors.append((sessions, "期"))
        elif unit in ("元/人·年", "元/人年"):
            if not quantity.population:
                continue
            factors.append((quantity.population, "人"))
        elif unit in ("元/生·年", "元/生年"):
            if not quantity.students:
                continue
            factors.append((quantity.students, "名学生"))
        elif unit in ("元/生·天", "元/生天"):
            if not quantity.students or not quantity.days:
                continue
            factors += [(quantity.students, "名学生"), (quantity.days, "天")]
        else:
            continue
        subtotal = q.amount
        for value, _ in factors:
            subtotal *= value
        lines.append(EstimateLine(q.code, q.name, q.amount, q.unit, factors, round(subtotal, 2), note))
        if q.category == "会议费" and quantity.days and quantity.days > 2 and "一类" not in q.tier:
            notes.append(f"会期{fmt(quantity.days)}天，超过二、三、四类会议不超过2天的规定")
    if not lines:
        return None
    return Estimate(lines, notes)

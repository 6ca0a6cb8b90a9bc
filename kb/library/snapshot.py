"""One version of the library held in memory for recommending and checking:
indicators, quota standards and the taxonomy, with the look-ups both need.

Published versions never change, so a snapshot of one is cached (keyed by the
database and the version's identity); the draft is read afresh every time.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from kb.library import versions
from kb.errors import InvalidInput
from kb.models import CaseRecord, DepartmentRecord, IndicatorRecord, ProjectTypeRecord, QuotaRecord, SectorRecord

CACHE_SIZE = 4
_cache: OrderedDict = OrderedDict()
_loading: dict = {}
_lock = threading.Lock()


_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
_NAME_PUNCT = re.compile(r"[\s·、，,。.：:；;\"'“”‘’/／\-—_]+")


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """Indicator names compared without spaces, brackets' contents or punctuation (memoised: a
    suggestion compares a few hundred names, and the library's names recur from request to request)."""
    return _NAME_PUNCT.sub("", _BRACKETS.sub("", name or "")).lower()


# Short forms people write for a 类 whose words they do not contain ("科技" is not in 科学技术;
# left to the substring match it would find 科技条件与服务 instead).
SECTOR_ALIASES = {"科技": "科学技术", "社保": "社会保障和就业", "就业": "社会保障和就业", "环保": "节能环保",
                  "医疗": "卫生健康", "文旅": "文化旅游体育与传媒", "应急": "灾害防治及应急管理", "粮食": "粮油物资储备"}


def _sector_words(name: str) -> str:
    """A sector's name as compared: without 支出, spaces or punctuation, 与/及/、 read as 和."""
    text = re.sub(r"[\s·，,、/（）()]+", "", name or "").removesuffix("支出")
    return re.sub("[与及]", "和", text)


def bigram_dice(a: str, b: str) -> float:
    x = {a[i:i + 2] for i in range(len(a) - 1)} or {a}
    y = {b[i:i + 2] for i in range(len(b) - 1)} or {b}
    return 2 * len(x & y) / (len(x) + len(y))


def sector_chain(code: str) -> list[str]:
    """"2100201" → ["2100201", "21002", "210"]: the code and its parents (3 → 5 → 7 digits)."""
    return [code[:n] for n in (7, 5, 3) if len(code) >= n]


def sectors_related(a: str, b: str) -> bool:
    """The same 支出功能分类 or one inside the other."""
    return a.startswith(b) or b.startswith(a)


@dataclass
class Snapshot:
    version: versions.VersionRef
    indicators: list[IndicatorRecord]
    quotas: list[QuotaRecord]
    sectors: dict[str, SectorRecord]
    departments: dict[str, DepartmentRecord]
    project_types: dict[str, ProjectTypeRecord]
    cases: list[CaseRecord] = field(default_factory=list)
    by_code: dict[str, IndicatorRecord] = field(default_factory=dict)
    by_name: dict[str, list[IndicatorRecord]] = field(default_factory=dict)
    memo: dict = field(default_factory=dict)  # derived data (e.g. term statistics) computed once per snapshot

    def __post_init__(self):
        self.by_code = {i.code: i for i in self.indicators}
        for i in self.indicators:
            self.by_name.setdefault(name_key(i.name), []).append(i)

    @property
    def active_indicators(self) -> list[IndicatorRecord]:
        return [i for i in self.indicators if i.status in ("standard", "candidate")]

    def current_quotas(self, on: date | None = None) -> list[QuotaRecord]:
        on = on or date.today()
        return [q for q in self.quotas if q.status == "current" and q.effective_date <= on
                and (q.expiry_date is None or q.expiry_date >= on)]

    # --- resolving what a drafter typed -------------------------------------------------

    def resolve_sector(self, text: str) -> str | None:
        """A 支出功能分类 code or name as people write it → its code: "210", "卫生健康", "卫生健康支出",
        "社会保障与就业" (与/及 for 和), a short form contained in a name ("卫生" → 卫生健康), or a
        near spelling (bigram Dice ≥ 0.6). The broadest of equally good items wins.

        Raises InvalidInput for a sector the library does not know; None for no sector."""
        text = (text or "").strip()
        if not text:
            return None
        if text in self.sectors:
            return text
        if text.isdigit() and len(text) in (3, 5, 7):
            raise InvalidInput(f"未知的行业/领域“{text}”：功能分类中没有这个编码")
        wanted = _sector_words(SECTOR_ALIASES.get(text, text))
        names = [(s.code, _sector_words(s.name)) for s in self.sectors.values()]
        for test in (lambda n: n == wanted, lambda n: len(wanted) >= 2 and n.startswith(wanted),
                     lambda n: len(wanted) >= 2 and wanted in n,
                     lambda n: len(wanted) >= 3 and bigram_dice(n, wanted) >= 0.6):
            hits = [code for code, n in names if test(n)]
            if hits:
                return min(hits, key=lambda c: (len(c), c))
        raise InvalidInput(f"未知的行业/领域“{text}”：请填写支出功能分类编码（如 210）或名称（如 卫生健康）")

    def resolve_project_type(self, text: str) -> str | None:
        """"PT-PX", "培训类", "培训" → "PT-PX". Raises InvalidInput for an unknown type."""
        text = (text or "").strip()
        if not text:
            return None
        if text in self.project_types:
            return text
        for t in sorted(self.project_types.values(), key=lambda t: t.code):
            if text in (t.name, t.name.removesuffix("类")) or t.name.startswith(text.removesuffix("类")):
                return t.code
        names = "、".join(t.name for t in sorted(self.project_types.values(), key=lambda t: t.code))
        raise InvalidInput(f"未知的项目类别“{text}”" + (f"：可选 {names}" if names else ""))

    def resolve_department(self, text: str) -> str | None:
        """A department code or type name, or a unit's name containing one ("衡阳市中心医院" stays
        free text unless a type's name is in it); None when nothing matches (departments are open)."""
        text = (text or "").strip()
        if not text:
            return None
        if text in self.departments:
            return text
        for d in sorted(self.departments.values(), key=lambda d: (-len(d.name), d.code)):
            if d.name == text or d.name in text:
                return d.code
        return None


def load(session: Session, version: str | versions.VersionRef | None = None) -> Snapshot:
    ref = version if isinstance(version, versions.VersionRef) else versions.resolve(session, version)
    if ref.is_draft:
        return _read(session, ref)
    key = (str(session.get_bind().url), ref.id, ref.label, ref.published_at)
    with _lock:
        snap = _cache.get(key)
        if snap is not None:
            _cache.move_to_end(key)
            return snap
        loading = _loading.setdefault(key, threading.Lock())
    with loading:  # one reader per version; the others wait for its result
        with _lock:
            snap = _cache.get(key)
        if snap is None:
            snap = _read(session, ref)
            with _lock:
                _cache[key] = snap
                while len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
    with _lock:
        _loading.pop(key, None)
    return snap


def _read(session: Session, ref: versions.VersionRef) -> Snapshot:
    def recs(kind):
        return versions.records(session, kind, ref)

    return Snapshot(
        version=ref,
        indicators=recs("indicator"),
        quotas=recs("quota"),
        sectors={s.code: s for s in recs("sector")},
        departments={d.code: d for d in recs("department")},
        project_types={t.code: t for t in recs("project_type")},
        cases=[c for c in recs("case") if c.status != "retired"],
    )

"""How far one indicator row's actual value (实际完成值) meets its target, by
the rules of 单位自评 (财预〔2020〕10号): a quantitative target reached is
complete, one missed counts in proportion (a ≤ target in the other direction);
a deadline is met or missed; a qualitative value falls in one of three bands.

Monitoring (kb/targets/monitoring.py) and self-evaluation (kb/targets/self_evaluation.py) both
start from this.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from kb.dates import deadline, parse_day
from kb.dimensions import dimensions
from kb.numerals import fmt, to_number
from kb.targets.table import TargetRow, numeric_value, range_value, split_value
from kb.targets.values import is_date_or_period

# a kind of row, by what its target is
QUANTITATIVE, TIME, QUALITATIVE = "定量", "时效", "定性"
YES_NO = ("是", "否", "有", "无")
DONE_WORDS = ("已完成", "按时完成", "按期完成", "如期完成", "提前完成", "完成", "达成", "已达成", "是")
NOT_DONE_WORDS = ("未完成", "延期", "推迟", "滞后", "逾期", "未按时", "否", "进行中", "正在", "未开始")
# 1-2 characters after the number that are not a unit of it ("95%以上" is 95)
_ACTUAL_RE = re.compile(r"^\s*(?:约|达|为|完成)?\s*(-?\d[\d,，]*(?:\.\d+)?\s*[万亿]?)")


@dataclass(frozen=True)
class Band:
    name: str
    low: float
    high: float
    words: tuple[str, ...]


@lru_cache(maxsize=1)
def bands() -> tuple[Band, ...]:
    raw = dimensions().raw["self_evaluation"]["qualitative_bands"]
    return tuple(Band(b["name"], float(b["share"][0]), float(b["share"][1]), tuple(b["words"])) for b in raw)


@dataclass
class Achievement:
    kind: str  # 定量 | 时效 | 定性
    completion: float | None  # 0–1, None when the actual is missing or cannot be read
    ratio: float | None = None  # actual ÷ target for a quantitative row, uncapped (over-achievement shows)
    actual_number: float | None = None
    target_number: float | None = None
    due: date | None = None  # a time row's deadline
    done: bool | None = None  # a time row: done by now, missed, or not known
    band: Band | None = None
    problem: str = ""  # why the actual could not be assessed, for the unit to correct
    reason: str = ""

    @property
    def missing(self) -> bool:
        return self.completion is None


def kind_of(row: TargetRow) -> str:
    if row.operator == "定性":
        return QUALITATIVE
    if numeric_value(row.value) is not None or (row.operator == "区间" and range_value(row.value)):
        return QUANTITATIVE
    if is_date_or_period(row.value) and deadline(row.value, 2000) is not None:
        return TIME
    return QUALITATIVE


def read_number(text: str) -> float | None:
    """The number an actual value states: "98", "98%", "98.5%以上", "1.2万", "120人", "约3,000"."""
    text = (text or "").strip()
    number = numeric_value(text)
    if number is not None:
        return number
    _, value, _ = split_value(text)
    number = numeric_value(value)
    if number is not None:
        return number
    m = _ACTUAL_RE.match(text)
    return to_number(m.group(1).replace(" ", "")) if m else None


def _band_of(actual: str) -> Band | None:
    text = actual.strip().rstrip("。.")
    for band in bands():  # exact words first, so 未达成 is not read as 达成
        if text in band.words:
            return band
    best = None
    for band in bands():
        for word in band.words:
            if len(word) >= 2 and word in text and (best is None or len(word) > len(best[1])):
                best = (band, word)
    return best[0] if best else None


def _quantitative(row: TargetRow, actual: str) -> Achievement:
    a = read_number(actual)
    if a is None:
        return Achievement(QUANTITATIVE, None, problem=f"实际完成值“{actual}”不是数字，目标值是“{row.operator}{row.value}{row.unit}”")
    op = row.operator or "≥"
    if op == "区间":
        bounds = range_value(row.value)
        if bounds is None:
            return Achievement(QUANTITATIVE, None, problem=f"区间指标的指标值“{row.value}”应写成“下限-上限”（如 80-90）")
        lo, hi = bounds
        completion = 1.0 if lo <= a <= hi else (a / lo if a < lo and lo > 0 else (hi / a if a > hi and a > 0 else 0.0))
        return Achievement(QUANTITATIVE, max(0.0, min(1.0, completion)), actual_number=a, target_number=lo,
                           reason=f"实际{fmt(a)}，目标区间{fmt(lo)}–{fmt(hi)}")
    t = numeric_value(row.value)
    if op in ("≤", "<"):
        ok = a <= t if op == "≤" else a < t
        completion = 1.0 if ok else (t / a if a > 0 and t > 0 else 0.0)
        reason = f"实际{fmt(a)}，目标{op}{fmt(t)}" + ("，已达到" if ok else "，超出目标，按目标值÷实际值计")
        return Achievement(QUANTITATIVE, completion, ratio=(t / a if a else None), actual_number=a, target_number=t,
                           reason=reason)
    if op == "=":
        ok = abs(a - t) < 1e-9
        completion = 1.0 if ok else (max(0.0, 1 - abs(a - t) / abs(t)) if t else 0.0)
        return Achievement(QUANTITATIVE, completion, ratio=(a / t if t else None), actual_number=a, target_number=t,
                           reason=f"实际{fmt(a)}，目标={fmt(t)}" + ("，已达到" if ok else "，按偏离比例计"))
    # ≥, > and a number without an operator: more is better
    ok = a >= t if op != ">" else a > t
    ratio = a / t if t > 0 else (1.0 if a >= t else 0.0)
    completion = 1.0 if ok else max(0.0, min(1.0, ratio))
    reason = f"实际{fmt(a)}，目标{op}{fmt(t)}" + ("，已达到" if ok else f"，完成{fmt(completion * 100)}%")
    if not row.operator:
        reason += "（未写指标性质，按≥计）"
    return Achievement(QUANTITATIVE, completion, ratio=ratio, actual_number=a, target_number=t, reason=reason)


def _time(row: TargetRow, actual: str, year: int, as_of: date | None) -> Achievement:
    done_on = parse_day(actual) or (deadline(actual, year) if re.search(r"\d", actual) else None)
    # a deadline that names no year ("12月31日前") is in the year the work was done, or the budget year
    due = deadline(row.value, done_on.year if done_on else year)
    if done_on is not None:
        ok = done_on <= due
        return Achievement(TIME, 1.0 if ok else 0.0, due=due, done=ok,
                           reason=f"{done_on.isoformat()}完成，期限{due.isoformat()}" + ("" if ok else "，逾期"))
    if any(w in actual for w in NOT_DONE_WORDS):
        late = as_of is not None and as_of > due
        return Achievement(TIME, 0.0 if late or as_of is None else None, due=due, done=False,
                           reason=f"“{actual}”，期限{due.isoformat()}" + ("，已逾期" if late else ""))
    if any(w in actual for w in DONE_WORDS):
        return Achievement(TIME, 1.0, due=due, done=True, reason=f"“{actual}”，期限{due.isoformat()}")
    return Achievement(TIME, None, due=due, problem=f"实际完成值“{actual}”看不出是否按期完成，请填完成日期（如 {year}-10-31）或“已完成/未完成”")


def _qualitative(row: TargetRow, actual: str) -> Achievement:
    if row.value.strip() in YES_NO and actual.strip() in YES_NO and actual.strip() != row.value.strip():
        worst = bands()[-1]  # "是否造成污染：否" answered 是 is the opposite of the target, not a word of praise
        return Achievement(QUALITATIVE, 0.0, band=worst, reason=f"目标“{row.value}”，实际“{actual}”，未达成")
    if actual.strip() == row.value.strip():
        top = bands()[0]
        return Achievement(QUALITATIVE, top.high, band=top, reason=f"与目标值“{row.value}”一致（{top.name}）")
    band = _band_of(actual)
    if band is None:
        names = "、".join(b.words[0] for b in bands())
        return Achievement(QUALITATIVE, None, problem=f"实际完成值“{actual}”无法归入定性指标的三档，请写{names}或优/良/差")
    return Achievement(QUALITATIVE, band.high, band=band,
                       reason=f"“{actual}”属“{band.name}”档（{fmt(band.low * 100)}–{fmt(band.high * 100)}%），按档次上限计")


def assess(row: TargetRow, year: int, as_of: date | None = None) -> Achievement:
    """The row's achievement. `year` is the budget year, for deadlines that name none; `as_of` the date
    of a monitoring (None at year end, when anything not done is missed)."""
    kind = kind_of(row)
    actual = (row.actual or "").strip()
    if not actual:
        due = deadline(row.value, year) if kind == TIME else None
        return Achievement(kind, None, due=due, reason="未填写实际完成值")
    if kind == QUANTITATIVE:
        return _quantitative(row, actual)
    if kind == TIME:
        return _time(row, actual, year, as_of)
    return _qualitative(row, actual)

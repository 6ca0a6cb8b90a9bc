"""A target value for a library indicator in one project, with its basis
(计划标准 | 行业标准 | 历史标准 | 其他标准): from the quantities the project states,
the quota standard that applies, the budget, or the library's reference values.

Used by recommend (suggested values) and by the check (the values its fixes propose).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kb.dimensions import dimensions
from kb.models import IndicatorRecord
from kb.numerals import fmt
from kb.targets.quotas import AMOUNT_UNITS, Estimate, Quantity, QuotaMatch
from kb.targets.table import TargetRow, numeric_value, range_value

END_OF_YEAR = "12月31日前"
DATE_RE = re.compile(r"(\d{1,2}月(\d{1,2}日)?|年底|年末|年内|季度|上半年|下半年|\d+(?:\.\d+)?个?(天|日|月|周|工作日|小时|分钟|年)|前|以内|之前|内)")
TIME_UNITS = ("天", "日", "月", "周", "工作日", "小时", "分钟", "年", "日期", "月日前", "季度")
MONEY_UNITS = {"元": 1 / 10000, "万元": 1.0, "亿元": 10000.0, "千元": 0.1}
# the category of quota a cost indicator's name points at
COST_CATEGORY_WORDS = {"会议费": ("会议", "会务"), "培训费": ("培训", "学员"), "讲课费": ("讲课", "授课", "师资"), "差旅费": ("差旅", "出差")}
PER_DAY_RE = re.compile(r"(每天|每日|人天|人·天|日均|/天|/日)")
PER_UNIT_RE = re.compile(r"(人均|户均|生均|次均|亩均|单位|每人|每户|每亩|单价|/)")
COMPLETION_RATE_RE = re.compile(r"(完成|到位|执行|验收|发放|兑现|拨付|支付|及时|按时|合格)率")
BASIS_ORDER = ("行业标准", "历史标准", "计划标准", "其他标准")


@dataclass
class SuggestedValue:
    value: str
    basis: str
    note: str = ""
    unit: str = ""  # when the value is in one of the units the indicator allows ("台" of "台/件/辆/套")


def default_operator(rec: IndicatorRecord) -> str:
    dims = dimensions()
    if rec.operator in dims.operators:
        return rec.operator
    if rec.qualitative:
        return "定性"
    return "≤" if rec.direction == "down" else "≥"


def money_factor(unit: str) -> float | None:
    """万元 per one of this unit (元 → 0.0001), None when the unit is not a plain amount of money."""
    return MONEY_UNITS.get((unit or "").strip())


def is_date_or_period(value: str) -> bool:
    return bool(DATE_RE.search(value or ""))


def value_is_valid(operator: str, value: str, unit: str, level2: str = "") -> bool:
    """What the check accepts as a quantitative value: a number, a range for 区间, a date or period for time."""
    if operator == "定性":
        return bool(value.strip())
    if operator == "区间":
        return range_value(value) is not None
    if numeric_value(value) is not None:
        return True
    return (level2 == "时效指标" or unit in TIME_UNITS) and is_date_or_period(value)


def cost_category(name: str, matches: list[QuotaMatch]) -> str | None:
    """The quota category a cost indicator is about: named in it, else the project's only selected one."""
    for category, words in COST_CATEGORY_WORDS.items():
        if any(w in name for w in words):
            return category
    selected = {m.quota.category for m in matches if m.selected and m.quota.category in COST_CATEGORY_WORDS}
    return selected.pop() if len(selected) == 1 else None


def quota_for(category: str | None, matches: list[QuotaMatch]) -> QuotaMatch | None:
    for m in matches:
        if m.selected and m.quota.category == category:
            return m
    return None


_HEADCOUNT_RE = re.compile(r"(人数|人次|学员|参训|与会|参会|受训|培训)")
_SESSIONS_RE = re.compile(r"(次数|班次|期数|场次|会议|培训班|举办|召开|组织)")
_DAYS_RE = re.compile(r"(会期|天数|培训时间|培训时长)")
_UNIT_CHOICES_RE = re.compile(r"[/、，,]")


def _from_quantity(rec: IndicatorRecord, q: Quantity) -> SuggestedValue | None:
    unit, name = rec.unit.strip(), rec.name
    if not (q.headcount or q.sessions or q.days or q.hours or q.amounts):
        return None  # nothing was parsed from the project's text (most projects): nothing to take a value from
    note = "按项目申报内容（" + "、".join(q.evidence[:4]) + "）"
    if unit in ("人", "人次", "名") and _HEADCOUNT_RE.search(name) and q.headcount:
        return SuggestedValue(fmt(q.headcount), "计划标准", note)
    if unit in ("次", "期", "场", "班", "班次", "个") and _SESSIONS_RE.search(name) and q.sessions:
        return SuggestedValue(fmt(q.sessions), "计划标准", note)
    if unit in ("天", "日") and _DAYS_RE.search(name) and q.days:
        return SuggestedValue(fmt(q.days), "计划标准", note)
    if unit in ("学时", "课时") and q.hours:
        return SuggestedValue(fmt(q.hours), "计划标准", note)
    # "台/件/辆/套" lists units to choose from; "公斤/亩" is one unit (a ratio)
    allowed = [u for u in _UNIT_CHOICES_RE.split(unit) if u]
    if not all(u in AMOUNT_UNITS for u in allowed):
        allowed = [unit]
    stated = [u for u in allowed if u in q.amounts]
    if stated:
        u = stated[0]
        context = q.amount_context.get(u, "")
        # a specific indicator must name what the amount is of (灌溉面积 is not the 农田 area)
        if rec.kind == "specific" and not (_bigrams(rec.name) & _bigrams(context)):
            return None
        return SuggestedValue(fmt(q.amounts[u]), "计划标准", note, u if len(allowed) > 1 else "")
    return None


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _from_cost(rec: IndicatorRecord, q: Quantity, matches: list[QuotaMatch], budget_wan: float | None,
               estimate: Estimate | None) -> SuggestedValue | None:
    factor = money_factor(rec.unit)
    unit, name = rec.unit.replace(" ", ""), rec.name
    category = cost_category(name, matches)
    match = quota_for(category, matches)
    per_day = bool(PER_DAY_RE.search(name) or unit.endswith(("人·天", "人天", "/天")))
    per_unit = bool(PER_UNIT_RE.search(name) or "/" in unit)
    if match and per_day and (factor or unit.startswith("元/")):
        return SuggestedValue(fmt(match.quota.amount), "计划标准", f"{match.quota.name} {fmt(match.quota.amount)}{match.quota.unit}")
    if match and per_unit and unit in ("元", "元/人") and "人" in name + unit and q.days:
        line_days = q.days
        return SuggestedValue(fmt(match.quota.amount * line_days), "计划标准",
                              f"{match.quota.name} {fmt(match.quota.amount)}{match.quota.unit} × {fmt(line_days)}天")
    if factor and not per_unit:
        if budget_wan:
            return SuggestedValue(fmt(budget_wan / factor), "计划标准", f"批复预算数 {fmt(budget_wan)} 万元")
        if estimate:
            return SuggestedValue(fmt(estimate.total_wan_yuan / factor), "计划标准", "按支出标准测算：" + estimate.formula)
    return None


def _from_references(rec: IndicatorRecord, budget_wan: float | None) -> SuggestedValue | None:
    refs = sorted(rec.reference_values or [], key=lambda r: BASIS_ORDER.index(r.get("basis")) if r.get("basis") in BASIS_ORDER else 9)
    level2 = rec.target_dims[1]
    op = default_operator(rec)
    for ref in refs:
        value = str(ref.get("value", "")).strip()
        if "批复预算" in value and budget_wan and money_factor(rec.unit):
            return SuggestedValue(fmt(budget_wan / money_factor(rec.unit)), ref.get("basis", "计划标准"), f"批复预算数 {fmt(budget_wan)} 万元")
        if "××" in value or "XX" in value.upper():
            if level2 == "时效指标" or rec.unit in TIME_UNITS:
                return SuggestedValue(END_OF_YEAR, ref.get("basis", "计划标准"), "年度项目按年底前完成；跨年项目按实施计划")
            continue
        if value_is_valid(op, value, rec.unit, level2) and (op == "定性" or "×" not in value):
            return SuggestedValue(value, ref.get("basis", "其他标准"), ref.get("note", ""))
    return None


def _fallback(rec: IndicatorRecord) -> SuggestedValue | None:
    level2 = rec.target_dims[1]
    op = default_operator(rec)
    if op == "定性":
        return SuggestedValue(dimensions().qualitative_values[0], "其他标准", "定性指标按完成情况评价")
    if (level2 == "时效指标" and ("时间" in rec.name or rec.unit in ("日期", "月日前"))) or rec.unit in ("日期", "月日前"):
        return SuggestedValue(END_OF_YEAR, "计划标准", "年度项目按年底前完成；跨年项目按实施计划")
    if rec.unit == "%" and rec.direction != "down" and COMPLETION_RATE_RE.search(rec.name):
        return SuggestedValue("100", "计划标准", "按计划全部完成")
    return None


def suggest(rec: IndicatorRecord, quantity: Quantity | None = None, matches: list[QuotaMatch] = (),
            budget_wan: float | None = None, estimate: Estimate | None = None,
            fallback: bool = False) -> SuggestedValue | None:
    """The value to propose for `rec` in this project, or None when the library and the text give none."""
    quantity = quantity or Quantity()
    level1 = rec.target_dims[0]
    if level1 == "成本指标" or rec.target_dims[1] == "成本指标":
        hit = _from_cost(rec, quantity, list(matches), budget_wan, estimate)
        if hit:
            return hit
    hit = _from_quantity(rec, quantity) or _from_references(rec, budget_wan)
    if hit is None and fallback:
        hit = _fallback(rec)
    return hit


def row_for(rec: IndicatorRecord, value: SuggestedValue | None) -> TargetRow:
    level1, level2 = rec.target_dims
    return TargetRow(level1=level1, level2=level2, name=rec.name, operator=default_operator(rec),
                     value=value.value if value else "", unit=(value.unit if value and value.unit else rec.unit), code=rec.code,
                     basis=value.basis if value else "")

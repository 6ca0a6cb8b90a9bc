"""The quota calculator: what one spending standard (支出定额标准) allows for the quantities a drafter
states (people, days, hours …), with the standard's items shared out in proportion. The sum itself is
kb.targets.quotas.estimate's, the one the drafting page's estimate uses; the quota pages and any other caller show
this result."""
from __future__ import annotations

from dataclasses import dataclass

from kb.errors import BadParameter
from kb.models import QuotaRecord
from kb.numerals import to_number
from kb.targets.quotas import Estimate, Quantity, QuotaMatch, estimate

MAX_QUANTITY = 10_000_000
# what the calculator asks for, by the standard's unit (spaces removed)
UNIT_NEEDS = {
    "元/人·天": ("people", "days"), "元/人天": ("people", "days"), "元/人/天": ("people", "days"),
    "元/学时": ("hours",), "元/课时": ("hours",),
    "元/人·年": ("people",), "元/人年": ("people",),
    "元/生·年": ("people",), "元/生年": ("people",),
    "元/生·天": ("people", "days"), "元/生天": ("people", "days"),
}
NEED_LABELS = {"people": "人数", "days": "天数", "hours": "学时数", "sessions": "期数"}


@dataclass
class ItemShare:
    name: str
    amount: float
    subtotal: float


@dataclass
class Calculation:
    quota: QuotaRecord
    quantity: Quantity
    estimate: Estimate
    items: list[ItemShare]

    def to_dict(self) -> dict:
        line = self.estimate.lines[0]
        return {
            "code": self.quota.code, "name": self.quota.name, "category": self.quota.category, "tier": self.quota.tier,
            "unit": self.quota.unit, "amount": self.quota.amount, "status": self.quota.status,
            "formula": line.formula, "explanation": line.explanation, "note": line.note,
            "factors": [{"value": v, "what": what} for v, what in line.factors],
            "items": [{"name": i.name, "amount": i.amount, "subtotal": i.subtotal} for i in self.items],
            "total_yuan": self.estimate.total_yuan, "total_wan_yuan": self.estimate.total_wan_yuan,
            "notes": self.estimate.notes, "source": source_text(self.quota),
        }


def source_text(q: QuotaRecord) -> str:
    s = q.source or {}
    return s.get("document", "") + (f"（{s['doc_number']}）" if s.get("doc_number") else "")


def quantity(name: str, raw: str | None, required: bool = False) -> float | None:
    """A quantity as typed (3, 1,200, 三百) or None when left empty; a Chinese refusal when unusable."""
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise BadParameter(f"请填写{NEED_LABELS[name]}")
        return None
    value = to_number(raw)
    if value is None or value <= 0 or value > MAX_QUANTITY:
        raise BadParameter(f"{NEED_LABELS[name]}“{raw}”应为大于0的数字")
    return value


def calculate(quota: QuotaRecord, people: float | None, days: float | None, hours: float | None,
              sessions: float | None) -> Calculation:
    """The amount one standard allows for these quantities, computed by kb.targets.quotas.estimate."""
    unit = quota.unit.replace(" ", "")
    needs = UNIT_NEEDS.get(unit)
    if needs is None:
        raise BadParameter(f"计算器暂不支持计量单位为“{quota.unit}”的标准")
    given = {"people": people, "days": days, "hours": hours}
    missing = [NEED_LABELS[n] for n in needs if not given[n]]
    if missing:
        raise BadParameter(f"按“{quota.unit}”计算，请填写" + "、".join(missing))
    quantity = Quantity(people=people, days=days, hours=hours, sessions=sessions)
    if unit.startswith("元/人") and unit.endswith("年"):
        quantity = Quantity(population=people)
    elif unit.startswith("元/生"):
        quantity = Quantity(students=people, days=days)
    result = estimate([QuotaMatch(quota, "计算器", True)], quantity)
    if result is None or not result.lines:
        raise BadParameter("无法按所填数量计算该标准")
    line = result.lines[0]
    scale = line.subtotal / line.amount if line.amount else 0
    items = [ItemShare(i.get("name", ""), float(i.get("amount") or 0), round(float(i.get("amount") or 0) * scale, 2))
             for i in quota.items or [] if i.get("amount") is not None]
    return Calculation(quota, quantity, result, items)

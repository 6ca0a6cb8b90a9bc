"""Quota standards (支出定额标准): browse by category and tier with their
documents, and a calculator (standard, people, days → amount and breakdown)
that asks kb.quotas for the sum, as the drafting page's estimate does."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import jsonify, render_template, request

from api.db import get_session
from kb import quota_catalog, versions
from kb.models import QuotaRecord
from kb.numerals import fmt, to_number
from kb.quotas import CATEGORY_WORDS, Estimate, Quantity, QuotaMatch, estimate
from web.errors import BadParameter
from web.pages import bp, version_ref

STATUS_LABELS = {"current": "现行", "superseded": "已替代", "repealed": "已废止"}
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
class CategoryGroup:
    name: str
    quotas: list[QuotaRecord] = field(default_factory=list)

    @property
    def tiers(self) -> list[str]:
        return list(dict.fromkeys(q.tier for q in self.quotas if q.tier))


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


def quantity_arg(name: str, required: bool) -> float | None:
    raw = (request.args.get(name) or "").strip()
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
    """The amount one standard allows for these quantities, computed by kb.quotas.estimate."""
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


def _quotas(version) -> list[QuotaRecord]:
    return versions.records(get_session(), "quota", version)


@bp.route("/quotas")
def quotas():
    version = version_ref()
    every = _quotas(version)
    words = request.args.get("q", "").strip()[:100]
    category = request.args.get("category", "").strip()
    tier = request.args.get("tier", "").strip()
    current_only = request.args.get("current") == "1"
    if category and category not in {q.category for q in every}:
        raise BadParameter(f"没有“{category}”类的支出标准")
    shown = quota_catalog.find(get_session(), version, words, category or None, tier or None,
                               "current" if current_only else None)
    return render_template(
        "quotas.html", version=version, groups=group_by_category(shown), all_groups=group_by_category(every),
        total=len(every), words=words, category=category, tier=tier, current_only=current_only,
        successors=successors(every), STATUS_LABELS=STATUS_LABELS, source_text=source_text, fmt=fmt,
    )


@bp.route("/quotas/<code>")
def quota(code: str):
    version = version_ref()
    item = versions.record(get_session(), "quota", code, version)
    every = _quotas(version)
    return render_template("quota.html", version=version, item=item, successor=successors(every).get(code),
                           predecessor=next((q for q in every if q.code == item.supersedes), None),
                           all_groups=group_by_category(every), STATUS_LABELS=STATUS_LABELS, source_text=source_text, fmt=fmt)


def _calculation(version) -> Calculation:
    code = (request.args.get("code") or "").strip()
    if not code:
        raise BadParameter("请选择支出标准（类别和档次）")
    item = versions.record(get_session(), "quota", code, version)
    return calculate(item, quantity_arg("people", False), quantity_arg("days", False), quantity_arg("hours", False),
                     quantity_arg("sessions", False))


@bp.route("/quotas/calculator")
def quota_calculator():
    version = version_ref()
    every = _quotas(version)
    calc, error, status = None, "", 200
    if request.args.get("code"):
        try:
            calc = _calculation(version)
        except BadParameter as exc:  # shown beside the form, which keeps what was typed
            error, status = exc.message, exc.status
    return render_template(
        "quota_calculator.html", version=version, all_groups=group_by_category(every), calc=calc, calc_error=error,
        STATUS_LABELS=STATUS_LABELS, source_text=source_text, fmt=fmt,
    ), status


@bp.route("/quotas/calculator.json")
def quota_calculator_json():
    version = version_ref()
    return jsonify({"version": version.label, **_calculation(version).to_dict()})

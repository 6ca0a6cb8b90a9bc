"""Quota standards (支出定额标准): browse by category and tier with their
documents, and the calculator (standard, people, days → amount and breakdown,
kb.targets.quota_calculator)."""
from __future__ import annotations

from flask import jsonify, render_template, request

from kb.targets import quota_catalog
from kb.library import versions
from kb.errors import BadParameter
from kb.models import QuotaRecord
from kb.numerals import fmt
from kb.targets.quota_calculator import Calculation, calculate, quantity, source_text
from kb.targets.quota_catalog import group_by_category, successors
from server.db import get_session
from web.public.blueprint import bp, version_ref

STATUS_LABELS = {"current": "现行", "superseded": "已替代", "repealed": "已废止"}


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
    people, days, hours, sessions = (quantity(name, request.args.get(name)) for name in ("people", "days", "hours", "sessions"))
    return calculate(item, people, days, hours, sessions)


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

"""The content lint on the curator pages: /curator/lint lists the draft's
findings grouped by rule, each with the indicator's code (a link to its edit
page), what is wrong and how to fix it, filtered by rule and severity;
/curator/lint.json is the same data (kb.library.lint.report) for scripts."""
from __future__ import annotations

from flask import jsonify, render_template, request

from server.db import get_session
from kb.library import draft as library
from kb.library.lint import RULES, SEVERITIES, report
from web.curator.blueprint import bp


def _report():
    rule = (request.args.get("rule") or "").strip().upper()
    severity = (request.args.get("severity") or "").strip().lower()
    return report(library.draft_records(get_session(), "indicator"), rule or None, severity or None)


@bp.route("/lint")
def lint():
    return render_template("curator/lint.html", report=_report(), RULES=RULES, SEVERITIES=SEVERITIES)


@bp.route("/lint.json")
def lint_json():
    return jsonify(_report().to_dict())

"""The curator's view of the case library in the draft: search and read
(cases enter and change through `zhibiao cases import` or the seed files)."""
from __future__ import annotations

from flask import render_template, request

from api.db import get_session
from kb import library
from kb.case_catalog import CaseFilters, find
from web.curator import bp


@bp.route("/cases")
def cases():
    query = (request.args.get("q") or "").strip()[:200]
    sector = (request.args.get("sector") or "").strip()[:7]
    found = find(library.draft_records(get_session(), "case"), query, CaseFilters(sector=sector if sector.isdigit() else ""))
    return render_template("curator/cases.html", cases=found, q=query, sector=sector)


@bp.route("/cases/<code>")
def case(code: str):
    return render_template("curator/case.html", case=library.draft_record(get_session(), "case", code))

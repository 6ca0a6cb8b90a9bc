"""The plan dashboard for the leadership: read-only, counted against a
published version (the current one unless ?version= says otherwise)."""
from __future__ import annotations

from flask import render_template

from server.db import get_session
from kb.library import snapshot
from kb.plan import progress as kbplan
from web import plan_dashboard
from web.public.blueprint import bp, version_ref


@bp.route("/plan")
def plan():
    version = version_ref()
    session = get_session()
    years = kbplan.plan_years(session)
    return render_template("plan.html", board=plan_dashboard.build(session, snapshot.load(session, version)), version=version,
                           plan_name=years[0].plan_name if years else "")

"""Curator pages of the three-year plan: years, milestones (revision-checked
saves) and the progress dashboard computed from the library."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for

from server.db import get_session
from kb.library import draft as library, snapshot, versions
from kb.plan import progress as plan, edit as plan_edit
from kb.errors import Conflict, KbError
from web import plan_dashboard
from web.curator.blueprint import actor, admin_required, bp
from web.curator.forms import milestone_form, milestone_from_form, revision_field


def _options(session) -> dict:
    return {"sectors": library.draft_records(session, "sector"), "departments": library.draft_records(session, "department"),
            "project_types": library.draft_records(session, "project_type"), "years": plan.plan_years(session),
            "MEASURES": plan_edit.MEASURES}


@bp.route("/plan", endpoint="plan")
def plan_page():
    session = get_session()
    progress = plan.progress(session, snapshot.load(session, versions.resolve(session, versions.DRAFT)))
    return render_template("curator/plan.html", progress=progress, years=plan.plan_years(session),
                           MEASURES=plan_edit.MEASURES, today=date.today())


@bp.route("/plan/years", methods=["POST"])
def save_year():
    session = get_session()
    raw = {k: (request.form.get(k) or "").strip() for k in ("year", "theme", "plan_name")}
    if not raw["plan_name"]:
        years = plan.plan_years(session)
        raw["plan_name"] = years[0].plan_name if years else ""
    row = plan_edit.save_year(session, raw, user=actor())
    flash(f"已保存 {row.year} 年", "success")
    return redirect(url_for("curator.plan"))


@bp.route("/plan/years/<int:year>/delete", methods=["POST"])
@admin_required
def delete_year(year: int):
    plan_edit.delete_year(get_session(), year, user=actor())
    flash(f"已删除 {year} 年", "success")
    return redirect(url_for("curator.plan"))


@bp.route("/plan/milestones/new", methods=["GET", "POST"])
def new_milestone():
    session = get_session()
    if request.method == "GET":
        year = request.args.get("year", type=int) or (plan.plan_years(session)[-1].year if plan.plan_years(session) else date.today().year)
        form = milestone_form({"code": plan_edit.next_code(session, year), "year": year, "measure": "specific", "target_count": 0})
        return render_template("curator/milestone.html", form=form, new=True, **_options(session))
    form = milestone_from_form(request.form)
    try:
        row = plan_edit.create_milestone(session, form, user=actor())
    except KbError as exc:
        session.rollback()
        return render_template("curator/milestone.html", form=form, new=True, message=exc.message, problems=exc.problems,
                               **_options(session)), exc.status
    flash(f"已添加里程碑 {row.code}", "success")
    return redirect(url_for("curator.plan"))


@bp.route("/plan/milestones/<code>", methods=["GET", "POST"])
def edit_milestone(code: str):
    session = get_session()
    row = plan_edit.get_milestone(session, code)
    if request.method == "GET":
        return render_template("curator/milestone.html", form=milestone_form(plan_edit.milestone_data(row)),
                               revision=row.revision, **_options(session))
    form = {**milestone_from_form(request.form), "code": code}
    expected = revision_field(request.form, then="再改")
    try:
        saved = plan_edit.update_milestone(session, code, form, expected, user=actor())
    except Conflict as exc:
        session.rollback()
        stored = plan_edit.get_milestone(session, code)
        return render_template("curator/milestone.html", form=form, revision=stored.revision, conflict=exc.message,
                               stored=milestone_form(plan_edit.milestone_data(stored)), **_options(session)), 409
    except KbError as exc:
        session.rollback()
        return render_template("curator/milestone.html", form=form, revision=expected, message=exc.message,
                               problems=exc.problems, **_options(session)), exc.status
    flash(f"已保存里程碑 {saved.code}", "success")
    return redirect(url_for("curator.plan"))


@bp.route("/plan/milestones/<code>/delete", methods=["POST"])
@admin_required
def delete_milestone(code: str):
    expected = revision_field(request.form, then="再删除")
    plan_edit.delete_milestone(get_session(), code, expected, user=actor())
    flash(f"已删除里程碑 {code}", "success")
    return redirect(url_for("curator.plan"))


@bp.route("/plan/dashboard")
def dashboard():
    session = get_session()
    version = versions.resolve(session, request.args.get("version") or versions.DRAFT)
    from kb.targets import cases

    snap = snapshot.load(session, version)
    return render_template("curator/dashboard.html", board=plan_dashboard.build(session, snap),
                           versions=versions.list_versions(session), demand=cases.demand(snap)[:50])

"""Curator pages of drafters' proposals: the queue, and accept (a new
candidate or standard indicator in the draft) or reject with a note."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from server.db import get_session
from kb.library import proposals
from kb.errors import InvalidInput, KbError
from web.curator.blueprint import actor, bp
from web.curator.draft import form_options
from web.curator.forms import form_state, indicator_form, indicator_from_form


def suggested_code(request_row) -> str:
    return f"TY-{request_row.sector or 'GX'}-{request_row.id:04d}"


@bp.route("/proposals", endpoint="proposals")
def proposals_list():
    session = get_session()
    return render_template("curator/proposals.html", groups=proposals.pending_groups(session),
                           decided=proposals.decided(session), STATUS_NAMES=proposals.STATUS_NAMES)


def _render(session, row, form, status=200, **extra):
    siblings = next((g.requests for g in proposals.pending_groups(session) if row.id in {r.id for r in g.requests}), [row])
    return render_template("curator/proposal.html", row=row, form=form, options=form_options(session), siblings=siblings,
                           STATUS_NAMES=proposals.STATUS_NAMES, **extra), status


@bp.route("/proposals/<int:request_id>")
def proposal(request_id: int):
    session = get_session()
    row = proposals.get_request(session, request_id)
    return _render(session, row, indicator_form(proposals.indicator_draft(row, suggested_code(row), session)))


@bp.route("/proposals/<int:request_id>/accept", methods=["POST"])
def accept_proposal(request_id: int):
    session = get_session()
    form = form_state(request.form)
    data, problems = indicator_from_form(form)
    try:
        if problems:
            raise InvalidInput("有些内容需要修改", problems)
        obj, ids = proposals.accept(session, request_id, data, user=actor(), note=(request.form.get("note") or "").strip())
    except KbError as exc:
        session.rollback()
        return _render(session, proposals.get_request(session, request_id), form, exc.status,
                       message=exc.message, problems=exc.problems)
    flash(f"已采纳：新建{'候选' if obj.status == 'candidate' else '标准'}指标 {obj.code}“{obj.name}”"
          f"（处理了 {len(ids)} 条相同提议）", "success")
    return redirect(url_for("curator.edit_indicator", code=obj.code))


@bp.route("/proposals/<int:request_id>/reject", methods=["POST"])
def reject_proposal(request_id: int):
    session = get_session()
    row = proposals.get_request(session, request_id)
    try:
        ids = proposals.reject(session, request_id, user=actor(), note=request.form.get("note", ""))
    except KbError as exc:
        session.rollback()
        return _render(session, row, indicator_form(proposals.indicator_draft(row, suggested_code(row), session)), exc.status,
                       reject_message=exc.message, reject_note=request.form.get("note", ""))
    flash(f"已不予采纳“{row.name}”（处理了 {len(ids)} 条相同提议）", "success")
    return redirect(url_for("curator.proposals"))

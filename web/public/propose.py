"""The drafters' "propose this custom indicator" form (public, no login,
CSRF-protected) and the page where a proposal's outcome can be looked up."""
from __future__ import annotations

from flask import Flask, current_app, redirect, render_template, request, url_for
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from server.db import get_session, require_schema
from kb.library import draft as library, proposals
from kb.dimensions import dimensions
from kb.errors import InvalidInput, KbError
from web.public.blueprint import bp

FIELDS = ("proposer", "sector", "name", "level1", "level2", "definition", "unit", "value", "department", "project_type",
          "project", "reason")
THROTTLED = "提交过于频繁，请稍后再提议"


def init_app(app: Flask) -> None:
    storage = storage_from_string((app.config.get("REDIS_URL") or "").strip() or "memory://")
    app.extensions["zhibiao.proposal_limit"] = (MovingWindowRateLimiter(storage), parse(app.config.get("PROPOSAL_LIMIT", "20 per hour")))


def _allowed() -> bool:
    limiter, item = current_app.extensions["zhibiao.proposal_limit"]
    return limiter.hit(item, "propose", request.remote_addr or "-")


def _render(form: dict, status: int = 200, **extra):
    session = get_session()
    sectors = [s for s in library.draft_records(session, "sector") if len(s.code) <= 5]
    return render_template("propose.html", form=form, sectors=sectors, dims=dimensions(), **extra), status


@bp.route("/propose", methods=["GET", "POST"])
def propose():
    require_schema()
    if request.method == "GET":
        return _render({k: request.args.get(k, "") for k in FIELDS})
    form = {k: (request.form.get(k) or "").strip() for k in FIELDS}
    session = get_session()
    try:
        if not _allowed():
            raise InvalidInput(THROTTLED)
        row = proposals.propose(session, form)
    except KbError as exc:
        session.rollback()
        return _render(form, 429 if exc.message == THROTTLED else exc.status, message=exc.message, problems=exc.problems)
    return redirect(url_for("web.proposal_status", request_id=row.id, new=1))


@bp.route("/propose/<int:request_id>")
def proposal_status(request_id: int):
    require_schema()
    row = proposals.get_request(get_session(), request_id)
    return render_template("proposal_status.html", row=row, new=bool(request.args.get("new")),
                           STATUS_NAMES=proposals.STATUS_NAMES)

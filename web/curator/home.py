"""The curator workspace's own pages: login, logout and the overview (what the draft holds, what is
unpublished, pending proposals, recent changes)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from kb import auth as kbauth
from kb.library import draft as library, proposals, versions
from kb.errors import KbError
from server.db import get_session, require_schema
from web.curator import auth as curator_auth
from web.curator.blueprint import bp

# --- login ------------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    target = curator_auth.safe_next(request.values.get("next"), url_for("curator.home"))
    if request.method == "GET":
        return render_template("curator/login.html", next=target, name="")
    require_schema()
    name = (request.form.get("name") or "").strip()
    password = request.form.get("password") or ""
    address = request.remote_addr or "-"
    throttle = curator_auth.throttle()
    if not throttle.allowed(address, name):
        return render_template("curator/login.html", next=target, name=name, error=curator_auth.LOGIN_THROTTLED), 429
    user = kbauth.authenticate(get_session(), name, password)
    if user is None:
        throttle.failed(address, name)
        return render_template("curator/login.html", next=target, name=name, error=curator_auth.LOGIN_FAILED), 401
    throttle.succeeded(address, name)
    curator_auth.sign_in(user)
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout():
    curator_auth.sign_out(get_session())
    flash("已退出登录", "info")
    return redirect(url_for("curator.login"))


@bp.route("/")
def home():
    session = get_session()
    current = _current_or_none(session)
    changes = versions.diff(session, current, versions.resolve(session, versions.DRAFT)) if current else []
    counts = {kind: library.draft_count(session, kind) for kind in ("indicator", "system", "quota")}
    return render_template(
        "curator/home.html", current=current, unpublished=len(changes), counts=counts,
        pending=proposals.pending_count(session), recent=library.change_log(session, limit=10),
        versions=versions.list_versions(session)[:5],
    )


def _current_or_none(session):
    try:
        return versions.resolve(session)
    except KbError:
        return None

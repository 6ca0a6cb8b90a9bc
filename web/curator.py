"""The curator workspace at /curator: login, and the pages that maintain the
draft, publish versions and keep the three-year plan.

Every route needs a signed-in account (made by `zhibiao user create`);
admin-only actions say so with @admin_required. Every form carries a CSRF
token. The routes live in web/curator_*.py, joined to this blueprint below.
"""
from __future__ import annotations

import json
from functools import wraps

from flask import Blueprint, Flask, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from api.db import get_session, require_schema
from kb import auth as kbauth
from kb import library, proposals, versions
from kb.errors import KbError
from web import curator_auth
from web.errors import wants_json
from web.field_names import field_label
from web.security import protect_blueprint

bp = Blueprint("curator", __name__, url_prefix="/curator", template_folder="templates")
protect_blueprint(bp)

OPEN_ENDPOINTS = ("curator.login",)
ROLE_NAMES = {"curator": "维护员", "admin": "管理员"}
ACTION_NAMES = {"create": "新建", "update": "修改", "retire": "停用/替代", "import": "导入", "seed": "载入种子库",
                "publish": "发布", "merge": "合并", "delete": "删除"}
OTHER_KIND_NAMES = {"version": "版本", "milestone": "里程碑", "plan_year": "规划年度"}  # kinds of change-log entries
NAV = [
    ("curator.home", "概览"), ("curator.draft", "草稿指标"), ("curator.duplicates", "重复指标"), ("curator.lint", "内容检查"),
    ("curator.proposals", "单位提议"), ("curator.cases", "案例库"), ("curator.systems", "指标体系"), ("curator.import_form", "导入"), ("curator.export_form", "导出"),
    ("curator.publish_form", "发布"), ("curator.diff", "版本比较"), ("curator.changes", "修改记录"),
    ("curator.plan", "三年规划"), ("curator.dashboard", "规划进度"),
]


def init_app(app: Flask) -> None:
    curator_auth.init_app(app)


# --- access -------------------------------------------------------------------------------

@bp.before_request
def _require_login():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    require_schema()
    user = curator_auth.signed_in_user(get_session())
    if user is None:
        curator_auth.forget_login()
        if request.method == "GET":
            return redirect(url_for("curator.login", next=request.full_path.rstrip("?")))
        flash("登录已过期，请重新登录（刚才的操作未保存）", "error")
        return redirect(url_for("curator.login"))
    g.curator = user
    return None


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.curator.role != "admin":
            abort(403)
        return view(*args, **kwargs)
    return wrapper


def actor() -> str:
    """The name written into the change log."""
    return g.curator.name


@bp.context_processor
def _workspace():
    return {"curator_nav": NAV, "curator": g.get("curator"), "ROLE_NAMES": ROLE_NAMES,
            "KIND_LABELS": {**library.KIND_NAMES, **OTHER_KIND_NAMES}, "field_label": field_label, "ACTION_NAMES": ACTION_NAMES}


@bp.app_template_filter("field_value")
def field_value(value) -> str:
    """A field's value as a curator reads it in a diff or a log."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        if all(isinstance(v, (str, int, float)) for v in value):
            return "、".join(str(v) for v in value)
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        from web.curator_forms import source_label

        return "；".join(f"{source_label(k)}：{v}" for k, v in value.items() if v not in (None, ""))
    return str(value)


# --- errors ---------------------------------------------------------------------------------

@bp.errorhandler(KbError)
def _kb_error(exc: KbError):
    if wants_json():  # a .json twin (/curator/lint.json) answers in JSON, as the public pages' twins do
        return jsonify({"status": exc.status, "error": exc.error, "message": exc.message,
                        "errors": [str(p) for p in exc.problems or []]}), exc.status
    return render_template("curator/error.html", message=exc.message, problems=exc.problems), exc.status


@bp.errorhandler(CSRFError)
def _csrf_error(_exc):
    return render_template("curator/error.html", message="表单已失效或来源不明（缺少安全校验码），请刷新页面后重试"), 400


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return render_template("curator/error.html", message=f"上传的文件过大（上限 {limit // (1024 * 1024)} MB），未导入"), 413


@bp.errorhandler(403)
def _forbidden(_exc):
    return render_template("curator/error.html", message="此操作仅限管理员"), 403


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
    counts = {kind: len(library.draft_records(session, kind)) for kind in ("indicator", "system", "quota")}
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


# The routes of the workspace, each module adding to `bp`.
from web import (curator_cases, curator_draft, curator_import, curator_lint, curator_plan,  # noqa: E402,F401
                 curator_proposals, curator_systems, curator_versions)

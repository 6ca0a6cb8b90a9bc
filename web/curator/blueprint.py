"""The curator workspace's blueprint (/curator/…) and what every workspace page shares: login required
(admin for some actions), the navigation, the change-log labels, error pages. web.curator imports the modules
that add routes to it."""
from __future__ import annotations

import json
from functools import wraps

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from kb.library import draft as library
from kb.errors import KbError
from server.db import get_session, require_schema
from web.curator import auth as curator_auth
from web.errors import error_response, wants_json
from web.field_names import field_label
from web.public.blueprint import WEB_ROOT
from web.security import protect_blueprint

# rooted in web/, where the templates are (shared with the public pages)
bp = Blueprint("curator", __name__, url_prefix="/curator", root_path=WEB_ROOT, template_folder="templates")
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
        from web.curator.forms import source_label

        return "；".join(f"{source_label(k)}：{v}" for k, v in value.items() if v not in (None, ""))
    return str(value)


# --- errors ---------------------------------------------------------------------------------

@bp.errorhandler(KbError)
def _kb_error(exc: KbError):
    if wants_json():  # a .json twin (/curator/lint.json) answers in JSON, as the public pages' twins do
        return error_response(exc.status, exc.message, exc.problems, exc.error)
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

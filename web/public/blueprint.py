"""The public pages' blueprints and what every public page shares: the label tables templates read, the
footer's version, the version a page reads, error pages. Pages call kb/ directly, never api/'s views.

`bp` holds the drafters' pages (browse, search, drafting, quotas, plan, propose); `rounds_bp` the saved
evaluation rounds. web.public imports the modules that add routes to them."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, g, render_template, request

from kb.library import versions
from kb.errors import KbError
from kb.schemas import KIND_LABELS
from server.db import get_session, require_schema, resolve_version, version_cache
from web.errors import error_response, init_blueprint as init_errors
from web.field_names import FIELD_NAMES
from web.security import protect_blueprint

# The templates and static assets stay in web/ (shared with the curator workspace); the blueprints are
# rooted there rather than in this package.
WEB_ROOT = str(Path(__file__).resolve().parent.parent)

bp = Blueprint("web", __name__, root_path=WEB_ROOT, template_folder="templates", static_folder="static",
               static_url_path="/static")
protect_blueprint(bp)
init_errors(bp)

DIRECTIONS = {"up": "越高越好（正向）", "down": "越低越好（反向）", "monitor": "监测比较", "none": ""}
KINDS = KIND_LABELS
STATUSES = {"candidate": "候选", "standard": "标准", "superseded": "已替代", "retired": "已停用"}
PROVENANCES = {"verbatim": "原文摘录", "adapted": "依据原文整理", "local": "本库补充"}
CERTAINTIES = {"verified": "已核实", "likely": "较可靠", "uncertain": "待核实"}


NAV = [("web.search", "指标检索"), ("web.draft", "绩效目标编制"), ("web.systems", "指标体系"), ("web.quotas", "支出标准"),
       ("web.propose", "提议指标"), ("web.plan", "建设进度")]


@bp.app_context_processor
def _labels():
    nav = [(endpoint, label) for endpoint, label in NAV if endpoint in current_app.view_functions]
    return {"nav_links": nav, "DIRECTIONS": DIRECTIONS, "KINDS": KINDS, "STATUSES": STATUSES, "PROVENANCES": PROVENANCES,
            "CERTAINTIES": CERTAINTIES, "FIELD_NAMES": FIELD_NAMES, "footer_version": footer_version}


def footer_version() -> str:
    """The label the footer names: the version the page read, else (propose, the curators' workspace, error
    pages) the current published one; "" when there is none to name."""
    ref = g.get("version")
    if ref is not None and not ref.is_draft:
        return ref.label
    try:
        ref = resolve_version(None)
    except Exception:  # an error page must still render when the database cannot answer
        return ""
    return "" if ref.is_draft else ref.label


@bp.app_errorhandler(404)
def _not_found(_exc):
    return render_template("error.html", message="页面不存在"), 404


@bp.errorhandler(KbError)
def _kb_error(exc: KbError):
    return error_response(exc.status, exc.message, exc.problems, exc.error)  # JSON for a page's .json twin


def version_ref() -> versions.VersionRef:
    """The version the page reads (?version=, default current); also offered to the switcher."""
    require_schema()
    session = get_session()
    label = request.args.get("version") or None
    ref = resolve_version(label)
    if ref.is_draft:
        abort(404)  # the draft is for curators, through their workspace
    g.version = ref
    g.all_versions = version_cache().list_versions(session)
    return ref


rounds_bp = Blueprint("rounds", __name__, root_path=WEB_ROOT)
protect_blueprint(rounds_bp)
init_errors(rounds_bp)


@rounds_bp.errorhandler(KbError)
def _round_kb_error(exc: KbError):
    return error_response(exc.status, exc.message, exc.problems, exc.error)

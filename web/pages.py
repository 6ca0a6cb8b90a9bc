"""The page blueprint. Pages call kb/ directly, never api/'s views."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, g, render_template, request

from api.db import get_session, require_schema
from kb import rounds, snapshot, versions
from kb.errors import KbError
from kb.schemas import KIND_LABELS
from kb.scoring_rules import describe as describe_rule
from kb.gates import system_leaves
from web.errors import error_response, init_blueprint as init_errors
from web.field_names import FIELD_NAMES
from web.security import protect_blueprint

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static")
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
        ref = versions.resolve(get_session(), None)
    except Exception:  # an error page must still render when the database cannot answer
        return ""
    return "" if ref.is_draft else ref.label


@bp.app_errorhandler(404)
def _not_found(_exc):
    return render_template("error.html", message="页面不存在"), 404


@bp.errorhandler(KbError)
def _kb_error(exc: KbError):
    return error_response(exc.status, exc.message, exc.problems)  # JSON for a page's .json twin


def version_ref() -> versions.VersionRef:
    """The version the page reads (?version=, default current); also offered to the switcher."""
    require_schema()
    session = get_session()
    label = request.args.get("version") or None
    ref = versions.resolve(session, label)
    if ref.is_draft:
        abort(404)  # the draft is for curators, through their workspace
    g.version = ref
    g.all_versions = versions.list_versions(session)
    return ref


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: the same icon, from this server."""
    return bp.send_static_file("favicon.svg")


@bp.route("/")
def home():
    version = version_ref()
    return render_template("home.html", version=version, versions=g.all_versions, sectors=sector_counts(version))


@dataclass
class SectorCount:
    code: str
    name: str
    specific: int  # specific indicators of this 类 (and the 款/项 in it)


def sector_counts(version) -> list[SectorCount]:
    """What the library holds for each 类 of 支出功能分类, largest first: the home page's map of the library."""
    from collections import Counter

    snap = snapshot.load(get_session(), version)
    counts = Counter(top for i in snap.active_indicators if i.kind == "specific" for top in {s[:3] for s in i.sectors})
    return [SectorCount(code, snap.sectors[code].name if code in snap.sectors else code, n)
            for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


@bp.route("/indicators/<code>")
def indicator(code: str):
    version = version_ref()
    session = get_session()
    item = versions.record(session, "indicator", code, version)
    # the version's records as the worker keeps them (kb.snapshot): reading every indicator of the version
    # from the database to pick eight related ones made this page cost 170 ms at 1,600 indicators
    snap = snapshot.load(session, version)
    sectors, departments, project_types = snap.sectors, snap.departments, snap.project_types
    systems = [
        (s, leaf) for s in versions.records(session, "system", version)
        for leaf in system_leaves(s.nodes) if leaf["indicator"] == code
    ]
    related = related_indicators(snap.indicators, item)
    history = versions.history(session, code) if not version.is_draft else []
    return render_template(
        "indicator.html", item=item, version=version, sectors=sectors, departments=departments,
        project_types=project_types, systems=systems, related=related, history=history,
    )


def related_indicators(indicators, item, limit: int = 8):
    """Same 二级 and an overlapping scope: what a drafter would also consider."""
    scope = set(item.sectors) | set(item.project_types)
    out = []
    for other in indicators:
        if other.code == item.code or other.status == "retired":
            continue
        if other.target_dims == item.target_dims and (not scope or scope & (set(other.sectors) | set(other.project_types))):
            out.append(other)
        if len(out) >= limit:
            break
    return out


@bp.route("/systems")
def systems():
    version = version_ref()
    items = versions.records(get_session(), "system", version)
    return render_template("systems.html", systems=items, version=version)


@bp.route("/systems/<code>")
def system(code: str):
    version = version_ref()
    session = get_session()
    item = versions.record(session, "system", code, version)
    names = snapshot.load(session, version).by_code
    return render_template("system.html", system=item, indicators=names, version=version,
                           rounds=rounds.list_rounds(session, code, limit=20), describe_rule=describe_rule)

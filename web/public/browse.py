"""Browsing the library: the home page (sectors and counts), an indicator's page, the indicator systems."""
from __future__ import annotations

from dataclasses import dataclass

from flask import g, render_template

from server.db import get_session
from kb.systems import rounds
from kb.library import snapshot, versions
from kb.systems.scoring_rules import describe as describe_rule
from kb.library.gates import system_leaves
from web.public.blueprint import bp, version_ref

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
    counts = Counter(top for i in snap.active_rows if i.kind == "specific" for top in {s[:3] for s in i.sectors})
    return [SectorCount(code, snap.sectors[code].name if code in snap.sectors else code, n)
            for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


@bp.route("/indicators/<code>")
def indicator(code: str):
    version = version_ref()
    session = get_session()
    item = versions.record(session, "indicator", code, version)
    # the version's records as the worker keeps them (kb.library.snapshot): reading every indicator of the version
    # from the database to pick eight related ones made this page cost 170 ms at 1,600 indicators
    snap = snapshot.load(session, version)
    sectors, departments, project_types = snap.sectors, snap.departments, snap.project_types
    systems = [
        (s, leaf) for s in versions.records(session, "system", version)
        for leaf in system_leaves(s.nodes) if leaf["indicator"] == code
    ]
    related = [snap.record(row) for row in related_indicators(snap.rows, item)]
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

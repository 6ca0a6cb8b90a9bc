"""/draft: the drafting workspace. The page is a form and a table kept in the
browser (localStorage, static/draft.js); these routes are its same-origin
JSON twins, each one call into kb/ (recommend, check, values) or importers/
(the .xlsx 绩效目标表), so the page needs no API key even where the API does.
Posts carry the page's CSRF token in the X-CSRFToken header."""
from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass

from flask import jsonify, render_template, request, send_file

from api.db import get_session
from api.limits import costly
from kb import quota_catalog, taxonomy, versions
from kb.check import check
from kb.dimensions import dimensions
from kb.monitoring import monitor
from kb.quotas import Estimate, QuotaMatch, stated
from kb.recommend import Recommendation, recommend, similar_json
from kb.self_evaluation import evaluate
from kb.target_schema import load_project, load_table
from kb.values import row_for, suggest
from web.errors import BadParameter
from web.pages import bp, version_ref
from web.search_pages import index_dir

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class SectorOption:
    code: str
    name: str
    depth: int

    @property
    def label(self) -> str:
        return "　" * self.depth + f"{self.code} {self.name}"


def sector_options(nodes, depth: int = 0) -> list[SectorOption]:
    """The classification tree flattened for a <select>, children indented under their parent."""
    out = []
    for node in nodes:
        out.append(SectorOption(node.code, node.name, depth))
        out.extend(sector_options(node.children, depth + 1))
    return out


def dimensions_json() -> dict:
    """What the table's selects offer: 一级 → 二级 of the target template, operators, value bases."""
    dims = dimensions()
    return {"levels": [{"level1": t.level1, "level2": list(t.level2)} for t in dims.target_levels],
            "operators": list(dims.operators), "value_bases": list(dims.value_bases)}


STATED_MAX_CHARS = 20_000  # 项目概况 and 年度总体目标 take 10,000 each


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadParameter("请求内容应为 JSON 对象")
    return data


def quota_json(m: QuotaMatch) -> dict:
    q = m.quota
    return {"code": q.code, "name": q.name, "category": q.category, "tier": q.tier, "unit": q.unit, "amount": q.amount,
            "source": m.source, "reason": m.reason, "selected": m.selected}


def estimate_json(est: Estimate | None) -> dict | None:
    if est is None:
        return None
    return {"total_yuan": est.total_yuan, "total_wan_yuan": est.total_wan_yuan, "formula": est.formula, "notes": est.notes,
            "lines": [{"code": line.code, "name": line.name, "subtotal": line.subtotal, "explanation": line.explanation}
                      for line in est.lines]}


def recommendation_json(rec: Recommendation) -> dict:
    """The recommended table (DESIGN §9 shape), the reason of each of its rows,
    the other candidates per 一级/二级, and the quota standards with the estimate."""
    table = rec.to_table()
    by_code = {s.code: s for s in rec.indicators}
    return {
        "version": rec.version,
        "table": table.to_dict(),
        "reasons": {r.code: by_code[r.code].reason for r in table.indicators if r.code in by_code},
        "groups": [{"level1": g.level1, "level2": g.level2, "required": g.required,
                    "suggestions": [{"code": s.code, "name": s.name, "level1": s.level1, "level2": s.level2,
                                     "kind": s.kind, "reason": s.reason, "operator": s.operator,
                                     "value": s.suggested_value, "unit": s.unit, "basis": s.basis}
                                    for s in g.suggestions]}
                   for g in rec.groups],
        "project_types": [{"code": t.code, "name": t.name, "reason": t.reason} for t in rec.project_types],
        "quotas": [quota_json(m) for m in rec.quotas],
        "estimate": estimate_json(rec.estimate),
        "similar_cases": [similar_json(c) for c in rec.similar],
        "warnings": rec.warnings,
    }


@bp.route("/draft")
def draft():
    version = version_ref()
    session = get_session()
    return render_template(
        "draft.html", version=version,
        sectors=sector_options(taxonomy.sectors(session, version)),
        departments=sorted(taxonomy.departments(session, version), key=lambda d: d.code),
        project_types=sorted(taxonomy.project_types(session, version), key=lambda t: t.code),
        dims=dimensions_json(),
    )


@bp.route("/draft/suggest.json", methods=["POST"])
@costly
def draft_suggest():
    """Project → recommended table grouped by 一级/二级, with reasons, quotas and estimate."""
    version = version_ref()
    body = json_body()
    project = load_project(body.get("project", body))
    return jsonify(recommendation_json(recommend(get_session(), index_dir(), project, version.label)))


@bp.route("/draft/quotas.json", methods=["POST"])
@costly
def draft_quotas():
    """Project → the quota standards that apply and the cost estimate (refreshed as the form changes)."""
    version = version_ref()
    body = json_body()
    found = quota_catalog.estimate_project(get_session(), load_project(body.get("project", body)), version)
    return jsonify({"version": found.version, "quotas": [quota_json(m) for m in found.matches],
                    "estimate": estimate_json(found.estimate)})


@bp.route("/draft/stated.json", methods=["POST"])
def draft_stated():
    """Summary text → the budget and quantities it states, for the drafter to confirm (a few regular expressions:
    not a costly call)."""
    body = json_body()
    text = body.get("text")
    if not isinstance(text, str):
        raise BadParameter("text 应为文字")
    if len(text) > STATED_MAX_CHARS:
        raise BadParameter(f"文字过长：最多 {STATED_MAX_CHARS} 字")
    found = stated(text)
    return jsonify({"budget_wan_yuan": found.budget_wan_yuan, "budget_phrase": found.budget_phrase,
                    "quantities": found.quantities})


@bp.route("/draft/check.json", methods=["POST"])
@costly
def draft_check():
    """Table → findings by rule and row, each with its fix where the library has one, and a grade."""
    version = version_ref()
    table = load_table(json_body())
    return jsonify(check(table, get_session(), version.label).to_dict())


@bp.route("/draft/monitor.json", methods=["POST"])
def draft_monitor():
    """Table with actual values, the budget spent and the date → completion, execution, time and warnings."""
    return jsonify(monitor(load_table(json_body())).to_dict())


@bp.route("/draft/evaluate.json", methods=["POST"])
def draft_evaluate():
    """Table with year-end actual values (and the unit's own scores) → points, grade and C15 findings."""
    return jsonify(evaluate(load_table(json_body())).to_dict())


@bp.route("/draft/row.json")
def draft_row():
    """A library indicator as a row of the table (its 目标表 一级/二级, operator, unit, a usual value)."""
    version = version_ref()
    code = (request.args.get("code") or "").strip()
    if not code:
        raise BadParameter("请指定指标编码")
    rec = versions.record(get_session(), "indicator", code, version)
    value = suggest(rec, fallback=True)
    row = asdict(row_for(rec, value))
    reason = "手动添加" + (f"；取值：{value.basis}{('，' + value.note) if value.note else ''}" if value else "")
    return jsonify({"version": version.label, "row": row, "reason": reason})


@bp.route("/draft/export.xlsx", methods=["POST"])
@costly
def draft_export():
    """Table (JSON) → the .xlsx 绩效目标表 in the usual layout."""
    from importers.target_xlsx import write_table

    from kb import snapshot
    from kb.project import labels

    version = version_ref()
    table = load_table(json_body())
    data = write_table(table, labels=labels(snapshot.load(get_session(), version.label), table.project))
    name = re.sub(r'[\\/:*?"<>|\s]+', "", table.project.name)[:60] or "项目"
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"绩效目标表-{name}.xlsx")


@bp.route("/draft/import.json", methods=["POST"])
@costly
def draft_import():
    """An uploaded .json or .xlsx 绩效目标表 → the table as JSON, validated as the check reads it."""
    from importers.files import Limits, read_upload
    from importers.target_xlsx import read_target_file

    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadParameter("请选择要导入的 .json 或 .xlsx 文件")
    data, filename = read_upload(upload.stream, upload.filename, Limits.from_env())
    table = read_target_file(data, filename)
    return jsonify({"filename": filename, "table": table.to_dict()})

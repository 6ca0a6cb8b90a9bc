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

from server.db import get_session, index_dir
from server.limits import costly
from server.inputs import uploaded_table
from kb.targets import quota_catalog
from kb import taxonomy
from kb.library import versions
from kb.targets.check import check
from kb.dimensions import dimensions
from kb.targets.monitoring import monitor
from kb.targets.quotas import stated
from kb.targets.recommend import recommend
from kb.result_schemas import ProjectEstimateSchema
from kb.targets.self_evaluation import evaluate
from kb.targets.schema import load_project, load_table
from kb.targets.values import row_for, suggest
from kb.errors import BadParameter
from kb.result_schemas import CheckResultSchema, EvaluationResultSchema, MonitorResultSchema
from web.public.blueprint import bp, version_ref

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
    # the API's answer (kb.result_schemas.RecommendationSchema): the page reads the table, its reasons and the groups
    return jsonify(recommend(get_session(), index_dir(), project, version).to_dict())


@bp.route("/draft/quotas.json", methods=["POST"])
@costly
def draft_quotas():
    """Project → the quota standards that apply and the cost estimate (refreshed as the form changes)."""
    version = version_ref()
    body = json_body()
    found = quota_catalog.estimate_project(get_session(), load_project(body.get("project", body)), version)
    return jsonify(ProjectEstimateSchema().dump(found))


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
    return jsonify(CheckResultSchema().dump(check(table, get_session(), version)))


@bp.route("/draft/monitor.json", methods=["POST"])
def draft_monitor():
    """Table with actual values, the budget spent and the date → completion, execution, time and warnings."""
    return jsonify(MonitorResultSchema().dump(monitor(load_table(json_body()))))


@bp.route("/draft/evaluate.json", methods=["POST"])
def draft_evaluate():
    """Table with year-end actual values (and the unit's own scores) → points, grade and C15 findings."""
    return jsonify(EvaluationResultSchema().dump(evaluate(load_table(json_body()))))


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

    from kb.library import snapshot
    from kb.targets.project import labels

    version = version_ref()
    table = load_table(json_body())
    data = write_table(table, labels=labels(snapshot.load(get_session(), version), table.project))
    name = re.sub(r'[\\/:*?"<>|\s]+', "", table.project.name)[:60] or "项目"
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"绩效目标表-{name}.xlsx")


@bp.route("/draft/import.json", methods=["POST"])
@costly
def draft_import():
    """An uploaded .json or .xlsx 绩效目标表 → the table as JSON, validated as the check reads it."""
    table, filename = uploaded_table(BadParameter("请选择要导入的 .json 或 .xlsx 文件"), default_name=None)
    return jsonify({"filename": filename, "table": table.to_dict()})

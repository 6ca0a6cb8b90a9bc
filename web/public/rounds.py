"""Pages of saved evaluation rounds: units scored with an indicator system
(totals, ranks, grades, scores by 一级, the leaves that lost most, a bar chart
of the totals) and the round as .xlsx. Read-only, like the system pages; the
same data is GET /api/v1/systems/<code>/rounds/<id>."""
from __future__ import annotations

import io
import re

from flask import g, render_template, send_file

from server.db import get_session, require_schema
from kb.systems import rounds
from kb.library import versions
from kb.dimensions import dimensions
from web.charts import bar_chart
from web.public.blueprint import rounds_bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _round(code: str, round_id: int) -> dict:
    require_schema()
    session = get_session()
    row = rounds.get_round(session, code, round_id)
    g.version = versions.resolve(session, row.version_label)  # the footer names the version the round used
    return rounds.round_dict(row)


@rounds_bp.route("/systems/<code>/rounds/<int:round_id>")
def round_page(code: str, round_id: int):
    result = _round(code, round_id)
    ranked = sorted(result["units"], key=lambda u: (u["rank"], u["name"]))
    chart = bar_chart(f"各单位总分（满分 {result['max_total']:g}）", [(u["name"], u["total"], 0) for u in ranked])
    return render_template("round.html", result=result, units=ranked, chart=chart, grades=dimensions().evaluation_grades)


@rounds_bp.route("/systems/<code>/rounds/<int:round_id>.xlsx")
def round_xlsx(code: str, round_id: int):
    from importers.round_files import write_round_xlsx

    result = _round(code, round_id)
    name = re.sub(r'[\\/:*?"<>|\s]+', "", result["system"])[:40] or "评分"
    return send_file(io.BytesIO(write_round_xlsx(result)), mimetype=XLSX, as_attachment=True,
                     download_name=f"评分结果-{name}-第{result['round']}轮.xlsx")

"""The curator's view of the case library in the draft: search, read and edit
(cases also enter through `zhibiao cases import` and the seed files).

A case's rows are edited as lines of text, one row per line, the cells
separated by "|" — the order of the printed table — so that a curator can
correct a transcription as it reads on the page."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from server.db import get_session
from kb.library import draft as library
from kb import untrusted
from kb.library.case_catalog import CaseFilters, find
from kb.errors import Conflict, InvalidInput, Problem
from web.curator.blueprint import actor, bp
from web.curator.forms import revision_field

ROW_CELLS = ("level1", "level2", "name", "operator", "value", "unit", "actual", "indicator")
ROW_HELP = "一级指标 | 二级指标 | 三级指标 | 指标性质 | 指标值 | 度量单位 | 实际完成值 | 库中指标编码"
TEXT_FIELDS = ("name", "summary", "goal", "sector", "department", "unit", "region", "province", "project_type",
               "expenditure_type", "table_kind", "provenance", "certainty", "note")
SOURCE_FIELDS = ("document", "doc_number", "issuer", "url")


@bp.route("/cases")
def cases():
    query = (request.args.get("q") or "").strip()[:200]
    sector = (request.args.get("sector") or "").strip()[:7]
    found = find(library.draft_records(get_session(), "case"), query, CaseFilters(sector=sector if sector.isdigit() else ""))
    return render_template("curator/cases.html", cases=found, q=query, sector=sector)


@bp.route("/cases/<code>")
def case(code: str):
    return render_template("curator/case.html", case=library.draft_record(get_session(), "case", code))


def rows_text(rows: list[dict]) -> str:
    return "\n".join(" | ".join(str(r.get(k) or "") for k in ROW_CELLS).rstrip(" |") for r in rows)


def parse_rows(text: str) -> tuple[list[dict], list[Problem]]:
    rows, problems = [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 3 or len(cells) > len(ROW_CELLS):
            problems.append(Problem(f"应为 3–{len(ROW_CELLS)} 格，用“|”分隔：{ROW_HELP}", "指标行", number))
            continue
        row = {k: v for k, v in zip(ROW_CELLS, cells) if v}
        if not row.get("name"):
            problems.append(Problem("第三格（三级指标）不能为空", "指标行", number))
            continue
        rows.append(row)
    return rows, problems


def case_form(record) -> dict:
    form = {k: getattr(record, k) or "" for k in TEXT_FIELDS}
    form.update({f"source_{k}": (record.source or {}).get(k) or "" for k in SOURCE_FIELDS})
    form.update(year=record.year or "", budget_wan_yuan="" if record.budget_wan_yuan is None else f"{record.budget_wan_yuan:g}",
                incomplete=record.incomplete, actuals=record.actuals, rows=rows_text(record.rows))
    return form


def changes_from(form) -> tuple[dict, list[Problem]]:
    changes: dict = {k: (form.get(k) or "").strip() for k in TEXT_FIELDS}
    changes["source"] = {k: (form.get(f"source_{k}") or "").strip() for k in SOURCE_FIELDS}
    changes["incomplete"], changes["actuals"] = bool(form.get("incomplete")), bool(form.get("actuals"))
    problems: list[Problem] = []
    try:
        changes["year"] = untrusted.bounded_int(form.get("year") or "", "年度", 2000, 2100) if (form.get("year") or "").strip() else None
    except untrusted.MalformedInput as exc:
        problems.append(Problem(exc.message, "年度"))
    budget = (form.get("budget_wan_yuan") or "").strip()
    try:
        changes["budget_wan_yuan"] = float(budget) if budget else None
        if budget and not 0 <= changes["budget_wan_yuan"] < 1e8:
            raise ValueError
    except ValueError:
        problems.append(Problem(f"预算“{budget}”应为万元数，如 120 或 35.5", "预算（万元）"))
    changes["rows"], row_problems = parse_rows(form.get("rows") or "")
    return changes, problems + row_problems


@bp.route("/cases/<code>/edit", methods=["GET", "POST"])
def edit_case(code: str):
    session = get_session()
    current = library.draft_record(session, "case", code)
    if request.method == "GET":
        return render_template("curator/case_edit.html", code=code, form=case_form(current), revision=current.revision,
                               row_help=ROW_HELP)
    form = {k: request.form.get(k, "") for k in request.form}
    expected = revision_field(request.form, then="再改")
    changes, problems = changes_from(request.form)

    def again(status: int, **extra):
        return render_template("curator/case_edit.html", code=code, form=form, revision=extra.pop("revision", expected),
                               row_help=ROW_HELP, **extra), status

    if problems:
        return again(422, message="有些内容需要修改", problems=problems)
    try:
        saved = library.update_record(session, "case", code, changes, expected, user=actor())
    except Conflict as exc:
        session.rollback()
        stored = library.draft_record(session, "case", code)
        # the input stays; the form now carries the stored revision, so saving again overwrites on purpose
        return again(409, message=exc.message + "；您的输入仍在下面，确认后再次保存将覆盖对方的修改", revision=stored.revision)
    except InvalidInput as exc:
        session.rollback()
        return again(422, message=exc.message, problems=exc.problems)
    flash(f"已保存案例“{saved.name}”（修订 {saved.revision}）", "success")
    return redirect(url_for("curator.case", code=code))

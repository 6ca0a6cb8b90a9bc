"""Importing cases (real published 绩效目标表/自评表) from the workspace, as `zhibiao cases import` does:
upload → every table read and validated, a dry run says which cases would be new or changed (nothing is
written) → confirm → the file is read again and applied only if the result is still the one the curator
saw, all or nothing. A workbook of several tables (重庆's sheets, 四川's 横表) gives CODE-01, CODE-02 …"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from importers.cases import CaseSource, CasePlan, apply_cases, plan_cases
from kb.errors import InvalidInput, KbError
from kb.library.draft import ApplyReport
from kb.schemas import CERTAINTIES, PROVENANCES
from server.db import get_session
from web.curator import uploads as curator_uploads
from web.curator.blueprint import actor, bp

TABLE_KINDS = ("目标表", "自评表", "监控表")
SETTINGS = ("code", "url", "document", "doc_number", "issuer", "region", "province", "year", "table_kind",
            "provenance", "certainty")


def _settings(form) -> dict:
    return {k: (form.get(k) or "").strip()[:500] for k in SETTINGS}


def _source(settings: dict) -> CaseSource:
    """What the form says of the file; a year that is no year is refused in Chinese, like the command's."""
    year = settings["year"]
    if year and not (year.isascii() and year.isdigit() and 1990 <= int(year) <= 2100):
        raise InvalidInput(f"年度“{year}”应为四位年份，如 2024")
    for name, allowed, label in (("table_kind", TABLE_KINDS, "表别"), ("provenance", PROVENANCES, "来源性质"),
                                 ("certainty", CERTAINTIES, "可靠程度")):
        if settings[name] and settings[name] not in allowed:
            raise InvalidInput(f"{label}“{settings[name]}”不是可选的值")
    return CaseSource(settings["code"], settings["url"], settings["document"], settings["doc_number"],
                      settings["issuer"], settings["provenance"] or "verbatim", settings["certainty"] or "verified",
                      settings["region"], settings["province"], int(year) if year else None, settings["table_kind"])


def _dry_run(upload, settings: dict) -> tuple[CasePlan, ApplyReport | None]:
    plan = plan_cases(upload.path.read_bytes(), upload.filename, _source(settings))
    report = apply_cases(get_session(), plan, user=actor(), dry_run=True) if plan.ok else None
    return plan, report


def digest(plan: CasePlan, report: ApplyReport | None) -> str:
    """What the curator confirmed: the cases read, and which of them were new or changed in the draft then."""
    return curator_uploads.digest({"plan": plan.to_dict(), "items": plan.batch.items.get("case", []) if plan.batch else [],
                                   "added": report.added if report else {}, "changed": report.changed if report else {}})


def _form(status: int = 200, **extra):
    return render_template("curator/case_import.html", settings=extra.pop("settings", {}), table_kinds=TABLE_KINDS,
                           **extra), status


def _preview(upload, plan, report, settings, status: int = 200, **extra):
    cases = plan.batch.items.get("case", []) if plan.batch else []
    added = set((report.added if report else {}).get("case", []))
    changed = set((report.changed if report else {}).get("case", []))
    return render_template("curator/case_import_preview.html", upload=upload, plan=plan, cases=cases, added=added,
                           changed=changed, settings=settings, digest=digest(plan, report), **extra), status


@bp.route("/cases/import")
def case_import_form():
    return _form()


@bp.route("/cases/import/preview", methods=["POST"])
def case_import_preview():
    settings = _settings(request.form)
    try:
        upload = curator_uploads.from_request("请选择要导入的文件（.xlsx 目标表或自评表、.csv 或 .json）")
        plan, report = _dry_run(upload, settings)
    except KbError as exc:
        get_session().rollback()
        return _form(exc.status, settings=settings, message=exc.message, problems=exc.problems)
    return _preview(upload, plan, report, settings, 200 if plan.ok else 422)


@bp.route("/cases/import/apply", methods=["POST"])
def case_import_apply():
    settings = _settings(request.form)
    session = get_session()
    try:
        upload = curator_uploads.load(request.form.get("upload", ""), g.curator.id)
        plan, report = _dry_run(upload, settings)
    except KbError as exc:
        session.rollback()
        return _form(exc.status, settings=settings, message=exc.message, problems=exc.problems)
    if not plan.ok:
        return _preview(upload, plan, report, settings, 422)
    if digest(plan, report) != request.form.get("digest"):
        return _preview(upload, plan, report, settings, 409,
                        message="预览之后草稿中的案例已有变化，导入结果会与您看到的不同；请核对下面的新预览后再确认。未导入任何内容。")
    try:
        done = apply_cases(session, plan, user=actor())
    except KbError as exc:
        session.rollback()
        return _preview(upload, plan, report, settings, exc.status, message=exc.message, problems=exc.problems)
    curator_uploads.discard(upload.token)
    flash(f"已导入“{upload.filename}”：新增 {len(done.added.get('case', []))} 个案例，"
          f"修改 {len(done.changed.get('case', []))} 个，未变 {done.unchanged} 个。随下一个版本发布。", "success")
    return redirect(url_for("curator.cases"))

"""Import with a dry-run preview, and export of the draft or a version.

Upload → `plan_import` (nothing changes) → the preview lists adds, changes,
duplicates and errors by sheet, row and column → confirm → the file is
planned again and applied only if the plan is still the one the curator
saw, all or nothing. A file of more rows than IMPORT_JOB_ROWS is planned
again and applied in a job: its confirmation answers at once.
"""
from __future__ import annotations


from flask import Response, current_app, flash, g, redirect, render_template, request, url_for

from server.db import engine, get_session
from importers import writers
from importers.aliases import alias_table
from importers.indicator_rows import DEFAULT_PROVENANCE, ImportDefaults
from importers.dry_run import apply_import, plan_import
from kb.library import import_jobs, versions
from kb.errors import Conflict, InvalidInput, KbError, Problem
from web.curator import uploads as curator_uploads
from web.curator.blueprint import actor, bp

SHOWN_ROWS = 300
DEFAULT_FIELDS = ("source_document", "kind", "provenance", "sheet")
EXPORT_FORMATS = {"xlsx": "Excel 指标表（.xlsx）", "csv": "CSV 指标表（.csv，UTF-8）", "json": "整库 JSON（全部内容，可再导入）"}


def plan_digest(plan) -> str:
    """What the curator confirmed: the plan's content and the draft revisions it was made against."""
    expected = sorted([k[0], k[1], v] for k, v in plan.expected.items())
    return curator_uploads.digest({"plan": plan.to_dict(), "expected": expected})


def _settings(form) -> dict:
    return {k: (form.get(k) or "").strip() for k in DEFAULT_FIELDS}


def _mapping(form) -> dict[str, str | None]:
    """The curator's choices for columns the alias table does not know: header → column key (or None: skip)."""
    mapping = {}
    for name in form:
        if name.startswith("map_header_"):
            key = form.get("map_key_" + name.removeprefix("map_header_"), "")
            mapping[form[name]] = key if key in alias_table().keys else None
    return mapping


def _plan(session, upload, settings: dict, mapping: dict):
    defaults = ImportDefaults(source_document=settings["source_document"], kind=settings["kind"],
                              provenance=settings["provenance"] or DEFAULT_PROVENANCE)
    return plan_import(session, upload.path, upload.filename, mapping=mapping or None, defaults=defaults,
                       sheet=settings["sheet"] or None)


def _render_form(status: int = 200, **extra):
    return render_template("curator/import.html", settings=extra.pop("settings", {}), **extra), status


def _render_preview(upload, plan, settings, mapping, status: int = 200, **extra):
    return render_template(
        "curator/import_preview.html", upload=upload, plan=plan, settings=settings, mapping=mapping,
        digest=plan_digest(plan), shown=SHOWN_ROWS, columns=alias_table().columns, **extra,
    ), status


@bp.route("/import")
def import_form():
    return _render_form()


@bp.route("/import/preview", methods=["POST"])
def import_preview():
    session = get_session()
    settings, mapping = _settings(request.form), _mapping(request.form)
    try:
        upload = curator_uploads.from_request("请选择要导入的文件（.xlsx、.csv 或 .json）")
        plan = _plan(session, upload, settings, mapping)
    except KbError as exc:
        session.rollback()
        return _render_form(exc.status, settings=settings, message=exc.message, problems=exc.problems)
    curator_uploads.note_rows(upload, plan.batch.count())
    return _render_preview(upload, plan, settings, mapping, 200 if plan.ok else 422)


@bp.route("/import/apply", methods=["POST"])
def import_apply():
    session = get_session()
    settings, mapping = _settings(request.form), _mapping(request.form)
    upload = curator_uploads.load(request.form.get("upload", ""), g.curator.id)
    skip, confirm, user, digest = request.form.getlist("skip"), request.form.getlist("confirm"), actor(), request.form.get("digest")
    if upload.rows is not None and import_jobs.runs_as_job(upload.rows, current_app.config.get("IMPORT_JOB_ROWS")):
        # a big file (its preview counted the rows): planned again, compared with what the curator saw and
        # applied in the background, followed on the job's page like a publish
        def check_and_apply(s):
            plan = _plan(s, upload, settings, mapping)
            if not plan.errors and plan_digest(plan) != digest:
                raise Conflict(CHANGED_SINCE_PREVIEW)
            return apply_import(s, plan, user=user, skip_codes=skip, confirmed_duplicates=confirm)

        job = import_jobs.start_import(engine(), upload.rows, check_and_apply, user,
                                       {"filename": upload.filename, "upload": upload.token})
        return redirect(url_for("curator.job", job_id=job.id))
    try:
        plan = _plan(session, upload, settings, mapping)
    except KbError as exc:
        return _render_form(exc.status, settings=settings, message=exc.message, problems=exc.problems)
    if plan_digest(plan) != digest:
        return _render_preview(upload, plan, settings, mapping, 409, message="预览之后草稿已有变化，导入结果会与您看到的不同；请核对下面的新预览后再确认。未导入任何内容。")
    try:
        report = apply_import(session, plan, user=user, skip_codes=skip, confirmed_duplicates=confirm)
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        return _render_preview(upload, plan, settings, mapping, exc.status, message=exc.message, problems=exc.problems)
    curator_uploads.discard(upload.token)
    flash(imported_message(upload.filename, report.total("added"), report.total("changed"), report.unchanged), "success")
    return redirect(url_for("curator.diff", a="current", b=versions.DRAFT))


CHANGED_SINCE_PREVIEW = "预览之后草稿已有变化，导入结果会与您看到的不同；未导入任何内容。"


def imported_message(filename: str, added: int, changed: int, unchanged: int) -> str:
    return (f"已导入“{filename}”：新增 {added} 条，修改 {changed} 条，未变 {unchanged} 条。"
            "发布前可在“版本比较”中查看草稿的全部变化。")


def finished_import(status):
    """The page for a finished import job: the draft's changes once done; the import form with the reasons if refused."""
    params = status.params or {}
    if status.status == "done":
        if params.get("upload"):
            curator_uploads.discard(params["upload"])
        totals = status.result.get("totals", {})
        flash(imported_message(params.get("filename", ""), totals.get("added", 0), totals.get("changed", 0),
                               totals.get("unchanged", 0)), "success")
        return redirect(url_for("curator.diff", a="current", b=versions.DRAFT))
    problems = [Problem(p["message"], p.get("location") or "", p.get("row"), p.get("field") or "") for p in status.problems]
    return _render_form(409, message=f"“{params.get('filename', '')}”未导入：{status.error}；草稿未作任何改动。",
                        problems=problems or None)


# --- export -------------------------------------------------------------------------------------

@bp.route("/export")
def export_form():
    return render_template("curator/export.html", versions=versions.list_versions(get_session()), formats=EXPORT_FORMATS)


@bp.route("/export/download")
def export_download():
    session = get_session()
    fmt = request.args.get("format", "xlsx")
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"不支持的导出格式“{fmt}”")
    version = versions.resolve(session, request.args.get("version") or versions.DRAFT)
    exported = writers.export_library(session, version) if fmt == "json" else writers.export_indicators(session, version, fmt)
    response = Response(exported.data, mimetype=exported.mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=exported.filename)
    return response

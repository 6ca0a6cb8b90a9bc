"""Publishing with release notes and the gate results, the diff between any
two versions (the draft included), and the change log."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

from flask import flash, redirect, render_template, request, url_for

from server.db import engine, get_session, index_dir
from kb.library import gates, jobs, draft as library, publishing, versions
from kb.errors import KbError, Problem
from web.curator.blueprint import actor, bp

SHOWN_CHANGES = 500
CHANGE_NAMES = {"added": "新增", "removed": "删除", "changed": "修改"}


def suggest_label(existing: list[versions.VersionRef], today: date | None = None) -> str:
    """The next free label of this year (2025.1, 2025.2 …), or of a later year already used."""
    years = [int(v.label.split(".")[0]) for v in existing] + [(today or date.today()).year]
    year = max(years)
    taken = [int(m.group(1)) for v in existing if (m := re.match(rf"^{year}\.(\d+)", v.label))]
    return f"{year}.{max(taken, default=0) + 1}"


def _summary(changes: list[versions.Change]) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for c in changes:
        out.setdefault(c.kind, Counter())[c.change] += 1
    return out


def _current(session):
    try:
        return versions.resolve(session)
    except KbError:
        return None


def _publish_page(session, status: int = 200, **extra):
    current = _current(session)
    changes = versions.diff(session, current, versions.resolve(session, versions.DRAFT)) if current else []
    existing = versions.list_versions(session)
    return render_template(
        "curator/publish.html", current=current, problems=extra.pop("problems", None) or gates.check_draft(session),
        summary=_summary(changes), unpublished=len(changes), label=extra.pop("label", None) or suggest_label(existing),
        versions=existing[:5], **extra,
    ), status


@bp.route("/publish")
def publish_form():
    return _publish_page(get_session())


@bp.route("/publish", methods=["POST"])
def publish():
    """Publishing runs as a job (kb.library.jobs): a bad label is refused here, the rest is followed on the job's page."""
    session = get_session()
    label = (request.form.get("label") or "").strip()
    notes = (request.form.get("notes") or "").strip()
    try:
        job = publishing.start_publish(session, engine(), label, notes, actor(), index_dir())
    except KbError as exc:
        session.rollback()
        return _publish_page(session, exc.status, message=exc.message, label=label, notes=notes)
    return redirect(url_for("curator.job", job_id=job.id))


@bp.route("/jobs/<int:job_id>")
def job(job_id: int):
    """A publish or import job: a page that refreshes itself while it runs; once published, the diff from
    the version before; refused, the publish page with the gates' problems (an import: the draft's
    changes, or the import form with the reasons)."""
    session = get_session()
    status = jobs.get(session, job_id)
    if status.kind == "import":
        if status.finished:
            from web.curator.imports import finished_import

            return finished_import(status)
        return render_template("curator/job.html", job=status)
    if status.status == "done":
        label = status.result["version"]["label"]
        existing = versions.list_versions(session)
        before = next((v.label for v in existing if v.label != label), label)
        flash(f"已发布版本 {label}：{status.result['version']['counts'].get('indicator', 0)} 条指标", "success")
        return redirect(url_for("curator.diff", a=before, b=label))
    if status.status == "failed":
        problems = [Problem(p["message"], p.get("location") or "", p.get("row"), p.get("field") or "") for p in status.problems]
        return _publish_page(session, 409, refused=status.error, problems=problems or None,
                             label=status.params.get("label"), notes=status.params.get("notes", ""))
    return render_template("curator/job.html", job=status)


@bp.route("/diff")
def diff():
    session = get_session()
    existing = versions.list_versions(session)
    default_a = existing[0].label if existing else versions.DRAFT
    a = versions.resolve(session, request.args.get("a") or default_a)
    b = versions.resolve(session, request.args.get("b") or versions.DRAFT)
    changes = versions.diff(session, a, b)
    return render_template("curator/diff.html", a=a, b=b, versions=existing, changes=changes[:SHOWN_CHANGES],
                           total=len(changes), summary=_summary(changes), CHANGE_NAMES=CHANGE_NAMES)


@bp.route("/changes")
def changes():
    session = get_session()
    code = (request.args.get("code") or "").strip()
    entries = library.change_log(session, code or None, limit=300)
    return render_template("curator/changes.html", entries=entries, code=code)

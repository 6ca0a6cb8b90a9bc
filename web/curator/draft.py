"""Curator pages of the draft: the list with filters, the edit and create
forms (revision-checked saves), retiring or superseding, duplicates and merging."""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for

from server.db import get_session
from importers.names import identity
from kb.library import curation, draft as library
from kb import untrusted
from kb.dimensions import dimensions
from kb.errors import Conflict, InvalidInput, KbError
from kb.library.gates import system_leaves
from kb.library.merge import Merge, three_way
from kb.schemas import CERTAINTIES, DIRECTIONS, KINDS, PROVENANCES, STATUSES
from web.curator.blueprint import actor, bp
from web.curator.forms import form_label, form_state, indicator_form, indicator_from_form, revision_field

PAGE_SIZE = 50
MAX_BASE_CHARS = 200_000  # the hidden copy of the form an edit started from
NEW_INDICATOR = {"kind": "specific", "status": "candidate", "provenance": "local", "certainty": "likely", "direction": "none"}


@dataclass(frozen=True)
class FormOptions:
    """What the indicator form offers in its selects and suggestion lists."""
    kinds: tuple
    statuses: tuple
    directions: tuple
    provenances: tuple
    certainties: tuple
    operators: tuple
    level1: tuple
    level2: tuple
    sectors: list
    departments: list
    project_types: list


def form_options(session) -> FormOptions:
    dims = dimensions()
    level1 = list(dims.target_level1)
    for fw in dims.raw.get("frameworks", {}).values():
        level1 += [l for l in fw.get("level1", []) if l not in level1]
    level2 = [l2 for t in dims.target_levels for l2 in t.level2]
    return FormOptions(KINDS, STATUSES, DIRECTIONS, PROVENANCES, CERTAINTIES, dims.operators, tuple(level1), tuple(level2),
                       library.draft_records(session, "sector"), library.draft_records(session, "department"),
                       library.draft_records(session, "project_type"))


def systems_using(session, code: str) -> list:
    return [s for s in library.draft_records(session, "system") if any(leaf["indicator"] == code for leaf in system_leaves(s.nodes))]


# --- the list -------------------------------------------------------------------------------

@bp.route("/draft")
def draft():
    session = get_session()
    flt = curation.DraftFilter(**{k: (request.args.get(k) or "").strip() for k in curation.DraftFilter.__dataclass_fields__})
    try:
        page = untrusted.bounded_int(request.args.get("page", "1"), "页码", 1, 100_000)
    except untrusted.MalformedInput:
        page = 1
    result = curation.find_draft_indicators(session, flt, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    args = {k: v for k, v in flt.__dict__.items() if v}
    return render_template("curator/draft.html", result=result, flt=flt, page=page, args=args,
                           options=form_options(session))


# --- one indicator ----------------------------------------------------------------------------

def _render_edit(session, code: str, form: dict, revision: int, status: int = 200, base: dict | None = None, **extra):
    return render_template(
        "curator/edit.html", code=code, form=form, revision=revision, options=form_options(session),
        systems=systems_using(session, code), log=library.change_log(session, code, limit=20),
        base=json.dumps(base if base is not None else form, ensure_ascii=False), form_label=form_label, **extra,
    ), status


def _base_form(raw: str | None) -> dict | None:
    """The form state the page was rendered with (a hidden field), or None when it is missing or not ours."""
    if not raw or len(raw) > MAX_BASE_CHARS:
        return None
    try:
        base = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(base, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in base.items()):
        return None
    return base


@bp.route("/draft/<code>", methods=["GET", "POST"])
def edit_indicator(code: str):
    session = get_session()
    current = library.draft_record(session, "indicator", code)
    if request.method == "GET":
        form = indicator_form(current)
        return _render_edit(session, code, form, current.revision, base=form)
    form = {**form_state(request.form), "code": code}
    expected = revision_field(request.form, then="再改")
    base = _base_form(request.form.get("base"))
    stored_form = indicator_form(current)
    for key in form:  # after a conflict the curator chose, field by field, to take the other's value
        if request.form.get(f"keep-{key}") == "theirs":
            form[key] = stored_form.get(key, "")
    changes, problems = indicator_from_form(form)
    changes.pop("code", None)
    if problems:
        return _render_edit(session, code, form, expected, 422, base=base, message="有些内容需要修改", problems=problems)
    try:
        saved = library.update_record(session, "indicator", code, changes, expected, user=actor())
    except Conflict as exc:
        session.rollback()
        stored = library.draft_record(session, "indicator", code)
        theirs = indicator_form(stored)
        # merged against what the form was rendered with: their changes come in, mine stay, and only the fields
        # we both changed are for the curator to decide; the form now carries the stored revision
        merge = three_way(base, form, theirs) if base is not None else Merge(form, [], [k for k in form if
                                                                              (form[k] or "").strip() != (theirs.get(k) or "").strip()])
        return _render_edit(session, code, merge.merged, stored.revision, 409, base=theirs, conflict=exc.message,
                            merge=merge, theirs=theirs, mine=form)
    except InvalidInput as exc:
        session.rollback()
        return _render_edit(session, code, form, expected, 422, message=exc.message, problems=exc.problems)
    flash(f"已保存“{saved.name}”（修订 {saved.revision}）", "success")
    return redirect(url_for("curator.edit_indicator", code=code))


@bp.route("/draft/new", methods=["GET", "POST"])
def new_indicator():
    session = get_session()
    if request.method == "GET":
        form = indicator_form({**NEW_INDICATOR, **{k: v for k, v in request.args.items() if k in ("name", "level1", "level2", "unit")}})
        return render_template("curator/new.html", form=form, options=form_options(session))
    form = form_state(request.form)
    data, problems = indicator_from_form(form)
    try:
        if problems:
            raise InvalidInput("有些内容需要修改", problems)
        obj = library.create_record(session, "indicator", data, user=actor())
    except KbError as exc:
        session.rollback()
        return render_template("curator/new.html", form=form, options=form_options(session), message=exc.message,
                               problems=exc.problems), exc.status
    flash(f"已新建指标 {obj.code}“{obj.name}”", "success")
    return redirect(url_for("curator.edit_indicator", code=obj.code))


@bp.route("/draft/<code>/retire", methods=["POST"])
def retire_indicator(code: str):
    session = get_session()
    expected = revision_field(request.form, then="再操作")
    supersede = request.form.get("action") == "supersede"
    successor = ((request.form.get("superseded_by") or "").strip().upper() or None) if supersede else None
    if supersede and not successor:
        raise InvalidInput("请填写替代它的指标编码")
    if successor == code:
        raise InvalidInput("指标不能被自己替代")
    obj = library.retire_indicator(session, code, expected, user=actor(), superseded_by=successor)
    flash(f"“{obj.name}”已{'标为被 ' + successor + ' 替代' if successor else '停用'}", "success")
    return redirect(url_for("curator.edit_indicator", code=code))


# --- duplicates and merging ---------------------------------------------------------------------

@bp.route("/duplicates")
def duplicates():
    groups = curation.duplicate_groups(get_session(), identity)
    return render_template("curator/duplicates.html", groups=groups)


@bp.route("/merge", methods=["GET", "POST"])
def merge():
    session = get_session()
    codes = list(dict.fromkeys(c.strip() for c in request.values.getlist("code") if c.strip()))
    if len(codes) < 2:
        raise InvalidInput("请至少选择两条指标再合并")
    items = [library.draft_record(session, "indicator", c) for c in codes]
    if request.method == "GET":
        survivor = request.args.get("survivor") or next((i.code for i in items if i.status == "standard"), items[0].code)
        return render_template("curator/merge.html", items=items, survivor=survivor,
                               systems={i.code: systems_using(session, i.code) for i in items})
    survivor = request.form.get("survivor", "")
    if survivor not in codes:
        raise InvalidInput("请选择要保留的指标")
    expected = {}
    for c in codes:
        expected[c] = revision_field(request.form, f"revision-{c}", then="再合并")
    report = curation.merge_indicators(session, survivor, [c for c in codes if c != survivor], expected, user=actor())
    note = f"已合并：{('、'.join(report.superseded))} 标为被 {survivor} 替代"
    if report.systems:
        note += f"；指标体系 {'、'.join(report.systems)} 中的引用已改为 {survivor}"
    if report.redirected:
        note += f"；{'、'.join(report.redirected)} 的替代指标已改为 {survivor}"
    flash(note, "success")
    return redirect(url_for("curator.edit_indicator", code=survivor))

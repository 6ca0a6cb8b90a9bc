"""/api/v1/draft: the curators' changes to the draft (curate scope), all through kb.library.draft.

A draft indicator's ETag is its revision. PATCH and retire must send it back
in If-Match: a missing one gets 428, a stale one 412, and nothing is written.
"""
from __future__ import annotations

import re

from flask import current_app, jsonify, request, url_for
from flask.views import MethodView

from api import auth
from server.db import engine, get_session, require_schema
from server.limits import costly
from api.v1.common import Blueprint, json_body, set_etag
from api.v1.schemas import (
    DraftIndicatorSchema,
    ImportArgs,
    ImportReportSchema,
    JobSchema,
    IndicatorPatchSchema,
    IndicatorSchema,
    LibraryDocumentSchema,
    RetireSchema,
)
from kb.library import import_jobs, draft as library
from kb.errors import Conflict, DuplicatesRefused, KbError, Problem, UnknownCode

blp = Blueprint("draft", __name__, url_prefix="/api/v1/draft", description="草稿维护（需 curate 权限）")

# If-Match as RFC 9110 writes it: * or a list of entity tags ("3", W/"3"); anything else is no precondition (428)
IF_MATCH_RE = re.compile(r'^(\*|(W/)?"[\x21\x23-\x7e]*"([ \t]*,[ \t]*(W/)?"[\x21\x23-\x7e]*")*)$')
IF_MATCH_DOC = {"parameters": [{"name": "If-Match", "in": "header", "required": True,
                                "schema": {"type": "string", "pattern": IF_MATCH_RE.pattern},
                                "description": "读取草稿指标时得到的修订号（ETag，如 \"3\"）；* 表示该指标须已存在。"
                                               "缺少时 428；与当前修订号不符（含弱 ETag W/…）时 412，均不写入"}]}


class PreconditionRequired(KbError):
    status = 428
    error = "if_match_required"
    meaning = "修改须带 If-Match 请求头（读取时得到的修订号）"


class StaleRevision(KbError):
    status = 412
    error = "stale_revision"
    meaning = "If-Match 与当前修订号不符：记录已被他人修改，未保存"


def expected_revision(code: str) -> int:
    """The revision the client read (If-Match), refused at once when it is not the stored one.

    No If-Match is 428, and so is one that is no list of entity tags (IF_MATCH_RE: an empty one, 3 unquoted);
    one that does not name the current revision is 412, weak tags included: If-Match compares strongly
    (RFC 9110 13.1.1), so W/"3" never matches."""
    sent = (request.headers.get("If-Match") or "").strip()
    if not sent:
        raise PreconditionRequired("修改草稿指标须带 If-Match 请求头（读取时得到的修订号）")
    if not IF_MATCH_RE.match(sent):
        raise PreconditionRequired(f"If-Match 应为读取时得到的 ETag（带引号，如 \"3\"）或 *，而不是 {sent[:40]}")
    tags = request.if_match
    if tags.star_tag:  # "*": the indicator must exist (RFC 9110 13.1.1), then the write is guarded as usual
        try:
            return library.draft_record(get_session(), "indicator", code).revision
        except UnknownCode:
            raise StaleRevision(f"If-Match: * 要求指标“{code}”已存在，但草稿中没有它；未保存") from None
    current = library.draft_record(get_session(), "indicator", code).revision
    if str(current) in tags.as_set():
        return current
    if not tags.as_set():
        raise StaleRevision(f"If-Match 须为读取时得到的 ETag（如 \"{current}\"）；弱 ETag（W/…）不能用于修改，未保存")
    raise StaleRevision(f"“{code}”已被他人修改（当前修订号 {current}），请重新读取后再改；您的修改未保存")


def _draft_indicator(obj):
    set_etag(str(obj.revision))
    return {"revision": obj.revision, "indicator": obj}


@blp.route("/indicators")
class DraftIndicators(MethodView):
    @blp.arguments(IndicatorSchema)
    @blp.response(201, DraftIndicatorSchema)
    @blp.alt_response(409, description="草稿中已有这个编码")
    def post(self, data):
        """Add an indicator to the draft."""
        require_schema()
        return _draft_indicator(library.create_record(get_session(), "indicator", data, user=auth.actor()))


@blp.route("/indicators/<code:code>")
class DraftIndicator(MethodView):
    @blp.arguments(IndicatorPatchSchema)
    @blp.response(200, DraftIndicatorSchema)
    @blp.doc(**IF_MATCH_DOC)
    @blp.alt_response(412, description="If-Match 与当前修订号不符，未保存")
    @blp.alt_response(428, description="缺少 If-Match")
    def patch(self, changes, code):
        """Change fields of a draft indicator (If-Match: its revision)."""
        require_schema()
        revision = expected_revision(code)
        try:
            obj = library.update_record(get_session(), "indicator", code, changes, revision, user=auth.actor())
        except Conflict as exc:  # someone saved between our check and the guarded write
            raise StaleRevision(exc.message) from exc
        return _draft_indicator(obj)


@blp.route("/indicators/<code:code>/retire")
class RetireIndicator(MethodView):
    @blp.arguments(RetireSchema, required=False)
    @blp.response(200, DraftIndicatorSchema)
    @blp.doc(**IF_MATCH_DOC)
    @blp.alt_response(412, description="If-Match 与当前修订号不符，未保存")
    @blp.alt_response(428, description="缺少 If-Match")
    def post(self, args, code):
        """Retire a draft indicator, or mark it superseded by another (If-Match: its revision)."""
        require_schema()
        revision = expected_revision(code)
        try:
            obj = library.retire_indicator(get_session(), code, revision, user=auth.actor(),
                                           superseded_by=(args or {}).get("superseded_by"))
        except Conflict as exc:
            raise StaleRevision(exc.message) from exc
        return _draft_indicator(obj)


@blp.route("/import")
class Import(MethodView):
    @costly
    @blp.arguments(ImportArgs, location="query")
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": LibraryDocumentSchema}}})
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(202, schema=JobSchema, description="记录多于 IMPORT_JOB_ROWS（默认 2000）条时在后台检查并导入，"
                      "全部成功或全部不写；轮询 Location 所指的任务，完成后 result 为导入报告（含 duplicates），"
                      "被拒时任务失败，error 和 problems 逐行说明原因（与同步导入的 422、409 相同），草稿不变",
                      headers={"Location": {"description": "任务状态：/api/v1/jobs/{id}", "schema": {"type": "string"}}})
    @blp.alt_response(409, description="新指标与草稿中已有指标同名或同义（error: import_duplicates），未导入任何内容；"
                                        "确属不同指标的，加 allow_duplicates=true 再导入")
    def post(self, args):
        """Apply a whole-library JSON document to the draft, all or nothing (?dry_run=1 reports the plan).

        New indicators named like a draft indicator (the same name, or a synonym in the library's list) are
        duplicates, as in `zhibiao import --dry-run`: the dry run lists them, and the import is refused
        (409 import_duplicates) unless allow_duplicates=true confirms them. A document of more records than
        IMPORT_JOB_ROWS is only counted on the request: it is checked and applied as a job (202), whose
        failure carries the same problems a 422 or 409 would."""
        from importers.library_json import check_shape, document_rows

        require_schema()
        doc = json_body()
        check_shape(doc)  # what no whole-library document is: refused at once, whatever its size
        if not args["dry_run"] and import_jobs.runs_as_job(document_rows(doc), current_app.config.get("IMPORT_JOB_ROWS")):
            # a big document is only counted here: checking it is itself too long for a request
            user, allow = auth.actor(), args["allow_duplicates"]
            job = import_jobs.start_import(engine(), document_rows(doc), lambda s: _import(s, doc, user, allow), user)
            resp = jsonify(JobSchema().dump(job.to_dict()))
            resp.status_code = 202
            resp.headers["Location"] = url_for("jobs.OneJob", job_id=job.id)
            return resp
        report, found = _import(get_session(), doc, auth.actor(), args["allow_duplicates"], dry_run=args["dry_run"])
        return {**vars(report), **found}


def _import(session, doc: dict, user: str, allow_duplicates: bool, dry_run: bool = False):
    """Check a whole-library document and apply it (on the request, or in an import job): (report, {"duplicates"});
    refused whole (InvalidInput with each row's problems, or DuplicatesRefused) before anything is written."""
    from importers.library_json import read_document
    from importers.dry_run import batch_duplicates

    batch = read_document(doc, "请求")
    duplicates, refused = batch_duplicates(session, batch)
    if refused and not dry_run and not allow_duplicates:
        raise DuplicatesRefused(
            f"{len(refused)} 条新指标与草稿中已有指标同名或同义，未导入任何内容；确属不同指标的，加 allow_duplicates=true 再导入",
            [Problem(f"与草稿中的 {d.other_code}“{d.other_name}”{d.reason}", f"{d.code}“{d.name}”")
             for d in duplicates if d.code in refused and d.in_draft])
    listed = [{**vars(d), "in_draft": d.in_draft, "refused": d.in_draft and d.code in refused} for d in duplicates]
    return library.apply_batch(session, batch, user=user, dry_run=dry_run), {"duplicates": listed}

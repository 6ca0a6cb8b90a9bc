"""/api/v1/versions: list, one, diff; publish the draft (curate)."""
from __future__ import annotations

from collections import Counter

from flask.views import MethodView

from api import auth
from flask import url_for

from server.db import engine, get_session, index_dir, require_schema
from server.limits import costly
from api.v1.common import Blueprint
from api.v1.schemas import DiffSchema, JobSchema, PublishSchema, VersionListSchema, VersionSchema
from kb.library import publishing, versions

blp = Blueprint("versions", __name__, url_prefix="/api/v1/versions", description="已发布的指标库版本")


@blp.route("")
class Versions(MethodView):
    @blp.response(200, VersionListSchema)
    def get(self):
        """List published versions, newest first."""
        require_schema()
        items = versions.list_versions(get_session())
        current = next((v.label for v in items if v.is_current), None)
        return {"current": current, "versions": items}

    @costly
    @blp.arguments(PublishSchema)
    @blp.alt_response(409, description="版本号已发布过，或另一位管理员正在发布")
    @blp.response(202, JobSchema, headers={"Location": {"description": "任务状态：/api/v1/jobs/{id}", "schema": {"type": "string"}}})
    def post(self, args):
        """Publish the draft as a new version, as a job (curate scope): a bad or used label is refused
        at once; the gates, the snapshot and the search index run in the background. Poll the job at
        Location until its status is done (result: the version) or failed (error, problems)."""
        require_schema()
        job = publishing.start_publish(get_session(), engine(), args["label"], args["notes"], auth.actor(), index_dir())
        return job.to_dict(), 202, {"Location": url_for("jobs.OneJob", job_id=job.id)}


@blp.route("/<label>")
class OneVersion(MethodView):
    @blp.response(200, VersionSchema)
    def get(self, label):
        """One version ("current" for the current one)."""
        require_schema()
        return versions.resolve(get_session(), label)


@blp.route("/<a>/diff/<b>")
class VersionDiff(MethodView):
    @blp.response(200, DiffSchema)
    def get(self, a, b):
        """Field-level differences from version a to version b ("draft" allowed, with curate scope)."""
        require_schema()
        if versions.DRAFT in (a, b):
            auth.require_scope("curate")
        session = get_session()
        va, vb = versions.resolve(session, a), versions.resolve(session, b)
        changes = versions.diff(session, va, vb)
        return {"a": va.label, "b": vb.label, "summary": dict(Counter(c.change for c in changes)), "changes": changes}

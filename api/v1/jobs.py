"""/api/v1/jobs/<id>: how a long operation (publishing, a big import) is going (curate scope)."""
from __future__ import annotations

from flask.views import MethodView

from api.auth import requires
from server.db import get_session, require_schema
from api.v1.common import Blueprint
from api.v1.schemas import JobSchema
from kb.library import jobs

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="后台任务（发布、大批导入）的进度与结果")


@blp.route("/<int:job_id>")
class OneJob(MethodView):
    @requires("curate")
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """A job: queued, running, done (result) or failed (error, problems)."""
        require_schema()
        return jobs.get(get_session(), job_id).to_dict()

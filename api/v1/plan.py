"""/api/v1/plan: the three-year building plan and how far the library has come."""
from __future__ import annotations

from flask.views import MethodView

from server.db import get_session
from api.v1.common import Blueprint, resolve_version
from api.v1.schemas import PlanSchema, VersionArgs
from kb.library import snapshot
from kb.plan import progress as plan

blp = Blueprint("plan", __name__, url_prefix="/api/v1/plan", description="指标库建设三年规划及进度")


@blp.route("")
class Plan(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, PlanSchema)
    def get(self, args):
        """Years and milestones, each counted against the version read.

        The plan itself is a working document edited in place, so the ETag is
        that of the answer, not of the version.
        """
        ref = resolve_version(args["version"])
        session = get_session()
        return plan.progress(session, snapshot.load(session, ref))

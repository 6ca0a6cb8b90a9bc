"""/api/v1/suggest: a recommended 绩效目标表 for a project."""
from __future__ import annotations

from flask.views import MethodView

from api.auth import requires
from server.db import get_session, index_dir
from server.limits import costly
from api.v1.common import Blueprint, json_body, resolve_version
from api.v1.schemas import ProjectSchema, VersionArgs
from kb.targets.recommend import recommend
from kb.result_schemas import RecommendationSchema
from kb.targets.schema import load_project

blp = Blueprint("suggest", __name__, url_prefix="/api/v1/suggest", description="为项目推荐绩效指标（目标表）")


@blp.route("")
class Suggest(MethodView):
    @requires("suggest")
    @costly
    @blp.arguments(VersionArgs, location="query")
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ProjectSchema}}})
    @blp.response(200, RecommendationSchema)
    def post(self, args):
        """Recommend indicators for the project (common and specific, by 一级/二级, with values), the quota
        standards that apply, an estimate where quantities are given, and a drafted table."""
        ref = resolve_version(args["version"])
        project = load_project(json_body())
        return recommend(get_session(), index_dir(), project, ref)  # the version resolved once, here

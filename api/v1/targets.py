"""/api/v1/targets: review a 绩效目标表 (JSON, or an uploaded .xlsx) the way the bureau's reviewers do,
monitor it against what was achieved and spent so far, and score a self-evaluation."""
from __future__ import annotations

from flask import request
from flask.views import MethodView

from api.auth import requires
from server.db import get_session
from server.limits import costly
from api.media import JSON, MULTIPART, accepts
from server.inputs import uploaded_table
from api.v1.common import Blueprint, json_body, resolve_version
from api.v1.schemas import MonitorArgs, UploadSchema, VersionArgs
from kb.result_schemas import CheckResultSchema, EvaluationResultSchema, MonitorResultSchema
from kb.targets.check import check
from kb.targets.monitoring import monitor
from kb.targets.self_evaluation import evaluate
from kb.targets.schema import TargetTableSchema, load_table

blp = Blueprint("targets", __name__, url_prefix="/api/v1/targets", description="绩效目标表审核、执行监控和自评打分")

BODY_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": TargetTableSchema},
    "multipart/form-data": {"schema": UploadSchema},
}}}


@blp.route("/check")
class Check(MethodView):
    @requires("suggest")
    @costly
    @accepts(JSON, MULTIPART)
    @blp.arguments(VersionArgs, location="query")
    @blp.doc(**BODY_DOC)
    @blp.response(200, CheckResultSchema)
    def post(self, args):
        """Check a target table: findings by rule, with fixes where the library has one, and a grade."""
        ref = resolve_version(args["version"])
        return check(_table(), get_session(), ref)  # dumped by CheckResultSchema


def _table():
    if request.mimetype == MULTIPART:
        return uploaded_table()[0]
    return load_table(json_body())


@blp.route("/monitor")
class Monitor(MethodView):
    @requires("suggest")
    @accepts(JSON, MULTIPART)
    @blp.arguments(MonitorArgs, location="query")
    @blp.doc(**BODY_DOC)
    @blp.response(200, MonitorResultSchema)
    def post(self, args):
        """Monitor a table whose rows carry `actual` and whose project carries `budget_executed_wan_yuan` and `as_of`:
        completion per row and overall, budget execution rate, time elapsed, and warnings where they diverge."""
        return monitor(_table(), as_of=args["as_of"], tolerance=args["tolerance"])


@blp.route("/evaluate")
class Evaluate(MethodView):
    @requires("suggest")
    @accepts(JSON, MULTIPART)
    @blp.doc(**BODY_DOC)
    @blp.response(200, EvaluationResultSchema)
    def post(self):
        """Score a self-evaluation (财预〔2020〕10号): points per row from its actual value, the total and grade,
        and C15 findings where the unit's `self_score` exceeds what the row earns."""
        return evaluate(_table())

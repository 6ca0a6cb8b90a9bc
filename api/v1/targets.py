"""/api/v1/targets/check: review a 绩效目标表 (JSON, or an uploaded .xlsx) the way the bureau's reviewers do."""
from __future__ import annotations

from flask import request
from flask.views import MethodView

from api.auth import requires
from api.db import get_session
from api.limits import costly
from api.media import JSON, MULTIPART, accepts
from api.v1.common import Blueprint, json_body, resolve_version
from api.v1.schemas import CheckResultSchema, UploadSchema, VersionArgs
from kb.check import check
from kb.errors import InvalidInput
from kb.target_schema import TargetTableSchema, load_table

blp = Blueprint("targets", __name__, url_prefix="/api/v1/targets", description="绩效目标表审核")

BODY_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": TargetTableSchema},
    "multipart/form-data": {"schema": UploadSchema},
}}}


def _uploaded_table():
    from importers.files import Limits, read_upload
    from importers.target_xlsx import read_target_file

    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("请以 file 字段上传 .xlsx 或 .json 文件")
    data, filename = read_upload(upload.stream, upload.filename or "上传文件.xlsx", Limits.from_env())
    return read_target_file(data, filename)


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
        table = _uploaded_table() if request.mimetype == MULTIPART else load_table(json_body())
        return check(table, get_session(), ref.label).to_dict()

"""/api/v1/complete: indicator names for a typeahead (characters, pinyin, initials)."""
from __future__ import annotations

from flask import jsonify
from flask.views import MethodView

from server.db import get_session, index_dir
from api.v1.common import Blueprint, read
from api.v1.schemas import CompleteArgs
from kb import search
from kb.result_schemas import CompletionListSchema, CompletionSchema, PlainDump

blp = Blueprint("complete", __name__, url_prefix="/api/v1/complete", description="指标名称联想（输入提示）")


@blp.route("")
class Complete(MethodView):
    @blp.arguments(CompleteArgs(), location="query")  # an instance: webargs makes one per request from a class
    @blp.response(200, CompletionListSchema)
    def get(self, args):
        """Names that start with what was typed: 门诊…, menzhen…, mzhz…"""
        ref = read(args["version"])
        found = search.complete(get_session(), index_dir(), args["q"], ref, limit=args["limit"])
        # as CompletionListSchema documents it, without marshmallow on the typeahead's hot path
        return jsonify({"version": ref.label, "query": args["q"], "completions": [_completion_json(c) for c in found]})


_completion_json = PlainDump(CompletionSchema)

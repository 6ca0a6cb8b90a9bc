"""/api/v1/complete: indicator names for a typeahead (characters, pinyin, initials)."""
from __future__ import annotations

from flask.views import MethodView

from api.db import get_session, index_dir
from api.v1.common import Blueprint, read
from api.v1.schemas import CompleteArgs
from kb import search
from kb.result_schemas import CompletionListSchema

blp = Blueprint("complete", __name__, url_prefix="/api/v1/complete", description="指标名称联想（输入提示）")


@blp.route("")
class Complete(MethodView):
    @blp.arguments(CompleteArgs, location="query")
    @blp.response(200, CompletionListSchema)
    def get(self, args):
        """Names that start with what was typed: 门诊…, menzhen…, mzhz…"""
        ref = read(args["version"])
        found = search.complete(get_session(), index_dir(), args["q"], ref.label, limit=args["limit"])
        return {"version": ref.label, "query": args["q"], "completions": found}

"""/api/v1/cases: the case library of real target tables, read-only."""
from __future__ import annotations

from flask.views import MethodView

from server.db import get_session
from api.v1.common import Blueprint, page_links, read
from api.v1.schemas import CaseDocSchema, CaseListSchema, CaseSearchArgs, VersionArgs
from kb.library import versions
from kb.library.case_catalog import CaseFilters, find

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases", description="案例库：已公开的真实绩效目标表（只读）")


@blp.route("")
class Cases(MethodView):
    @blp.arguments(CaseSearchArgs, location="query")
    @blp.response(200, CaseListSchema)
    def get(self, args):
        """Cases with every word of q (in the name, summary, region or rows), of a sector (with its
        descendants), province and year."""
        ref = read(args["version"])
        found = find(versions.records(get_session(), "case", ref), args["q"],
                     CaseFilters(args["sector"], args["province"], args["year"]))
        start = (args["page"] - 1) * args["per_page"]
        return {"version": ref.label, "total": len(found), "page": args["page"], "per_page": args["per_page"],
                "results": found[start:start + args["per_page"]],
                "links": page_links(len(found), args["page"], args["per_page"])}


@blp.route("/<code:code>")
class OneCase(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, CaseDocSchema)
    def get(self, args, code):
        """One case: the project, its rows as printed, and its source."""
        ref = read(args["version"])
        return {"version": ref.label, "case": versions.record(get_session(), "case", code, ref)}

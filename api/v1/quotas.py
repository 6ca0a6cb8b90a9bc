"""/api/v1/quotas: quota standards (支出定额标准) by words, category and tier; one standard; a project's estimate."""
from __future__ import annotations

from flask.views import MethodView

from api.auth import requires
from server.db import get_session
from api.v1.common import Blueprint, json_body, page_links, read, resolve_version
from api.v1.schemas import (
    ProjectSchema,
    QuotaDocSchema,
    QuotaListSchema,
    QuotaSearchArgs,
    VersionArgs,
)
from kb.targets import quota_catalog
from kb.library import versions
from kb.result_schemas import ProjectEstimateSchema
from kb.targets.schema import load_project

blp = Blueprint("quotas", __name__, url_prefix="/api/v1/quotas", description="支出定额标准：检索、单条、测算")


@blp.route("")
class Quotas(MethodView):
    @blp.arguments(QuotaSearchArgs, location="query")
    @blp.response(200, QuotaListSchema)
    def get(self, args):
        """Standards whose text has every word of q, of a category and tier."""
        ref = read(args["version"])
        session = get_session()
        found = quota_catalog.find(session, ref, args["q"], args["category"], args["tier"], args["status"])
        start = (args["page"] - 1) * args["per_page"]
        return {"version": ref.label, "total": len(found), "page": args["page"], "per_page": args["per_page"],
                "categories": quota_catalog.categories(session, ref), "results": found[start:start + args["per_page"]],
                "links": page_links(len(found), args["page"], args["per_page"])}


@blp.route("/<code:code>")
class OneQuota(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, QuotaDocSchema)
    def get(self, args, code):
        """One quota standard."""
        ref = read(args["version"])
        return {"version": ref.label, "quota": versions.record(get_session(), "quota", code, ref)}


@blp.route("/estimate")
class Estimate(MethodView):
    @requires("read")
    @blp.arguments(VersionArgs, location="query")
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": ProjectSchema}}})
    @blp.response(200, ProjectEstimateSchema)
    def post(self, args):
        """The standards that apply to a project and the cost its quantities allow
        ("三类培训 3 天 100 人" → 550 × 3 × 100 元)."""
        ref = resolve_version(args["version"])
        return quota_catalog.estimate_project(get_session(), load_project(json_body()), ref)

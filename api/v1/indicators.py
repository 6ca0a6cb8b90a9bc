"""/api/v1/indicators: search with filters, facets and pages; one indicator; its history."""
from __future__ import annotations

from flask import jsonify
from flask.views import MethodView

from server.db import get_session, index_dir
from api.v1.common import Blueprint, page_links, read, resolve_version, set_etag, version_etag
from api.v1.schemas import HistorySchema, IndicatorDocSchema, SearchArgs, SearchResultSchema, VersionArgs
from kb import search
from kb.library import versions
from kb.result_schemas import FacetCountSchema, PlainDump, SearchHitSchema

blp = Blueprint("indicators", __name__, url_prefix="/api/v1/indicators", description="指标：检索、单条指标、修订历史")


@blp.route("")
class Indicators(MethodView):
    @blp.arguments(SearchArgs(), location="query")  # an instance: webargs makes one per request from a class
    @blp.response(200, SearchResultSchema)
    def get(self, args):
        """Search indicators: words, pinyin or a code, narrowed by filters, with facets and pages."""
        ref = read(args.pop("version"))
        query, page, per_page = args.pop("q"), args.pop("page"), args.pop("per_page")
        result = search.search(get_session(), index_dir(), query, search.SearchFilters(**args), ref,
                               page=page, per_page=per_page, source="api")
        return jsonify(search_json(result, page_links(result.total, page, per_page)))


_hit_json = PlainDump(SearchHitSchema)
_facet_json = PlainDump(FacetCountSchema)


def search_json(result: search.SearchResult, links: dict) -> dict:
    """A search answer as SearchResultSchema documents it, without marshmallow on the hot path
    (tests/test_api_search.py checks that the two give the same JSON)."""
    return {
        "version": result.version, "query": result.query, "total": result.total, "page": result.page,
        "per_page": result.per_page, "links": links, "mode": result.mode,
        "results": [_hit_json(hit) for hit in result.hits],
        "facets": {name: [_facet_json(c) for c in counts] for name, counts in result.facets.items()},
        "did_you_mean": list(result.did_you_mean), "related": list(result.related),
    }


@blp.route("/<code:code>")
class OneIndicator(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, IndicatorDocSchema)
    def get(self, args, code):
        """One indicator as it is in the version read (the draft also gives its revision)."""
        ref = resolve_version(args["version"])
        if ref.is_draft:
            # a draft indicator's ETag is its revision: what PATCH expects in If-Match
            record = versions.record(get_session(), "indicator", code, ref)
            set_etag(str(record.revision))
            return {"version": ref.label, "revision": record.revision, "indicator": record, "curator_note": record.note}
        version_etag(ref)
        record = versions.record(get_session(), "indicator", code, ref)
        return {"version": ref.label, "revision": None, "indicator": record}


@blp.route("/<code:code>/history")
class IndicatorHistory(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, HistorySchema)
    def get(self, args, code):
        """Every published revision of one indicator, with the versions that carry it."""
        ref = read(args["version"])
        session = get_session()
        entries = versions.history(session, code)
        in_version = next((e.number for e in entries if ref.label in e.versions), None)
        return {"version": ref.label, "code": code, "revision_in_version": in_version, "revisions": entries}

"""GET /api/v1/indicators (search with filters, facets, pages) and GET /api/v1/complete."""
from __future__ import annotations

import threading

import pytest

from kb import db as kbdb
from kb.library import draft as library, versions
from tests.api_helpers import assert_error, curator


@pytest.fixture(scope="module")
def read_client(shared_app):
    """For the tests here that only read: one app per backend for the whole module."""
    return shared_app.test_client()


def test_search_finds_by_words_and_names_the_version(read_client):
    resp = read_client.get("/api/v1/indicators?q=资金到位")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["version"] == "2024.1" and body["query"] == "资金到位"
    assert body["results"][0]["code"] == "T-001"
    assert "<mark>" in body["results"][0]["highlight"]
    assert body["total"] >= 1 and body["page"] == 1 and body["per_page"] == 20


def test_search_by_code_puts_it_first(read_client):
    body = read_client.get("/api/v1/indicators?q=T-003").get_json()
    assert body["results"][0]["code"] == "T-003" and body["mode"] == "code"


def test_filters_and_facets(read_client):
    body = read_client.get("/api/v1/indicators?kind=common").get_json()
    assert body["total"] == 3 and all(h["kind"] == "common" for h in body["results"])
    assert {f["value"]: f["count"] for f in body["facets"]["kind"]} == {"common": 3}
    body = read_client.get("/api/v1/indicators?sector=210").get_json()  # includes 21002
    assert [h["code"] for h in body["results"]] == ["T-003"]
    assert body["facets"]["sector"][0]["label"] == "公立医院"
    body = read_client.get("/api/v1/indicators?level1=过程&level2=资金管理").get_json()
    assert {h["code"] for h in body["results"]} == {"T-001", "T-002"}
    body = read_client.get("/api/v1/indicators?project_type=PT-PX").get_json()
    assert [h["code"] for h in body["results"]] == ["T-004"]


def test_a_filter_matching_nothing_finds_nothing(read_client):
    assert read_client.get("/api/v1/indicators?q=手术&sector=205").get_json()["total"] == 0


def test_pages(read_client):
    first = read_client.get("/api/v1/indicators?kind=common&per_page=2").get_json()
    second = read_client.get("/api/v1/indicators?kind=common&per_page=2&page=2").get_json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1
    assert {h["code"] for h in first["results"]}.isdisjoint(h["code"] for h in second["results"])


def test_any_text_is_a_valid_query(read_client):
    for q in ('"', "((", "AND OR NOT", "*", "资金 AND (", "％≥", "x" * 200):
        resp = read_client.get("/api/v1/indicators", query_string={"q": q})
        assert resp.status_code == 200, q


def test_bad_search_arguments_are_422(read_client):
    assert_error(read_client.get("/api/v1/indicators?kind=both"), 422)
    assert_error(read_client.get("/api/v1/indicators?page=0"), 422)
    assert_error(read_client.get("/api/v1/indicators?per_page=1000"), 422)
    assert_error(read_client.get("/api/v1/indicators?page=two"), 422)
    assert_error(read_client.get("/api/v1/indicators?q=" + "x" * 201), 422)
    assert_error(read_client.get("/api/v1/indicators?sectr=210"), 422)
    assert_error(read_client.get("/api/v1/indicators?version=1999.1"), 404)


def test_search_the_draft_needs_curate_and_sees_draft_changes(app, client):
    assert_error(client.get("/api/v1/indicators?q=资金&version=draft"), 401)
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        library.update_record(s, "indicator", "T-001", {"name": "财政资金到位率"}, 1)
    body = client.get("/api/v1/indicators?q=财政资金到位率&version=draft", headers=curator(app)).get_json()
    assert body["version"] == "draft" and body["results"][0]["name"] == "财政资金到位率"
    assert client.get("/api/v1/indicators?q=T-001").get_json()["results"][0]["name"] == "资金到位率"


def test_search_a_pinned_older_version(app, client):
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        library.update_record(s, "indicator", "T-002", {"name": "预算支出执行率"}, 1)
        versions.publish(s, "2024.2")
    assert client.get("/api/v1/indicators?q=T-002").get_json()["results"][0]["name"] == "预算支出执行率"
    old = client.get("/api/v1/indicators?q=T-002&version=2024.1").get_json()
    assert old["version"] == "2024.1" and old["results"][0]["name"] == "预算执行率"


def test_search_results_carry_an_etag(client):
    tag = client.get("/api/v1/indicators?q=资金").headers["ETag"]
    assert client.get("/api/v1/indicators?q=资金", headers={"If-None-Match": tag}).status_code == 304
    assert client.get("/api/v1/indicators?q=预算", headers={"If-None-Match": tag}).status_code == 200


def test_complete_by_characters_pinyin_and_initials(read_client):
    for q in ("资金", "zijin", "zjdw"):
        body = read_client.get("/api/v1/complete", query_string={"q": q}).get_json()
        assert body["version"] == "2024.1"
        assert body["completions"][0] == {"text": "资金到位率", "code": "T-001", "kind": "common"}, q
    assert read_client.get("/api/v1/complete?q=").get_json()["completions"] == []
    assert_error(read_client.get("/api/v1/complete?q=a&limit=0"), 422)
    assert_error(read_client.get("/api/v1/complete?q=a&limit=x"), 422)


def test_search_and_typeahead_answers_are_what_their_schemas_document(read_client, shared_app):
    """The hot path writes these answers without marshmallow (kb.result_schemas.PlainDump): every key and value is
    what the documented schema dumps from the same result."""
    from pathlib import Path

    from api.v1.schemas import SearchResultSchema
    from kb import search
    from kb.result_schemas import CompletionListSchema

    engine = shared_app.extensions["zhibiao.engine"]
    index_dir = Path(shared_app.config["DATA_DIR"]) / "index"
    seen = set()
    with kbdb.session(engine) as s:
        for args in ({"q": "资金到位"}, {"q": "T-003"}, {"q": ""}, {"q": "满意", "kind": "common"},
                     {"q": "zijin daowei"}, {"q": "预算", "per_page": 1, "page": 2}, {"q": "不存在的词语组合"}):
            body = read_client.get("/api/v1/indicators", query_string=args).get_json()
            filters = search.SearchFilters(**{k: v for k, v in args.items() if k == "kind"})
            result = search.search(s, index_dir, args["q"], filters, "2024.1", page=args.get("page", 1),
                                   per_page=args.get("per_page", 20), log=False)
            assert body == SearchResultSchema().dump({**vars(result), "links": body["links"]}), args
            seen |= {k for k, v in body.items() if v}
        for q in ("资金", "zjdw", "yusuan", ""):
            body = read_client.get("/api/v1/complete", query_string={"q": q}).get_json()
            expected = {"version": "2024.1", "query": q, "completions": search.complete(s, index_dir, q, "2024.1")}
            assert body == CompletionListSchema().dump(expected), q
    assert {"results", "facets", "did_you_mean", "links", "mode"} <= seen  # each part compared with something in it


def test_plain_dump_refuses_a_field_it_cannot_write_as_marshmallow_would():
    from marshmallow import Schema, fields

    from kb.result_schemas import PlainDump

    class WithDate(Schema):
        code = fields.String()
        at = fields.DateTime()

    with pytest.raises(TypeError, match="WithDate.at"):
        PlainDump(WithDate)


def test_plain_dump_checks_highlights_as_marshmallow_does():
    """A highlight is HTML the pages insert: the fast path must not hand out one that kb.search did not make."""
    from dataclasses import dataclass

    from kb.result_schemas import PlainDump
    from kb.result_schemas import SearchHitSchema

    @dataclass
    class Hit:
        code: str = "T-1"
        name: str = "门诊<b>"
        highlight: str = "<script>alert(1)</script>"
        definition: str = ""
        snippet: str = ""

    fast = PlainDump(SearchHitSchema)(Hit())
    assert "<script>" not in fast["highlight"]
    assert fast == SearchHitSchema().dump(Hit())


def test_a_search_request_asks_the_database_nothing_once_the_version_is_known(read_client, shared_app):
    """The version and its index are kept per worker (re-checked once a second); the query log is written by a
    thread of its own. Before: three queries per search to find the version, the log written inline."""
    from sqlalchemy import event

    engine = shared_app.extensions["zhibiao.engine"]
    read_client.get("/api/v1/indicators?q=资金")
    cache = shared_app.extensions["zhibiao.versions"]
    max_age, cache.max_age = cache.max_age, 3600  # a slow machine must not see the second pass
    statements = []
    requests_thread = threading.get_ident()  # the test client answers in this thread

    def seen(conn, cursor, statement, *args):
        if threading.get_ident() == requests_thread:  # the log's thread may write meanwhile (and set its pragmas)
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        for q in ("资金到位", "预算", "T-003", "满意"):
            assert read_client.get("/api/v1/indicators", query_string={"q": q}).status_code == 200
            assert read_client.get("/api/v1/complete", query_string={"q": q}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        cache.max_age = max_age
    assert statements == []

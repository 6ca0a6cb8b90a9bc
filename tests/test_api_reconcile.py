"""The W3C Reconciliation Service API 0.2 at /reconcile: the spec's example
requests answered in the spec's shapes; an exact indicator name is a match."""
from __future__ import annotations

import json

import jsonschema_rs
import pytest

from tests.api_helpers import assert_error

# The shapes of the 0.2 specification's JSON schemas (manifest, reconciliation
# result batch, entity suggest response), restated for the fields we serve.
TYPE = {"oneOf": [{"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}, "required": ["id"]},
                  {"type": "string"}]}
MANIFEST = {
    "type": "object",
    "required": ["versions", "name", "identifierSpace", "schemaSpace"],
    "properties": {
        "versions": {"type": "array", "items": {"type": "string"}, "contains": {"enum": ["0.2"]}},
        "name": {"type": "string"}, "identifierSpace": {"type": "string"}, "schemaSpace": {"type": "string"},
        "view": {"type": "object", "properties": {"url": {"type": "string", "pattern": ".*\\{\\{id\\}\\}.*"}}, "required": ["url"]},
        "defaultTypes": {"type": "array", "items": TYPE, "uniqueItems": True},
        "preview": {"type": "object", "required": ["url", "width", "height"],
                    "properties": {"url": {"type": "string", "pattern": ".*\\{\\{id\\}\\}.*"},
                                   "width": {"type": "integer"}, "height": {"type": "integer"}}},
        "suggest": {"type": "object", "properties": {"entity": {"type": "object", "properties": {
            "service_url": {"type": "string"}, "service_path": {"type": "string"}}}}},
    },
}
RESULT_BATCH = {
    "type": "object",
    "patternProperties": {"^.*$": {
        "type": "object", "required": ["result"],
        "properties": {"result": {"type": "array", "items": {
            "type": "object", "required": ["id", "name", "score"],
            "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
                "score": {"type": "number"}, "match": {"type": "boolean"},
                "features": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "value": {"oneOf": [{"type": "boolean"}, {"type": "number"}]}}}},
                "type": {"type": "array", "items": TYPE},
            }}}},
    }},
}
SUGGEST = {
    "type": "object", "required": ["result"],
    "properties": {"result": {"type": "array", "items": {
        "type": "object", "required": ["id", "name"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
                       "notable": {"type": "array", "items": TYPE}}}}},
}
# The specification's own example batches (examples/reconciliation-query-batch/valid/).
SPEC_MIN = {"q1": {"query": "Hans-Eberhard Urbaniak"}, "q2": {"query": "Ernst Schwanhold"}}
SPEC_FULL = {
    "q0": {"query": "Christel Hanewinckel", "type": "DifferentiatedPerson", "limit": 5,
           "properties": [{"pid": "professionOrOccupation", "v": "Politik*"},
                          {"pid": "affiliation", "v": "http://d-nb.info/gnd/2022139-3"}], "type_strict": "should"},
    "q1": {"query": "Franz Thönnes", "type": "DifferentiatedPerson", "limit": 5,
           "properties": [{"pid": "professionOrOccupation", "v": "Politik*"},
                          {"pid": "affiliation", "v": "http://d-nb.info/gnd/2022139-3"}], "type_strict": "should"},
}


@pytest.fixture(scope="module")
def read_client(shared_app):
    """For the tests here that only read: one app per backend for the whole module."""
    return shared_app.test_client()


def _post(client, batch: dict, **kwargs):
    return client.post("/reconcile", data={"queries": json.dumps(batch, ensure_ascii=False)}, **kwargs)


def test_manifest_has_the_spec_shape(read_client):
    resp = read_client.get("/reconcile")
    assert resp.status_code == 200
    body = resp.get_json()
    jsonschema_rs.validate(MANIFEST, body)
    assert body["defaultTypes"] == [{"id": "indicator", "name": "绩效指标"}]
    assert body["suggest"]["entity"]["service_path"] == "/reconcile/suggest/entity"


@pytest.mark.parametrize("batch", [SPEC_MIN, SPEC_FULL])
def test_spec_example_batches_are_answered_in_the_spec_shape(read_client, batch):
    for resp in (_post(read_client, batch), read_client.get("/reconcile", query_string={"queries": json.dumps(batch)})):
        assert resp.status_code == 200
        body = resp.get_json()
        jsonschema_rs.validate(RESULT_BATCH, body)
        assert set(body) == set(batch)


def test_exact_indicator_name_is_a_match(read_client):
    body = _post(read_client, {"q0": {"query": "资金到位率"}, "q1": {"query": "资金到位"}, "q2": {"query": "t-003"}}).get_json()
    jsonschema_rs.validate(RESULT_BATCH, body)
    top = body["q0"]["result"][0]
    assert top["id"] == "T-001" and top["name"] == "资金到位率"
    assert top["match"] is True and top["score"] == 100
    assert {"id": "indicator", "name": "绩效指标"} in top["type"]
    partial = body["q1"]["result"]
    assert partial and partial[0]["id"] == "T-001" and partial[0]["match"] is False and partial[0]["score"] < 100
    assert body["q2"]["result"][0]["id"] == "T-003" and body["q2"]["result"][0]["match"] is True


def test_name_variants_in_punctuation_and_brackets_still_match(read_client):
    body = _post(read_client, {"q": {"query": "资金到位率（%）"}}).get_json()
    assert body["q"]["result"][0]["id"] == "T-001" and body["q"]["result"][0]["match"] is True


def test_types_and_properties_narrow_the_candidates(read_client):
    body = _post(read_client, {
        "common": {"query": "资金到位率", "type": "common"},
        "specific": {"query": "资金到位率", "type": "specific"},
        "sector": {"query": "手术患者并发症发生率", "properties": [{"pid": "sector", "v": "210"}]},
        "elsewhere": {"query": "手术患者并发症发生率", "properties": [{"pid": "sector", "v": "205"}]},
        "limited": {"query": "率", "limit": 1},
    }).get_json()
    assert body["common"]["result"][0]["id"] == "T-001"
    assert all(c["id"] != "T-001" for c in body["specific"]["result"])
    assert body["sector"]["result"][0]["id"] == "T-003"
    assert body["elsewhere"]["result"] == []
    assert len(body["limited"]["result"]) <= 1


def test_entity_suggest_by_prefix_and_pinyin(read_client):
    for prefix in ("资金", "zjdw", "T-001"):
        resp = read_client.get("/reconcile/suggest/entity", query_string={"prefix": prefix})
        assert resp.status_code == 200
        body = resp.get_json()
        jsonschema_rs.validate(SUGGEST, body)
        assert body["result"][0]["id"] == "T-001", prefix
    assert read_client.get("/reconcile/suggest/entity?prefix=").get_json() == {"result": []}
    assert read_client.get("/reconcile/suggest/entity?prefix=资金&cursor=5").get_json() == {"result": []}


def test_preview_is_an_escaped_html_card_that_may_be_framed(client):
    resp = client.get("/reconcile/preview?id=T-001")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "资金到位率" in html and "T-001" in html and "<script" not in html
    assert "X-Frame-Options" not in resp.headers
    assert "frame-ancestors *" in resp.headers["Content-Security-Policy"]
    assert_error(client.get("/reconcile/preview?id=T-404"), 404)
    assert_error(client.get("/reconcile/preview"), 422)


def test_bad_batches_are_json_4xx(client):
    assert_error(client.post("/reconcile", data={"queries": "{not json"}), 400)
    assert_error(client.get("/reconcile?queries=[1,2]"), 422)
    assert_error(_post(client, {"q0": {"query": "x", "colour": "red"}}), 422)
    assert_error(_post(client, {"q0": {}}), 422)
    assert_error(_post(client, {"q0": {"query": 5}}), 422)
    assert_error(_post(client, {"q0": {"query": "x", "limit": "many"}}), 422)
    assert_error(_post(client, {f"q{i}": {"query": "x"} for i in range(101)}), 413)  # beyond the manifest's batchSize
    assert_error(client.post("/reconcile", data={}), 422)
    assert_error(client.post("/reconcile", json={"queries": {}}), 415)
    assert_error(client.get("/reconcile?version=2099.1"), 404)


def test_pinned_to_a_version(read_client):
    body = read_client.get("/reconcile", query_string={"queries": json.dumps({"q": {"query": "资金到位率"}}),
                                                 "version": "2024.1"}).get_json()
    assert body["q"]["result"][0]["match"] is True
    assert "version=2024.1" in read_client.get("/reconcile?version=2024.1").get_json()["preview"]["url"]


def test_every_reconciliation_endpoint_allows_cross_origin_access(read_client):
    """W3C Reconciliation API 0.2: endpoints MUST allow cross-origin access (OpenRefine fetches from the
    browser), even where the rest of the API keeps CORS off."""
    origin = {"Origin": "http://127.0.0.1:3333"}
    for resp in (read_client.get("/reconcile", headers=origin),
                 _post(read_client, {"q0": {"query": "资金到位率"}}, headers=origin),
                 read_client.get("/reconcile/suggest/entity?prefix=资金", headers=origin),
                 read_client.get("/reconcile/preview?id=T-001", headers=origin),
                 read_client.options("/reconcile", headers={**origin, "Access-Control-Request-Method": "POST"})):
        assert resp.status_code in (200, 204) and resp.headers["Access-Control-Allow-Origin"] == "*", resp.status_code
    assert "Access-Control-Allow-Origin" not in read_client.get("/api/v1/systems", headers=origin).headers


# --- data extension, property suggest, synonyms, scores, keys (issue 16) ---------------------------------------

SPECS = __import__("pathlib").Path(__file__).parent / "fixtures" / "reconciliation-0.2"


def _inline(node):
    """The spec's schemas refer to type.json by a relative $ref: put its text in place (no network here)."""
    if isinstance(node, dict):
        if node.get("$ref") == "type.json":
            return json.loads((SPECS / "type.json").read_text(encoding="utf-8"))
        return {k: _inline(v) for k, v in node.items()}
    return [_inline(v) for v in node] if isinstance(node, list) else node


def _spec(name: str):
    return jsonschema_rs.validator_for(_inline(json.loads((SPECS / name).read_text(encoding="utf-8"))))


def test_manifest_offers_extension_property_suggest_and_batch_size(read_client):
    m = read_client.get("/reconcile").get_json()
    assert m["batchSize"] == 100
    assert m["extend"]["propose_properties"]["service_path"] == "/reconcile/propose_properties"
    assert m["suggest"]["property"]["service_path"] == "/reconcile/suggest/property"
    assert "authentication" not in m  # keys are not required here
    proposal = read_client.get("/reconcile/propose_properties?type=indicator").get_json()
    _spec("data-extension-property-proposal.json").validate(proposal)
    assert {"unit", "definition", "formula", "level1", "level2"} <= {p["id"] for p in proposal["properties"]}
    assert m["suggest"]["type"]["service_path"] == "/reconcile/suggest/type"
    types = read_client.get("/reconcile/suggest/type?prefix=个性").get_json()
    _spec("suggest-types-response.json").validate(types)
    assert [t["id"] for t in types["result"]] == ["specific"]
    assert len(read_client.get("/reconcile/suggest/type").get_json()["result"]) == 3
    suggested = read_client.get("/reconcile/suggest/property?prefix=单位").get_json()
    _spec("suggest-properties-response.json").validate(suggested)
    assert [p["id"] for p in suggested["result"]] == ["unit"]


def test_data_extension_pulls_fields_beside_matched_codes(read_client):
    query = {"ids": ["T-001", "NO-SUCH"], "properties": [{"id": "unit"}, {"id": "level1"}, {"id": "definition"}]}
    _spec("data-extension-query.json").validate(query)
    for resp in (read_client.get("/reconcile", query_string={"extend": json.dumps(query)}),
                 read_client.post("/reconcile", data={"extend": json.dumps(query)})):
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        _spec("data-extension-response.json").validate(body)
        assert [m["id"] for m in body["meta"]] == ["unit", "level1", "definition"]
        assert body["rows"]["T-001"]["unit"] and body["rows"]["T-001"]["level1"][0]["str"]
        assert body["rows"]["NO-SUCH"] == {"unit": [], "level1": [], "definition": []}
    bad = read_client.get("/reconcile", query_string={"extend": json.dumps({"ids": ["T-001"], "properties": [{"id": "colour"}]})})
    assert bad.status_code == 422 and "没有属性“colour”" in bad.get_json()["message"]


def test_synonyms_match_and_nothing_scores_zero(read_client):
    from kb.reconcile import Synonyms, _synonyms

    words: Synonyms = _synonyms(("t", 1), (("患者", "病人"), ("培训人次", "培训人数")))
    assert words.key("门诊病人满意度") == words.key("门诊患者满意度")
    assert words.key("培训人数") == words.key("培训人次")
    answers = _post(read_client, {"q0": {"query": "门诊人次"}, "q1": {"query": "完全无关的一串字"}}).get_json()
    assert all(c["score"] > 0 for a in answers.values() for c in a["result"])


def test_with_keys_required_the_manifest_and_preview_stay_open_and_declare_the_scheme(app, client):
    from tests.api_helpers import bearer, make_key

    app.config["REQUIRE_API_KEY"] = True
    m = client.get("/reconcile")
    assert m.status_code == 200 and m.get_json()["authentication"]["type"] == "apiKey"
    assert client.get("/reconcile/preview?id=T-001").status_code == 200
    assert_error(client.get("/reconcile", query_string={"queries": json.dumps({"q": {"query": "门诊"}})}), 401)
    assert_error(client.get("/reconcile", query_string={"extend": json.dumps({"ids": ["T-001"], "properties": [{"id": "unit"}]})}), 401)
    ok = client.get("/reconcile", query_string={"queries": json.dumps({"q": {"query": "门诊"}})}, headers=bearer(make_key(app, "read")))
    assert ok.status_code == 200


# 20 names as sheets write them, against the real library: what must auto-match, and what must not
# (None: two indicators of the same name in different frameworks, or no clear winner — the user decides).
REALISTIC = [
    ("门诊病人满意度", "YY3-053"), ("住院病人满意度", "YY3-054"), ("受训人员满意度", "GX-PX-007"),
    ("参训人员满意度", "GX-PX-007"), ("培训合格率", "GX-PX-004"), ("设备完好率", "GX-GZ-012"),
    ("受益群众满意度", "S21007-005"), ("在职人员控制率", "GX-BM-003"), ("重点支出安排率", "GX-BM-005"),
    ("三公经费控制率", "GX-BM-012"), ("平均住院日", "YY2-013"), ("资金到位率", "GX-XM-007"),
    ("项目完成及时率", "S21301-003"), ("绩效目标合理性", None), ("资金使用合规性", None), ("预算执行率", None),
    ("群众满意度", None), ("培训人数", None), ("门诊人次", None), ("信息系统运行维护及时率", None),
]


@pytest.fixture(scope="module")
def seeded_client(request, templates, tmp_path_factory):
    from tests.conftest import _shared_app, seeded_library

    yield from (app.test_client() for app in _shared_app("sqlite", seeded_library, templates, tmp_path_factory))


def test_twenty_realistic_names_auto_match_only_a_clear_winner(seeded_client):
    batch = {f"q{n}": {"query": name} for n, (name, _) in enumerate(REALISTIC)}
    answers = _post(seeded_client, batch).get_json()
    jsonschema_rs.validator_for(RESULT_BATCH).validate(answers)
    got = {}
    for n, (name, _) in enumerate(REALISTIC):
        matched = [c["id"] for c in answers[f"q{n}"]["result"] if c["match"]]
        assert len(matched) <= 1, name
        got[name] = matched[0] if matched else None
    assert got == dict(REALISTIC)

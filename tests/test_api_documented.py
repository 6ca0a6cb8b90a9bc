"""The OpenAPI document says who may call what and what can go wrong (issue 16),
and the headers it documents are the ones sent: Cache-Control for reads pinned
to a published version, Retry-After only on a refusal."""
from __future__ import annotations

import pytest

from api.openapi_doc import scopes


@pytest.fixture(scope="module")
def read_client(shared_app):
    return shared_app.test_client()


@pytest.fixture(scope="module")
def spec(read_client):
    return read_client.get("/api/openapi.json").get_json()


def _operations(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method != "parameters":
                yield path, method, op


def test_every_write_declares_its_key_and_its_refusals(spec, shared_app):
    needed = scopes(shared_app)
    checked = 0
    for path, method, op in _operations(spec):
        scope = needed[(path, method)]
        responses = set(op["responses"])
        assert {"401", "403", "429"} <= responses, (path, method)
        if scope == "curate":
            assert op["security"] == [{"bearerAuth": []}], (path, method)
            checked += 1
        else:
            assert {} in op["security"], (path, method)  # anonymous allowed unless keys are required
        assert f"权限：{scope}" in op["description"]
        if method in ("patch", "put", "delete"):
            # a conflicting save is a 412 here (If-Match), so a 409 is not documented: it cannot happen
            assert {"412", "428"} <= responses and "409" not in responses, (path, method)
        if "{" in path:
            assert "404" in responses, (path, method)
    assert checked >= 5
    versions_post = spec["paths"]["/api/v1/versions"]["post"]
    assert versions_post["security"] == [{"bearerAuth": []}]
    assert spec["components"]["responses"]["TOO_MANY_REQUESTS"]["headers"]["Retry-After"]


def test_reads_document_their_headers_and_key_operations_have_examples(spec):
    get = spec["paths"]["/api/v1/indicators/{code}"]["get"]["responses"]["200"]["headers"]
    assert {"ETag", "Cache-Control", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(get)
    for path in ("/api/v1/suggest", "/api/v1/targets/check", "/api/v1/targets/monitor", "/api/v1/targets/evaluate"):
        assert spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["example"], path
    # tests/test_api_examples.py checks that every operation has its examples


def test_pinned_reads_are_immutable_and_retry_after_is_for_refusals(read_client):
    pinned = read_client.get("/api/v1/indicators/T-001?version=2024.1")
    assert pinned.status_code == 200 and pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    current = read_client.get("/api/v1/indicators/T-001")
    assert current.headers["Cache-Control"] == "public, max-age=5" and current.headers.get("ETag")
    again = read_client.get("/api/v1/indicators/T-001?version=2024.1", headers={"If-None-Match": pinned.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Cache-Control"].endswith("immutable")
    for resp in (pinned, current, read_client.get("/api/v1/versions")):
        assert "Retry-After" not in resp.headers


def test_a_refusal_for_too_many_requests_says_when_to_come_back(app):
    from server.app import create_app

    limited = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "DATA_DIR": app.config["DATA_DIR"],
                          "RATE_LIMIT": "2 per minute"})
    client = limited.test_client()
    answers = [client.get("/api/v1/versions") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Retry-After" not in answers[0].headers and int(answers[2].headers["Retry-After"]) > 0


def test_jsonp_wraps_reconciliation_answers_for_clients_without_cors(read_client):
    import json

    resp = read_client.get("/reconcile?callback=jQuery123_cb")
    assert resp.status_code == 200 and resp.mimetype == "application/javascript"
    text = resp.get_data(as_text=True)
    assert text.startswith("/**/jQuery123_cb(") and text.endswith(");")
    assert json.loads(text[len("/**/jQuery123_cb("):-2])["batchSize"] == 100
    bad = read_client.get("/reconcile?callback=alert(1)//")
    assert bad.status_code == 400 and "函数名" in bad.get_json()["message"]
    batch = {f"q{n}": {"query": "门诊"} for n in range(101)}
    too_many = read_client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert too_many.status_code == 413 and "分批" in too_many.get_json()["message"]


def test_a_type_array_means_any_of_them(read_client):
    import json

    both = {"q": {"query": "门诊人次", "type": ["common", "specific"]}}
    one = {"q": {"query": "门诊人次"}}
    answer = lambda b: read_client.post("/reconcile", data={"queries": json.dumps(b)}).get_json()["q"]["result"]  # noqa: E731
    assert answer(both) and [c["id"] for c in answer(both)] == [c["id"] for c in answer(one)]
    assert answer({"q": {"query": "门诊人次", "type": ["nonsense"]}}) == []


def _strings(node, where=""):
    """Every string schema of a document part, with where it is (properties by name)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _strings(item, f"{where}[{i}]")
    elif isinstance(node, dict):
        if node.get("type") == "string":
            yield where, node
        for key, value in node.items():
            if key == "properties":
                for name, prop in value.items():
                    yield from _strings(prop, f"{where}.{name}")
            elif key not in ("example", "examples", "default", "description"):
                yield from _strings(value, f"{where}/{key}")


def test_the_document_states_what_the_server_refuses(spec):
    """No text may hold NUL (kb.untrusted): every string without a pattern, choices or a format of its own says so;
    codes in paths have the pattern of codes; an indicator names its operators and cross-field rules; the import
    document names its keys."""
    from api.openapi_doc import NO_NUL
    from kb.dimensions import dimensions
    from kb.schemas import CODE_RE

    parts = [("components", spec["components"]["schemas"])]
    parts += [(f"{method} {path}", [op.get("parameters", []), op.get("requestBody", {})]) for path, method, op in _operations(spec)]
    plain = [(f"{name}{where}", s) for name, part in parts for where, s in _strings(part)
             if not {"enum", "format"} & s.keys()]
    assert len(plain) > 200
    assert [where for where, s in plain if "pattern" not in s] == []
    assert sum(s["pattern"] == NO_NUL for _, s in plain) > 200
    code = spec["paths"]["/api/v1/quotas/{code}"]["parameters"][0]
    assert code["name"] == "code" and code["schema"]["pattern"] == CODE_RE.pattern
    indicator = spec["components"]["schemas"]["Indicator"]
    assert indicator["properties"]["operator"]["enum"] == ["", *dimensions().operators]
    assert len(indicator["allOf"]) == 3
    document = spec["components"]["schemas"]["LibraryDocument"]
    assert document["additionalProperties"] is False and document["required"] == ["format"]
    assert document["properties"]["indicators"]["items"] == {"$ref": "#/components/schemas/Indicator"}
    project = spec["components"]["schemas"]["Project"]["properties"]
    assert {b.get("type") for b in project["budget_wan_yuan"]["anyOf"]} == {"number", "string"}


def test_the_document_is_valid_openapi(spec):
    from openapi_spec_validator import validate

    validate(spec)  # raises with the first error


def test_lists_link_their_pages_in_the_body_and_the_link_header(read_client):
    first = read_client.get("/api/v1/indicators?q=&per_page=2&page=1")
    body = first.get_json()
    assert body["total"] > 2 and body["links"]["prev"] is None
    assert "page=2" in body["links"]["next"] and "per_page=2" in body["links"]["next"]
    assert 'rel="next"' in first.headers["Link"] and 'rel="prev"' not in first.headers["Link"]
    last = read_client.get(body["links"]["last"].split("localhost", 1)[1])
    assert last.get_json()["links"]["next"] is None and 'rel="prev"' in last.headers["Link"]
    for url in ("/api/v1/cases?per_page=1", "/api/v1/quotas?per_page=1"):
        page = read_client.get(url).get_json()
        assert page["links"]["first"] and "links" in page

"""Every bad request gets JSON {code, error, status, message, errors} with the right 4xx;
CORS is off unless configured; the docs page uses local assets only."""
from __future__ import annotations

import re

import pytest

from server.app import create_app
from tests.api_helpers import assert_error, curator


@pytest.fixture(scope="module")
def read_client(shared_app):
    """For the tests here that only read: one app per backend for the whole module."""
    return shared_app.test_client()


def test_unknown_routes_under_the_api_are_json_404(client):
    body = assert_error(client.get("/api/v1/nothing-here"), 404, "path_not_found")
    assert body["message"] == "接口不存在"
    assert_error(client.get("/api/nothing"), 404)
    assert_error(client.post("/api/v1/nothing-here", json={}), 404)
    # pages keep their HTML 404
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_wrong_methods_are_json_405_with_allow(client):
    resp = client.delete("/api/v1/versions")
    assert_error(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["Allow"] and "GET" in resp.headers["Allow"]
    assert_error(client.put("/api/v1/indicators/T-001", json={}), 405)
    # a word beside a code is no code: /quotas/estimate only takes POST, and says so (Allow, OPTIONS alike)
    resp = client.get("/api/v1/quotas/estimate")
    assert_error(resp, 405, "method_not_allowed")
    assert set(resp.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert set(client.options("/api/v1/quotas/estimate").headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert_error(client.get("/api/v1/indicators/t-001"), 404, "path_not_found")  # codes are upper case (CODE_RE)


def test_malformed_json_is_400(app, client):
    headers = curator(app)
    for url in ("/api/v1/draft/indicators", "/api/v1/targets/check", "/api/v1/versions"):
        body = assert_error(client.post(url, data='{"name": ', content_type="application/json", headers=headers), 400,
                            "invalid_json")
        assert body["message"] == "JSON 格式错误（第 1 行第 10 列）"


def test_wrong_types_and_unknown_fields_are_422(app, client):
    headers = curator(app)
    body = assert_error(client.post("/api/v1/versions", json={"label": 2025}, headers=headers), 422, "validation_failed")
    assert body["errors"]["json"]["label"] == ["应为文本"]
    body = assert_error(client.post("/api/v1/versions", json={"label": "2025.1", "colour": 1}, headers=headers), 422)
    assert body["errors"]["json"]["colour"] == ["未知字段"]
    assert_error(client.post("/api/v1/versions", json=["2025.1"], headers=headers), 422)
    body = assert_error(client.get("/api/v1/systems?verison=2024.1"), 422)
    assert body["errors"]["query"]["verison"] == ["未知字段"]


def test_unknown_version_is_404(read_client):
    assert "2030.9" in assert_error(read_client.get("/api/v1/taxonomy/sectors?version=2030.9"), 404,
                                    "version_not_found")["message"]
    assert_error(read_client.get("/api/v1/versions/2030.9"), 404)


def test_unsupported_media_types_are_415(app, client):
    headers = curator(app)
    body = assert_error(client.post("/api/v1/draft/indicators", data="code=T-1", content_type="text/plain", headers=headers), 415,
                        "unsupported_media_type")
    assert "application/json" in body["message"]
    assert_error(client.post("/api/v1/versions", data={"label": "2025.1"}, headers=headers), 415)  # a form
    assert_error(client.post("/api/v1/targets/check", data=b"<xml/>", content_type="application/xml"), 415)


def test_oversized_bodies_are_413(app):
    small = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "DATA_DIR": app.config["DATA_DIR"],
                        "MAX_CONTENT_LENGTH": 1024})
    client = small.test_client()
    big = '{"project": {"name": "' + "大" * 2000 + '"}}'
    body = assert_error(client.post("/api/v1/targets/check", data=big, content_type="application/json"), 413, "body_too_large")
    assert "上限" in body["message"]
    assert_error(client.post("/api/v1/draft/import", data=big, content_type="application/json", headers=curator(small)), 413)


def test_errors_of_kb_carry_their_problems(app, client):
    doc = {"format": "zhibiao-library", "indicators": [{"code": "bad code"}]}
    body = assert_error(client.post("/api/v1/draft/import", json=doc, headers=curator(app)), 422, "invalid_input")
    problem = body["errors"]["problems"][0]
    assert set(problem) == {"message", "location", "row", "field"}


def test_cors_is_off_by_default(client):
    resp = client.get("/api/v1/systems", headers={"Origin": "https://ys.example.gov.cn"})
    assert "Access-Control-Allow-Origin" not in resp.headers


@pytest.mark.parametrize("setting", ["https://ys.example.gov.cn", "https://a.example, https://ys.example.gov.cn/"])
def test_cors_allows_the_configured_origins(app, setting):
    cors = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "DATA_DIR": app.config["DATA_DIR"],
                       "CORS_ORIGINS": setting})
    client = cors.test_client()
    resp = client.get("/api/v1/systems", headers={"Origin": "https://ys.example.gov.cn"})
    assert resp.headers["Access-Control-Allow-Origin"] == "https://ys.example.gov.cn"
    assert "ETag" in resp.headers["Access-Control-Expose-Headers"]
    other = client.get("/api/v1/systems", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options("/api/v1/versions", headers={
        "Origin": "https://ys.example.gov.cn", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    page = client.get("/", headers={"Origin": "https://ys.example.gov.cn"})
    assert "Access-Control-Allow-Origin" not in page.headers  # the pages are not shared


def test_openapi_document_and_docs_page_with_local_assets(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/indicators/{code}", "/api/v1/draft/indicators/{code}", "/api/v1/targets/check", "/api/v1/plan"):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the docs page must not load anything from elsewhere"
    assert "<script>" not in html  # no inline script: the Content-Security-Policy holds
    for ref in re.findall(r"(?:src|href)=\"([^\"]+)\"", html):
        assert client.get(ref).status_code == 200, ref
    assert b"SwaggerUIBundle" in client.get("/api/docs/docs.js").get_data()


def test_nul_characters_are_refused_not_500(app, client):
    """PostgreSQL cannot store NUL; it must never reach the database. A malformed request is a 400."""
    headers = curator(app)
    for url in ("/api/v1/indicators/%00", "/api/v1/indicators?q=%00abc", "/api/v1/systems?version=%00",
                "/reconcile/preview?id=%00"):
        assert "NUL" in assert_error(client.get(url, headers=headers), 400, "invalid_characters")["message"]
    new = {"code": "T-050", "kind": "common", "level1": "产出指标", "level2": "数量指标", "name": "名称\x00",
           "source": {"document": "本库整理"}, "provenance": "local"}
    assert "NUL" in assert_error(client.post("/api/v1/draft/indicators", json=new, headers=headers), 400)["message"]
    assert_error(client.patch("/api/v1/draft/indicators/T-001", json={"note": "a\x00"},
                              headers={**headers, "If-Match": '"1"'}), 400)
    assert_error(client.post("/reconcile", data={"queries": '{"q": {"query": "a\x00"}}'}), 400)


def test_absurdly_nested_json_is_400(app, client):
    deep = "[" * 100_000 + "]" * 100_000
    for url in ("/api/v1/draft/indicators", "/api/v1/targets/check", "/api/v1/suggest"):
        assert_error(client.post(url, data=deep, content_type="application/json", headers=curator(app)), 400)
    assert_error(client.post("/reconcile", data={"queries": deep}), 400)


def test_a_value_outside_its_choices_is_refused_in_chinese(client):
    for url, field in (("/api/v1/indicators?kind=foo", "kind"), ("/api/v1/quotas?status=x", "status")):
        body = assert_error(client.get(url), 422, "validation_failed")
        [message] = body["errors"]["query"][field]
        assert message.startswith("取值须为：") and "Must" not in message, message

"""/api/v1/versions through the Flask test client."""


def test_versions_list_names_current(client):
    resp = client.get("/api/v1/versions")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["current"] == "2024.1"
    assert body["versions"][0]["counts"]["indicator"] == 4


def test_one_version_and_unknown_version(client):
    assert client.get("/api/v1/versions/current").get_json()["label"] == "2024.1"
    resp = client.get("/api/v1/versions/2099.1")
    assert resp.status_code == 404
    body = resp.get_json()
    assert body["code"] == 404 and "2099.1" in body["message"]


def test_diff_against_draft(client):
    resp = client.get("/api/v1/versions/2024.1/diff/draft")
    assert resp.status_code == 200
    assert resp.get_json()["changes"] == []


def test_openapi_document_is_served(client):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200
    assert "/api/v1/versions" in resp.get_json()["paths"]


def test_home_page_lists_versions(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert "2024.1" in resp.get_data(as_text=True)

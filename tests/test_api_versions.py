"""/api/v1/versions through the Flask test client."""
from tests.api_helpers import assert_error, curator


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


def test_diff_against_draft(app, client):
    resp = client.get("/api/v1/versions/2024.1/diff/draft", headers=curator(app))
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


def test_publish_makes_a_new_current_version(app, client):
    resp = client.post("/api/v1/versions", json={"label": "2024.2", "notes": "第二版"}, headers=curator(app))
    assert resp.status_code == 201
    assert resp.get_json()["label"] == "2024.2" and resp.get_json()["is_current"] is True
    assert client.get("/api/v1/versions").get_json()["current"] == "2024.2"


def test_publish_refuses_bad_labels_and_failing_gates(app, client):
    headers = curator(app)
    assert_error(client.post("/api/v1/versions", json={"label": "v2"}, headers=headers), 422)
    assert_error(client.post("/api/v1/versions", json={"label": "2024.1"}, headers=headers), 409)
    assert_error(client.post("/api/v1/versions", json={}, headers=headers), 422)
    assert_error(client.post("/api/v1/versions", json={"label": "2024.2", "extra": 1}, headers=headers), 422)
    retire = client.post("/api/v1/draft/indicators/T-002/retire", headers={**headers, "If-Match": '"1"'})
    assert retire.status_code == 200
    body = assert_error(client.post("/api/v1/versions", json={"label": "2024.2"}, headers=headers), 409)
    assert "T-002" in body["errors"]["problems"][0]["message"]  # the system still cites the retired indicator
    assert client.get("/api/v1/versions").get_json()["current"] == "2024.1"

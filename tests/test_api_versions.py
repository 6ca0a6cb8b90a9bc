"""/api/v1/versions through the Flask test client."""
from tests.api_helpers import assert_error, curator, publish_job


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


def test_publish_is_a_job_that_makes_a_new_current_version(app, client):
    headers = curator(app)
    job = publish_job(client, "2024.2", headers, notes="第二版")
    assert job["status"] == "done" and job["kind"] == "publish", job
    assert job["result"]["version"]["label"] == "2024.2" and job["result"]["version"]["counts"]["indicator"] > 0
    assert job["started_at"] and job["finished_at"] and job["params"]["label"] == "2024.2"
    assert client.get("/api/v1/versions").get_json()["current"] == "2024.2"
    assert client.get("/api/v1/versions/2024.2").get_json()["notes"] == "第二版"
    # a job is the curators' business
    assert_error(client.get(f"/api/v1/jobs/{job['id']}"), 401)
    assert_error(client.get("/api/v1/jobs/999999", headers=headers), 404)


def test_publish_refuses_bad_labels_and_failing_gates(app, client):
    headers = curator(app)
    assert_error(client.post("/api/v1/versions", json={"label": "v2"}, headers=headers), 422)
    assert_error(client.post("/api/v1/versions", json={"label": "2024.1"}, headers=headers), 409)
    assert_error(client.post("/api/v1/versions", json={}, headers=headers), 422)
    assert_error(client.post("/api/v1/versions", json={"label": "2024.2", "extra": 1}, headers=headers), 422)
    retire = client.post("/api/v1/draft/indicators/T-002/retire", headers={**headers, "If-Match": '"1"'})
    assert retire.status_code == 200
    job = publish_job(client, "2024.2", headers)
    assert job["status"] == "failed" and "未发布" in job["error"]
    assert "T-002" in job["problems"][0]["message"]  # the system still cites the retired indicator
    assert client.get("/api/v1/versions").get_json()["current"] == "2024.1"

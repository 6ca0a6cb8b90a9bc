"""Reads under /api/v1: indicators, history, systems, taxonomy, plan — pinned to
a version, naming it, with ETags and 304."""
from __future__ import annotations

from datetime import date

import pytest

from kb import db as kbdb
from kb.library import draft as library, versions
from kb.plan import progress as plan
from tests.api_helpers import assert_error, curator


@pytest.fixture(scope="module")
def read_client(shared_app):
    """For the tests here that only read: one app per backend for the whole module."""
    return shared_app.test_client()


@pytest.fixture
def second_version(app):
    """T-001 renamed in the draft and published as 2024.2."""
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        library.update_record(s, "indicator", "T-001", {"name": "资金到位率（新）"}, 1)
        versions.publish(s, "2024.2")
    return app


def test_one_indicator_names_its_version(read_client):
    resp = read_client.get("/api/v1/indicators/T-001")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["version"] == "2024.1" and body["revision"] is None
    assert body["indicator"]["name"] == "资金到位率" and body["indicator"]["source"]["document"]


def test_reads_are_pinned_to_the_version_asked(second_version, client):
    assert client.get("/api/v1/indicators/T-001").get_json()["indicator"]["name"] == "资金到位率（新）"
    old = client.get("/api/v1/indicators/T-001?version=2024.1").get_json()
    assert old["version"] == "2024.1" and old["indicator"]["name"] == "资金到位率"
    assert client.get("/api/v1/indicators/T-001?version=current").get_json()["version"] == "2024.2"


def test_unknown_indicator_and_unknown_version_are_404(read_client):
    assert "T-999" in assert_error(read_client.get("/api/v1/indicators/T-999"), 404)["message"]
    assert "2099.1" in assert_error(read_client.get("/api/v1/indicators/T-001?version=2099.1"), 404)["message"]
    assert_error(read_client.get("/api/v1/systems?version=2099.1"), 404)


def test_history_lists_revisions_and_the_one_in_the_version(second_version, client):
    body = client.get("/api/v1/indicators/T-001/history?version=2024.1").get_json()
    assert body["version"] == "2024.1" and body["revision_in_version"] == 1
    assert [r["number"] for r in body["revisions"]] == [1, 2]
    assert body["revisions"][1]["changes"]["name"] == {"previous": "资金到位率", "current": "资金到位率（新）"}
    assert client.get("/api/v1/indicators/T-001/history").get_json()["revision_in_version"] == 2


def test_draft_indicator_carries_its_revision_as_etag(app, client):
    resp = client.get("/api/v1/indicators/T-001?version=draft", headers=curator(app))
    assert resp.status_code == 200
    assert resp.get_json()["revision"] == 1 and resp.headers["ETag"] == '"1"'


def test_systems_are_weighted_trees_with_indicator_names(read_client):
    listing = read_client.get("/api/v1/systems").get_json()
    assert listing["version"] == "2024.1" and [s["code"] for s in listing["systems"]] == ["SYS-DEMO"]
    tree = read_client.get("/api/v1/systems/SYS-DEMO").get_json()
    assert tree["version"] == "2024.1" and tree["total_weight"] == 100
    process = tree["nodes"][0]
    assert process["name"] == "过程" and process["weight"] == 60
    leaf = process["children"][0]
    assert leaf["indicator"] == "T-001" and leaf["indicator_name"] == "资金到位率" and leaf["weight"] == 30
    assert leaf["children"] == []
    assert_error(read_client.get("/api/v1/systems/SYS-NONE"), 404)


def test_taxonomy_sectors_tree_departments_project_types(read_client):
    sectors = read_client.get("/api/v1/taxonomy/sectors").get_json()
    assert sectors["version"] == "2024.1"
    health = next(s for s in sectors["sectors"] if s["code"] == "210")
    assert health["children"][0]["code"] == "21002"
    assert health["children"][0]["children"][0]["code"] == "2100201"
    assert {s["code"] for s in sectors["sectors"]} == {"205", "210"}
    departments = read_client.get("/api/v1/taxonomy/departments").get_json()
    assert departments["departments"][0]["code"] == "D-HOSP-GEN"
    types = read_client.get("/api/v1/taxonomy/project-types").get_json()
    assert types["project_types"][0]["name"] == "培训类"


def test_plan_counts_milestones_against_the_version(app, client):
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        plan.replace_plan(s, [{"year": 2025, "theme": "卫生健康"}],
                          [{"code": "M-2025-1", "year": 2025, "title": "公立医院个性指标", "sector": "210",
                            "target_count": 2, "due_date": date(2025, 12, 31)}])
        s.commit()
    body = client.get("/api/v1/plan").get_json()
    assert body["version"] == "2024.1"
    milestone = body["years"][0]["milestones"][0]
    assert milestone["code"] == "M-2025-1" and milestone["target_count"] == 2
    assert milestone["actual"] == 1  # T-003 is the one specific indicator under 210
    assert body["sector_counts"] == {"210": 1}


@pytest.mark.parametrize("url", [
    "/api/v1/indicators/T-001",
    "/api/v1/indicators/T-001/history",
    "/api/v1/systems",
    "/api/v1/systems/SYS-DEMO",
    "/api/v1/taxonomy/sectors",
    "/api/v1/plan",
    "/api/v1/versions",
])
def test_reads_carry_an_etag_and_answer_304(client, url):
    first = client.get(url)
    tag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == tag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_publishing_changes_the_etag_of_current(app, client):
    tag = client.get("/api/v1/indicators/T-002").headers["ETag"]
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        versions.publish(s, "2024.2")  # same content, new version
    resp = client.get("/api/v1/indicators/T-002", headers={"If-None-Match": tag})
    assert resp.status_code == 200 and resp.get_json()["version"] == "2024.2"
    pinned = client.get("/api/v1/indicators/T-002?version=2024.1").headers["ETag"]
    assert client.get("/api/v1/indicators/T-002?version=2024.1", headers={"If-None-Match": pinned}).status_code == 304


def test_draft_reads_change_etag_when_the_draft_changes(app, client):
    headers = curator(app)
    tag = client.get("/api/v1/systems?version=draft", headers=headers).headers["ETag"]
    assert client.get("/api/v1/systems?version=draft", headers={**headers, "If-None-Match": tag}).status_code == 304
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        library.update_record(s, "indicator", "T-001", {"name": "资金到位率（改）"}, 1)
    resp = client.get("/api/v1/systems/SYS-DEMO?version=draft", headers=headers)
    assert resp.get_json()["nodes"][0]["children"][0]["indicator_name"] == "资金到位率（改）"
    assert client.get("/api/v1/systems?version=draft", headers={**headers, "If-None-Match": tag}).status_code == 200


def test_versions_diff_against_the_draft_needs_curate(app, client):
    assert_error(client.get("/api/v1/versions/2024.1/diff/draft"), 401)
    resp = client.get("/api/v1/versions/2024.1/diff/draft", headers=curator(app))
    assert resp.status_code == 200 and resp.get_json()["changes"] == []

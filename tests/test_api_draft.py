"""The curators' operations on the draft: create, PATCH with If-Match, retire, import."""
from __future__ import annotations

import pytest

from kb import db as kbdb
from kb.library import draft as library
from tests.api_helpers import assert_error, curator, finished_job

NEW = {
    "code": "T-010", "kind": "common", "level1": "产出指标", "level2": "时效指标", "name": "项目按期完成率",
    "unit": "%", "operator": "≥", "direction": "up",
    "source": {"document": "本库整理"}, "provenance": "local",
}


@pytest.fixture
def headers(app):
    return curator(app)


def _stored_revision(app, code: str) -> int:
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        return library.draft_record(s, "indicator", code).revision


def _stored_name(app, code: str) -> str:
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        return library.draft_record(s, "indicator", code).name


def test_create_adds_to_the_draft_only(client, headers):
    resp = client.post("/api/v1/draft/indicators", json=NEW, headers=headers)
    assert resp.status_code == 201
    assert resp.get_json()["revision"] == 1 and resp.headers["ETag"] == '"1"'
    assert resp.get_json()["indicator"]["name"] == "项目按期完成率"
    assert client.get("/api/v1/indicators/T-010?version=draft", headers=headers).status_code == 200
    assert_error(client.get("/api/v1/indicators/T-010"), 404)  # not published yet


def test_create_refuses_duplicates_bad_fields_and_unknown_fields(client, headers):
    assert_error(client.post("/api/v1/draft/indicators", json={**NEW, "code": "T-001"}, headers=headers), 409)
    body = assert_error(client.post("/api/v1/draft/indicators", json={**NEW, "kind": "其他"}, headers=headers), 422)
    assert "kind" in body["errors"]["json"]
    body = assert_error(client.post("/api/v1/draft/indicators", json={**NEW, "colour": "red"}, headers=headers), 422)
    assert body["errors"]["json"]["colour"] == ["未知字段"]
    body = assert_error(client.post("/api/v1/draft/indicators", json={**NEW, "national_monitoring": "maybe"}, headers=headers), 422)
    assert "national_monitoring" in body["errors"]["json"]
    body = assert_error(client.post("/api/v1/draft/indicators", json={**NEW, "level2": "满意度"}, headers=headers), 422)
    assert "level2" in body["errors"]["json"]


def test_patch_with_the_current_revision_saves_and_bumps_it(app, client, headers):
    resp = client.patch("/api/v1/draft/indicators/T-001", json={"definition": "到位资金占预算的比例"},
                        headers={**headers, "If-Match": '"1"'})
    assert resp.status_code == 200
    assert resp.get_json()["revision"] == 2 and resp.headers["ETag"] == '"2"'
    assert resp.get_json()["indicator"]["definition"] == "到位资金占预算的比例"
    assert resp.get_json()["indicator"]["name"] == "资金到位率"  # untouched fields stay
    # the ETag of a GET can be sent back as it is
    tag = client.get("/api/v1/indicators/T-001?version=draft", headers=headers).headers["ETag"]
    resp = client.patch("/api/v1/draft/indicators/T-001", json={"unit": "％"}, headers={**headers, "If-Match": tag})
    assert resp.status_code == 200 and resp.get_json()["revision"] == 3


def test_stale_if_match_gets_412_and_leaves_the_stored_revision_unchanged(app, client, headers):
    first = client.patch("/api/v1/draft/indicators/T-001", json={"name": "资金到位率甲"}, headers={**headers, "If-Match": '"1"'})
    assert first.status_code == 200
    stale = client.patch("/api/v1/draft/indicators/T-001", json={"name": "资金到位率乙"}, headers={**headers, "If-Match": '"1"'})
    body = assert_error(stale, 412)
    assert "2" in body["message"]
    assert _stored_revision(app, "T-001") == 2
    assert _stored_name(app, "T-001") == "资金到位率甲"
    assert_error(client.post("/api/v1/draft/indicators/T-001/retire", headers={**headers, "If-Match": '"1"'}), 412)
    assert _stored_revision(app, "T-001") == 2


def test_if_match_star_means_it_exists(app, client, headers):
    resp = client.patch("/api/v1/draft/indicators/T-001", json={"definition": "按星号修改"}, headers={**headers, "If-Match": "*"})
    assert resp.status_code == 200 and resp.get_json()["revision"] == 2
    body = assert_error(client.patch("/api/v1/draft/indicators/NO-SUCH", json={"definition": "x"},
                                     headers={**headers, "If-Match": "*"}), 412)
    assert "已存在" in body["message"]


def test_if_match_is_required(app, client, headers):
    assert_error(client.patch("/api/v1/draft/indicators/T-001", json={"name": "资金到位率X"}, headers=headers), 428)
    assert_error(client.post("/api/v1/draft/indicators/T-001/retire", headers=headers), 428)
    for sent in (" ", "1", "abc", '"1'):  # empty, or no entity tag (a revision must be quoted, as the ETag is)
        assert_error(client.post("/api/v1/draft/indicators/T-001/retire", headers={**headers, "If-Match": sent}), 428)
    # an If-Match that is there but names no current revision is a failed precondition, not a missing one:
    # weak tags never match (strong comparison), even the current revision's
    for sent in ('W/"1"', 'W/"Ro", W/"x"', '""', '"9"'):
        body = assert_error(client.patch("/api/v1/draft/indicators/T-001", json={"name": "资金到位率X"},
                                         headers={**headers, "If-Match": sent}), 412, "stale_revision")
        assert "未保存" in body["message"]
    assert _stored_revision(app, "T-001") == 1


def test_patch_refuses_bad_changes(app, client, headers):
    h = {**headers, "If-Match": '"1"'}
    assert_error(client.patch("/api/v1/draft/indicators/T-001", json={"code": "T-099"}, headers=h), 422)
    assert_error(client.patch("/api/v1/draft/indicators/T-001", json={"direction": "sideways"}, headers=h), 422)
    assert_error(client.patch("/api/v1/draft/indicators/T-001", json={"nme": "x"}, headers=h), 422)
    assert_error(client.patch("/api/v1/draft/indicators/T-001", json=["name"], headers=h), 422)
    # JSON types as the document states them: 1 is no boolean, 2020.5 no year (marshmallow would take both)
    assert_error(client.patch("/api/v1/draft/indicators/T-001", json={"national_monitoring": 1}, headers=h), 422)
    assert_error(client.patch("/api/v1/draft/indicators/T-001", json={"source": {"document": "项目支出绩效评价管理办法",
                                                                              "year": 2020.5}}, headers=h), 422)
    assert_error(client.patch("/api/v1/draft/indicators/T-404", json={"name": "不存在的指标"}, headers=h), 404)
    assert _stored_revision(app, "T-001") == 1


def test_retire_and_supersede(app, client, headers):
    resp = client.post("/api/v1/draft/indicators/T-004/retire", headers={**headers, "If-Match": '"1"'})
    assert resp.status_code == 200 and resp.get_json()["indicator"]["status"] == "retired"
    resp = client.post("/api/v1/draft/indicators/T-002/retire", json={"superseded_by": "T-001"},
                       headers={**headers, "If-Match": '"1"'})
    assert resp.status_code == 200
    assert resp.get_json()["indicator"]["status"] == "superseded"
    assert resp.get_json()["indicator"]["superseded_by"] == "T-001"
    assert_error(client.post("/api/v1/draft/indicators/T-003/retire", json={"superseded_by": "T-404"},
                             headers={**headers, "If-Match": '"1"'}), 404)


def _export(client, headers) -> dict:
    from kb.library import versions

    app = client.application
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        return versions.export_library(s, versions.resolve(s, "draft"))


def test_import_dry_run_reports_and_writes_nothing(app, client, headers):
    doc = _export(client, headers)
    doc["indicators"].append({**NEW})
    doc["indicators"][0]["definition"] = "新的解释"
    resp = client.post("/api/v1/draft/import?dry_run=1", json=doc, headers=headers)
    assert resp.status_code == 200
    report = resp.get_json()
    assert report["dry_run"] is True
    assert report["added"] == {"indicator": ["T-010"]} and report["changed"] == {"indicator": ["T-001"]}
    assert_error(client.get("/api/v1/indicators/T-010?version=draft", headers=headers), 404)
    resp = client.post("/api/v1/draft/import", json=doc, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["dry_run"] is False
    assert client.get("/api/v1/indicators/T-010?version=draft", headers=headers).status_code == 200
    assert _stored_revision(app, "T-001") == 2


def test_import_reports_duplicates_and_refuses_them_unless_allowed(app, client, headers):
    """A new indicator named like a draft one (the same name in another scope, or a synonym) is a duplicate, as in
    `zhibiao import --dry-run`: listed in the dry run, refused with import_duplicates unless allow_duplicates=true."""
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        synonyms = library.draft_record(s, "text", "synonyms")
        groups = list(synonyms.data.get("groups", [])) + [["资金到位率", "资金拨付到位率"]]
        library.update_record(s, "text", "synonyms", {"data": {**synonyms.data, "groups": groups}}, synonyms.revision, user="t")
    doc = _export(client, headers)
    same_name = {**NEW, "code": "T-020", "name": "资金到位率", "level1": "产出指标", "level2": "质量指标", "project_types": ["PT-PX"]}
    synonym = {**NEW, "code": "T-021", "name": "资金拨付到位率", "level1": "产出指标", "level2": "质量指标"}
    doc["indicators"] += [same_name, synonym, {**NEW}]
    report = client.post("/api/v1/draft/import?dry_run=1", json=doc, headers=headers).get_json()
    found = {(d["code"], d["other_code"], d["reason"], d["refused"]) for d in report["duplicates"]}
    assert found == {("T-020", "T-001", "同名", True), ("T-021", "T-001", "同义词", True)}
    assert sorted(report["added"]["indicator"]) == ["T-010", "T-020", "T-021"]  # what confirming them would add
    body = assert_error(client.post("/api/v1/draft/import", json=doc, headers=headers), 409, "import_duplicates")
    assert "2 条新指标" in body["message"] and "allow_duplicates=true" in body["message"]
    problems = body["errors"]["problems"]
    assert any("T-020" in p["location"] and "T-001“资金到位率”同名" in p["message"] for p in problems)
    assert any("T-021" in p["location"] and "同义词" in p["message"] for p in problems)
    for code in ("T-010", "T-020", "T-021"):  # all or nothing: the new indicator that is no duplicate waits too
        assert_error(client.get(f"/api/v1/indicators/{code}?version=draft", headers=headers), 404)
    resp = client.post("/api/v1/draft/import?allow_duplicates=true", json=doc, headers=headers)
    assert resp.status_code == 200 and sorted(resp.get_json()["added"]["indicator"]) == ["T-010", "T-020", "T-021"]
    assert client.get("/api/v1/indicators/T-021?version=draft", headers=headers).status_code == 200
    again = client.post("/api/v1/draft/import?dry_run=1", json=_export(client, headers), headers=headers).get_json()
    assert {d["code"] for d in again["duplicates"] if d["refused"]} == set()  # re-importing what is there adds nothing


def test_import_refuses_bad_documents_whole(app, client, headers):
    assert_error(client.post("/api/v1/draft/import", json={"indicators": []}, headers=headers), 422)
    assert_error(client.post("/api/v1/draft/import", json={"format": "other"}, headers=headers), 422)
    doc = {"format": "zhibiao-library", "indicators": [{**NEW}, {**NEW, "code": "T-011", "kind": "bad"}]}
    body = assert_error(client.post("/api/v1/draft/import", json=doc, headers=headers), 422)
    assert body["errors"]["problems"][0]["row"] == 2
    assert_error(client.get("/api/v1/indicators/T-010?version=draft", headers=headers), 404)
    assert_error(client.post("/api/v1/draft/import", json={"format": "zhibiao-library", "indicators": "x"}, headers=headers), 422)
    # a misspelt key would import nothing and say nothing: refused, naming it (at once, also above IMPORT_JOB_ROWS)
    app.config["IMPORT_JOB_ROWS"] = 1
    body = assert_error(client.post("/api/v1/draft/import", json={"format": "zhibiao-library", "indicator": [NEW, NEW]},
                                    headers=headers), 422, "invalid_input")
    assert "“indicator”" in body["message"] and "indicators" in body["message"]
    assert_error(client.post("/api/v1/draft/import", json={"format": "zhibiao-library", "format_version": "1"},
                             headers=headers), 422, "invalid_input")


def test_writes_are_logged_under_the_keys_name(app, client, headers):
    client.post("/api/v1/draft/indicators", json=NEW, headers=headers)
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        entry = library.change_log(s, "T-010")[0]
    assert entry.user == "apikey:维护" and entry.action == "create"


def _job(client, resp, headers, timeout: float = 60.0) -> dict:
    """A 202's import job, polled until it has finished."""
    assert resp.status_code == 202 and resp.get_json()["kind"] == "import", resp.get_data(as_text=True)
    return finished_job(client, resp, headers, timeout)


def test_import_above_the_job_size_runs_as_a_job_and_changes_the_draft(app, client, headers):
    app.config["IMPORT_JOB_ROWS"] = 2
    doc = {"format": "zhibiao-library", "indicators": [{**NEW}, {**NEW, "code": "T-011", "name": "项目按期验收率"}]}
    small = client.post("/api/v1/draft/import", json={**doc, "indicators": doc["indicators"][:1]}, headers=headers)
    assert small.status_code == 200  # two rows or fewer: answered on the request, as before
    assert client.get("/api/v1/indicators/T-010?version=draft", headers=headers).status_code == 200
    doc["indicators"].append({**NEW, "code": "T-012", "name": "项目资料归档率"})
    assert client.post("/api/v1/draft/import?dry_run=1", json=doc, headers=headers).status_code == 200  # a plan: no job
    job = _job(client, client.post("/api/v1/draft/import", json=doc, headers=headers), headers)
    assert job["status"] == "done", job
    assert job["result"]["added"] == {"indicator": ["T-011", "T-012"]} and job["result"]["unchanged"] == 1
    assert job["result"]["totals"] == {"added": 2, "changed": 0, "unchanged": 1} and job["params"] == {"rows": 3}
    assert _stored_name(app, "T-012") == "项目资料归档率"


def test_a_refused_import_job_leaves_the_draft_unchanged_and_says_why(app, client, headers):
    app.config["IMPORT_JOB_ROWS"] = 1
    doc = {"format": "zhibiao-library", "indicators": [
        {**NEW},
        # valid on its own; refused when applied: nothing has the code T-404
        {**NEW, "code": "T-011", "name": "项目按期验收率", "status": "superseded", "superseded_by": "T-404"},
    ]}
    job = _job(client, client.post("/api/v1/draft/import", json=doc, headers=headers), headers)
    assert job["status"] == "failed" and "引用" in job["error"], job
    assert any("T-404" in p["message"] for p in job["problems"]), job
    assert_error(client.get("/api/v1/indicators/T-010?version=draft", headers=headers), 404)
    assert_error(client.get("/api/v1/indicators/T-011?version=draft", headers=headers), 404)
    assert _stored_revision(app, "T-001") == 1


def test_a_big_import_is_checked_in_its_job_row_by_row_and_leaves_the_draft_unchanged(app, client, headers):
    """Above IMPORT_JOB_ROWS the request only counts the rows: even a document with bad rows gets its 202 at
    once, and the job carries each row's problem in Chinese, as the 422 of a small import would."""
    app.config["IMPORT_JOB_ROWS"] = 2
    doc = {"format": "zhibiao-library", "indicators": [
        {**NEW},
        {**NEW, "code": "T-011", "name": "项目按期验收率", "kind": "其他"},
        {**NEW, "code": "T-012", "name": "项目资料归档率", "level2": "不存在的二级"},
    ]}
    small = assert_error(client.post("/api/v1/draft/import", json={**doc, "indicators": doc["indicators"][1:2]},
                                     headers=headers), 422, "invalid_input")
    job = _job(client, client.post("/api/v1/draft/import", json=doc, headers=headers), headers)
    assert job["status"] == "failed" and "未导入任何内容" in job["error"], job
    assert {(p["row"], p["field"]) for p in job["problems"]} == {(2, "kind"), (3, "level2")}
    assert [p["message"] for p in job["problems"] if p["row"] == 2] == [p["message"] for p in small["errors"]["problems"]]
    assert all(p["location"] == "请求 indicators" for p in job["problems"])
    for code in ("T-010", "T-011", "T-012"):
        assert_error(client.get(f"/api/v1/indicators/{code}?version=draft", headers=headers), 404)
    # a duplicate of a draft indicator refuses the whole import in the job as the 409 would
    doc = {"format": "zhibiao-library", "indicators": [
        {**NEW}, {**NEW, "code": "T-011", "name": "资金到位率"}, {**NEW, "code": "T-012", "name": "项目资料归档率"}]}
    job = _job(client, client.post("/api/v1/draft/import", json=doc, headers=headers), headers)
    assert job["status"] == "failed" and "allow_duplicates=true" in job["error"], job
    assert any("T-011" in p["location"] and "T-001“资金到位率”同名" in p["message"] for p in job["problems"]), job
    assert_error(client.get("/api/v1/indicators/T-010?version=draft", headers=headers), 404)
    job = _job(client, client.post("/api/v1/draft/import?allow_duplicates=true", json=doc, headers=headers), headers)
    assert job["status"] == "done" and job["result"]["totals"]["added"] == 3, job
    assert [(d["code"], d["refused"]) for d in job["result"]["duplicates"]] == [("T-011", True)]

"""POST /api/v1/suggest, POST /api/v1/targets/check (JSON and .xlsx), and /api/v1/quotas."""
from __future__ import annotations

import io
import json

from tests.api_helpers import assert_error, bearer, make_key

PROJECT = {"name": "全市财务人员业务培训项目", "description": "举办三类培训班 3 天，每期 100 人", "budget_wan_yuan": 20}
TABLE = {
    "project": {"name": "市级综合医院医疗服务能力提升项目", "sector": "21002", "budget_wan_yuan": 500},
    "goal": "提升服务能力",
    "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "门急诊人次", "operator": "≥",
                    "value": "120000", "unit": "人次"}],
}


# --- suggest --------------------------------------------------------------------------------------

def test_suggest_recommends_indicators_quotas_and_a_table(client):
    resp = client.post("/api/v1/suggest", json=PROJECT)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["version"] == "2024.1"
    codes = [s["code"] for s in body["indicators"]]
    assert "T-004" in codes  # 培训人次, the 培训类 common indicator
    first = next(s for s in body["indicators"] if s["code"] == "T-004")
    assert first["level1"] == "产出指标" and first["reason"]
    assert body["project_types"][0]["code"] == "PT-PX"
    assert body["table"]["project"]["name"] == PROJECT["name"]
    assert isinstance(body["table"]["indicators"], list)


def test_suggest_is_open_unless_keys_are_required(app, client):
    app.config["REQUIRE_API_KEY"] = True
    assert_error(client.post("/api/v1/suggest", json=PROJECT), 401)
    assert_error(client.post("/api/v1/suggest", json=PROJECT, headers=bearer(make_key(app, "read"))), 403)
    assert client.post("/api/v1/suggest", json=PROJECT, headers=bearer(make_key(app, "suggest"))).status_code == 200


def test_suggest_refuses_bad_projects(client):
    body = assert_error(client.post("/api/v1/suggest", json={"name": "x"}), 422)
    assert body["errors"]["problems"][0]["field"]
    assert_error(client.post("/api/v1/suggest", json={"name": "某项目", "budget_wan_yuan": "很多"}), 422)
    assert_error(client.post("/api/v1/suggest", json={"name": "某项目", "colour": "red"}), 422)
    # an unknown sector is a warning in the answer, not a refusal
    resp = client.post("/api/v1/suggest", json={"name": "某项目", "sector": "不存在的行业"})
    assert resp.status_code == 200 and "未知的行业/领域“不存在的行业”" in resp.get_json()["warnings"][0]
    assert_error(client.post("/api/v1/suggest", json=["某项目"]), 422)
    assert_error(client.post("/api/v1/suggest", data="{", content_type="application/json"), 400)
    assert_error(client.post("/api/v1/suggest", data="", content_type="application/json"), 422)
    assert_error(client.post("/api/v1/suggest", data="name=x", content_type="application/x-www-form-urlencoded"), 415)
    assert_error(client.post("/api/v1/suggest?version=1999.1", json=PROJECT), 404)


# --- check -------------------------------------------------------------------------------------------

def _check_shape(body: dict) -> None:
    assert body["grade"] in ("优", "良", "中", "差") and body["version"] == "2024.1"
    assert all({"rule", "severity", "message"} <= set(f) for f in body["findings"])


def test_check_a_json_table(client):
    resp = client.post("/api/v1/targets/check", json=TABLE)
    assert resp.status_code == 200
    body = resp.get_json()
    _check_shape(body)
    rules = {f["rule"] for f in body["findings"]}
    assert "C02" in rules  # 一级指标 missing
    assert body["grade"] == "差"


def test_check_an_uploaded_xlsx(client):
    from importers.target_xlsx import read_table, write_table
    from kb.targets.schema import load_table

    data = write_table(load_table(TABLE))
    assert read_table(data).indicators[0].name == "门急诊人次"
    resp = client.post("/api/v1/targets/check", data={"file": (io.BytesIO(data), "目标表.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200
    _check_shape(resp.get_json())
    assert resp.get_json()["findings"] == client.post("/api/v1/targets/check", json=TABLE).get_json()["findings"]


def test_check_an_uploaded_json_file(client):
    resp = client.post("/api/v1/targets/check", data={"file": (io.BytesIO(json.dumps(TABLE).encode()), "t.json")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200


def test_check_refuses_bad_uploads_and_tables(client):
    def upload(data: bytes, name: str):
        return client.post("/api/v1/targets/check", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")

    assert "Excel" in assert_error(upload(b"not a workbook", "t.xlsx"), 422)["message"]
    assert_error(upload(b"PK\x03\x04garbage", "t.xlsx"), 422)
    assert_error(upload(b"a,b\n1,2", "t.csv"), 422)
    assert_error(upload(b"{bad", "t.json"), 422)
    assert_error(upload(b"", "t.xlsx"), 422)
    assert_error(client.post("/api/v1/targets/check", data={"other": "x"}, content_type="multipart/form-data"), 422)
    assert_error(client.post("/api/v1/targets/check", json={"project": {}}), 422)
    assert_error(client.post("/api/v1/targets/check", json={"goal": "x"}), 422)
    assert_error(client.post("/api/v1/targets/check", json={**TABLE, "indicators": "x"}), 422)


# --- quotas -------------------------------------------------------------------------------------------

def test_quota_search_by_words_category_and_tier(client):
    body = client.get("/api/v1/quotas?q=会议").get_json()
    assert body["version"] == "2024.1" and body["total"] == 1 and body["categories"] == ["会议费"]
    assert body["results"][0]["code"] == "Q-T-1" and body["results"][0]["amount"] == 550
    assert client.get("/api/v1/quotas?category=会议费&tier=三类").get_json()["total"] == 1
    assert client.get("/api/v1/quotas?category=差旅费").get_json()["total"] == 0
    assert client.get("/api/v1/quotas?tier=一类").get_json()["total"] == 0
    assert client.get("/api/v1/quotas?q=会议 培训").get_json()["total"] == 0
    assert_error(client.get("/api/v1/quotas?status=old"), 422)
    assert_error(client.get("/api/v1/quotas?per_page=0"), 422)


def test_one_quota(client):
    body = client.get("/api/v1/quotas/Q-T-1").get_json()
    assert body["version"] == "2024.1" and body["quota"]["tier"] == "三类会议"
    assert body["quota"]["effective_date"] == "2016-07-01"
    assert_error(client.get("/api/v1/quotas/Q-NONE"), 404)


def test_quota_estimate_for_a_project(client):
    project = {"name": "全市三类会议项目", "description": "召开三类会议 2 天，参会 100 人"}
    resp = client.post("/api/v1/quotas/estimate", json=project)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["version"] == "2024.1"
    assert body["quotas"][0]["code"] == "Q-T-1" and body["quotas"][0]["selected"] is True
    assert body["quantity"]["people"] == 100 and body["quantity"]["days"] == 2
    assert body["estimate"]["total_yuan"] == 550 * 2 * 100
    assert body["estimate"]["lines"][0]["factors"] == [{"value": 2, "what": "天"}, {"value": 100, "what": "人"}]
    none = client.post("/api/v1/quotas/estimate", json={"name": "道路养护项目"}).get_json()
    assert none["quotas"] == [] and none["estimate"] is None
    assert_error(client.post("/api/v1/quotas/estimate", json={"description": "无名称"}), 422)

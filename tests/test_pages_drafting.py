"""The drafting page and its JSON twins through the Flask client: recommend,
quotas, check with fixes, a row from the library, .xlsx export, import of a
JSON or .xlsx table, CSRF, and every error a clear 4xx in Chinese."""
import io
import json

import pytest
from openpyxl import load_workbook

from importers.target_xlsx import read_table, write_table
from kb.targets.schema import load_table
from tests.page_helpers import csrf_token, targets_app, targets_client, text_of  # noqa: F401

HOSPITAL = {"name": "市中心医院购置CT设备", "description": "为市中心医院购置CT设备1台，年内完成安装验收并投入使用。",
            "sector": "210", "budget_wan_yuan": 800}
TRAINING = {"name": "全市基层卫生人员业务培训", "description": "举办三类培训班2期，每期80人，每期3天", "sector": "210",
            "budget_wan_yuan": 30}
TABLE = {
    "project": {"name": "全市基层卫生人员业务培训", "sector": "210", "budget_wan_yuan": 30},
    "goal": "年内举办培训班2期，培训基层卫生人员160人次，受训学员满意度不低于90%。",
    "indicators": [
        {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "operator": "≥", "value": "160", "unit": "人次", "code": "T-004"},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "受训学员满意度", "operator": "≥", "value": "60", "unit": "%"},
    ],
}


@pytest.fixture
def post(targets_client):
    """POST JSON the way draft.js does: the page's CSRF token in X-CSRFToken."""
    token = csrf_token(targets_client)

    def send(path, body=None, **kwargs):
        headers = {"X-CSRFToken": token, **kwargs.pop("headers", {})}
        if body is not None:
            kwargs["json"] = body
        return targets_client.post(path, headers=headers, **kwargs)
    return send


def test_draft_page_has_the_form_the_table_and_its_twins(targets_client):
    resp = targets_client.get("/draft")
    assert resp.status_code == 200
    html = text_of(resp)
    assert '<meta name="csrf-token"' in html
    for text in ('name="name"', 'name="description"', 'name="sector"', 'name="department"', 'name="project_type"',
                 'name="budget_wan_yuan"', "生成推荐目标表", "导出 Excel", "导出 JSON", "导入 JSON / Excel", "data-goal"):
        assert text in html, text
    # the sector select is the classification tree, children indented under their parent
    assert '<option value="210">210 卫生健康支出</option>' in html
    assert '<option value="21002">　21002 公立医院</option>' in html
    assert '<option value="2100201">　　2100201 综合医院</option>' in html
    assert '<option value="PT-PX">培训类</option>' in html
    assert "产出指标" in html and "服务对象满意度指标" in html  # the 一级/二级 the selects offer
    assert 'data-suggest-url="/draft/suggest.json"' in html and 'src="/static/draft.js"' in html


def test_suggest_gives_a_table_grouped_by_level_with_reasons(post):
    resp = post("/draft/suggest.json?version=2024.2", {"project": HOSPITAL})
    assert resp.status_code == 200
    data = resp.get_json()
    rows = data["table"]["indicators"]
    assert data["version"] == "2024.2" and data["table"]["project"]["name"] == HOSPITAL["name"]
    assert {(r["level1"], r["level2"]) for r in rows} >= {("产出指标", "数量指标"), ("产出指标", "质量指标"), ("产出指标", "时效指标")}
    assert all(data["reasons"].get(r["code"]) for r in rows)
    assert data["table"]["goal"].startswith("年内完成市中心医院购置CT设备")
    groups = [(g["level1"], g["level2"]) for g in data["groups"]]
    assert groups.index(("产出指标", "数量指标")) < groups.index(("满意度指标", "服务对象满意度指标"))
    # the API's shape: each group names its suggestions by code, listed once (with their reasons) under indicators
    listed = {s["code"]: s for s in data["indicators"]}
    assert all(listed[code]["reason"] for g in data["groups"] for code in g["codes"])
    assert [code for g in data["groups"] for code in g["codes"]] == list(listed)


def test_suggest_and_quotas_give_the_standards_and_the_estimate(post):
    data = post("/draft/suggest.json", {"project": TRAINING}).get_json()
    selected = [q for q in data["quotas"] if q["selected"] and q["category"] == "培训费"]
    assert [q["code"] for q in selected] == ["Q-PXF-2016-3"] and "财行〔2016〕540号" in selected[0]["source"]
    assert data["estimate"]["total_yuan"] == 550 * 3 * 80 * 2
    assert data["estimate"]["lines"][0]["explanation"] == "三类培训综合定额：550元/人·天 × 3天 × 80人 × 2期 = 264000元"
    only = post("/draft/quotas.json", {"project": TRAINING}).get_json()
    assert only["estimate"] == data["estimate"] and only["quotas"] == data["quotas"]
    assert post("/draft/quotas.json", {"project": HOSPITAL}).get_json()["estimate"] is None


def test_check_finds_problems_beside_rows_with_fixes(post):
    data = post("/draft/check.json", TABLE).get_json()
    assert data["grade"] in ("优", "良", "中", "差") and data["version"] == "2024.2"
    low = next(f for f in data["findings"] if f["rule"] == "C08")
    assert low["row"] == 2 and "偏低" in low["message"]
    assert low["fix"]["row"]["value"] == "90" and low["fix"]["row"]["name"] == "受训学员满意度"
    table_level = [f for f in data["findings"] if f["row"] is None and f.get("fix") and f["fix"]["row"]]
    assert table_level, "a missing dimension comes with a row to add"
    fixed = json.loads(json.dumps(TABLE))
    fixed["indicators"][1] = low["fix"]["row"]
    again = post("/draft/check.json", fixed).get_json()
    assert not [f for f in again["findings"] if f["rule"] == "C08" and f["row"] == 2]


def test_row_json_is_a_library_indicator_as_a_table_row(targets_client):
    data = targets_client.get("/draft/row.json?code=YY3-053").get_json()
    assert data["row"]["level1"] == "满意度指标" and data["row"]["level2"] == "服务对象满意度指标"
    assert data["row"]["name"] == "门诊患者满意度" and data["row"]["code"] == "YY3-053" and data["row"]["operator"]
    resp = targets_client.get("/draft/row.json?code=NOPE-1")
    assert resp.status_code == 404 and resp.get_json()["message"] == "未找到指标“NOPE-1”"
    assert resp.get_json()["error"] == "indicator_not_found"  # the same identifiers as the API's
    resp = targets_client.get("/draft/row.json")
    assert resp.status_code == 400 and "编码" in resp.get_json()["message"] and resp.get_json()["error"]


def test_export_writes_the_usual_layout_and_reads_back(post):
    table = json.loads(json.dumps(TABLE))
    table["indicators"].append({"level1": "产出指标", "level2": "质量指标", "name": "=HYPERLINK(\"http://x\")",
                                "operator": "≥", "value": "90", "unit": "%"})
    resp = post("/draft/export.xlsx", table)
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in resp.headers["Content-Disposition"] and ".xlsx" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    cells = list(ws.iter_rows(values_only=True))
    assert cells[0][0] == "项目支出绩效目标申报表"
    header = next(i for i, r in enumerate(cells) if r[0] == "一级指标")
    assert cells[header + 1][2] == "培训人次" and cells[header + 1][4] == 160
    assert cells[header + 3][2] == "=HYPERLINK(\"http://x\")"  # as typed, in a quote-prefixed text cell
    assert ws.cell(row=header + 4, column=3).quotePrefix and ws.cell(row=header + 4, column=3).data_type == "s"
    assert ("所属行业", None, None, None, None) != cells[3][4:9]
    assert "210 卫生健康支出" in [v for r in cells for v in r] or "210 卫生健康" in [v for r in cells for v in r]
    back = read_table(resp.data)
    assert back.project.name == TABLE["project"]["name"] and [r.name for r in back.indicators][:2] == ["培训人次", "受训学员满意度"]


def test_import_json_and_xlsx_tables(post):
    xlsx = write_table(load_table(TABLE))
    resp = post("/draft/import.json", data={"file": (io.BytesIO(xlsx), "培训目标表.xlsx")}, content_type="multipart/form-data")
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["filename"] == "培训目标表.xlsx" and data["table"]["goal"] == TABLE["goal"]
    assert [r["name"] for r in data["table"]["indicators"]] == ["培训人次", "受训学员满意度"]
    raw = json.dumps(TABLE, ensure_ascii=False).encode("utf-8")
    data = post("/draft/import.json", data={"file": (io.BytesIO(raw), "table.json")}, content_type="multipart/form-data").get_json()
    assert data["table"]["project"]["name"] == TABLE["project"]["name"] and data["table"]["indicators"][0]["code"] == "T-004"


@pytest.mark.parametrize("content, filename, status, message", [
    (b"PK\x03\x04 not really a zip", "table.xlsx", 422, "无法读取 Excel 文件"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "table.xls", 422, "旧版 Excel"),
    (b"{not json", "table.json", 422, "不是有效的 JSON 文件"),
    (b'{"goal": "no project"}', "table.json", 422, "目标表不正确"),
    (b"a,b\n1,2\n", "table.csv", 422, "请上传 .xlsx 或 .json 文件"),
    (b"", "empty.json", 422, "是空的"),
])
def test_import_refuses_bad_files_in_chinese(post, content, filename, status, message):
    resp = post("/draft/import.json", data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")
    assert resp.status_code == status and message in resp.get_json()["message"], resp.get_json()


def test_import_refuses_oversized_uploads(post, targets_app, monkeypatch):
    monkeypatch.setenv("ZHIBIAO_MAX_UPLOAD_MB", "0.001")  # the importer's own limit: about 1 KB
    big = json.dumps({**TABLE, "goal": "目" * 2000}, ensure_ascii=False).encode("utf-8")
    resp = post("/draft/import.json", data={"file": (io.BytesIO(big), "big.json")}, content_type="multipart/form-data")
    assert resp.status_code == 413 and "超过大小上限" in resp.get_json()["message"]
    monkeypatch.delenv("ZHIBIAO_MAX_UPLOAD_MB")
    targets_app.config["MAX_CONTENT_LENGTH"] = 2048  # the server's limit on any request body
    resp = post("/draft/import.json", data={"file": (io.BytesIO(b"x" * 10000), "big.json")}, content_type="multipart/form-data")
    assert resp.status_code == 413 and resp.get_json()["message"].startswith("上传的内容超过大小上限")
    assert resp.get_json()["error"] == "body_too_large"  # an HTTP-level refusal: the API's identifier for it


def test_import_without_a_file(post):
    resp = post("/draft/import.json", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "请选择要导入" in resp.get_json()["message"]


def test_posts_need_the_page_csrf_token(targets_client):
    for path in ("/draft/suggest.json", "/draft/check.json", "/draft/quotas.json", "/draft/export.xlsx", "/draft/import.json"):
        resp = targets_client.post(path, json={"project": HOSPITAL})
        assert resp.status_code == 400, path
        assert "刷新页面" in resp.get_json()["message"], path
    resp = targets_client.post("/draft/check.json", json=TABLE, headers={"X-CSRFToken": "forged"})
    assert resp.status_code == 400


def test_bad_bodies_are_clear_4xx(post):
    resp = post("/draft/suggest.json", data="not json", content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["message"] == "JSON 格式错误（第 1 行第 1 列）"
    resp = post("/draft/suggest.json", ["项目"])
    assert resp.status_code == 400 and resp.get_json()["message"] == "请求内容应为 JSON 对象"
    resp = post("/draft/suggest.json", {"project": {"name": ""}})
    assert resp.status_code == 422 and "名称" in resp.get_json()["message"]
    # an unknown sector is set aside with a warning, the recommendation still made
    resp = post("/draft/suggest.json", {"project": {**HOSPITAL, "sector": "999"}})
    assert resp.status_code == 200 and "未知的行业/领域“999”" in resp.get_json()["warnings"][0]
    resp = post("/draft/suggest.json", {"project": {**HOSPITAL, "budget_wan_yuan": "八百块"}})
    assert resp.status_code == 422 and "预算金额" in resp.get_json()["message"]
    resp = post("/draft/check.json", {"project": {}, "indicators": []})
    assert resp.status_code == 422 and "名称" in resp.get_json()["message"]
    resp = post("/draft/check.json", {**TABLE, "indicators": [TABLE["indicators"][0]] * 501})
    assert resp.status_code == 422 and "500" in resp.get_json()["message"]
    resp = post("/draft/export.xlsx", {"project": {"name": "x"}})
    assert resp.status_code == 422 and resp.is_json and "项目名称" in resp.get_json()["message"]


def test_unknown_or_draft_version_on_the_drafting_page(targets_client, post):
    resp = targets_client.get("/draft?version=1999.1")
    assert resp.status_code == 404 and "未找到版本“1999.1”" in text_of(resp)
    assert targets_client.get("/draft?version=draft").status_code == 404
    resp = post("/draft/check.json?version=1999.1", TABLE)
    assert resp.status_code == 404 and resp.get_json()["message"] == "未找到版本“1999.1”"
    old = post("/draft/check.json?version=2024.1", TABLE).get_json()
    assert old["version"] == "2024.1"


def test_the_page_twins_work_where_the_api_needs_a_key(targets_app, post, targets_client):
    targets_app.config["REQUIRE_API_KEY"] = True
    assert targets_client.get("/api/v1/complete?q=mzhz").status_code == 401
    assert post("/draft/suggest.json", {"project": HOSPITAL}).status_code == 200
    assert post("/draft/check.json", TABLE).status_code == 200
    assert targets_client.get("/complete.json?q=mzhz").get_json()["completions"][0]["text"] == "门诊患者满意度"


def test_stated_twin_reads_the_summary_budget_and_quantities(post):
    resp = post("/draft/stated.json", {"text": "项目预算八百万元，举办培训班2期，每期80人。"})
    assert resp.status_code == 200
    assert resp.get_json() == {"budget_wan_yuan": 800.0, "budget_phrase": "八百万元", "quantities": ["2期", "80人"]}
    assert post("/draft/stated.json", {"text": "年内完成验收"}).get_json()["budget_wan_yuan"] is None
    resp = post("/draft/stated.json", {"text": "字" * 20_001})
    assert resp.status_code == 400 and "文字过长：最多 20000 字" in resp.get_json()["message"]
    assert post("/draft/stated.json", {"text": 5}).status_code == 400

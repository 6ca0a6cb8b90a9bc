"""Scoring units with a system through the interfaces scripts rely on:
`zhibiao systems score|list|rounds`, POST /api/v1/systems/<code>/score (JSON
or an uploaded .xlsx), the saved rounds' GETs, the round's page with its chart
and its .xlsx export. One seeded app per module and backend: rounds pile up,
so the tests count what they add."""
from __future__ import annotations

import io
import json

import openpyxl
import pytest

from tests.api_helpers import assert_error, bearer, curator, make_key
from tests.conftest import BACKENDS, _shared_app, seeded_library
from tests.scoring_helpers import SYSTEM, twelve_hospitals, with_changes

HOSTILE = "<script>alert(1)</script>医院"
FORMULA = '=HYPERLINK("http://example.com","点我")'


@pytest.fixture(scope="module", params=BACKENDS)
def scoring_app(request, templates, tmp_path_factory):
    """The real library (2024.1), one app for the whole module on each backend."""
    yield from _shared_app(request.param, seeded_library, templates, tmp_path_factory)


class CuratorClient:
    """The module's client, sending a curate key with every POST (scoring keeps a round: a write)."""

    def __init__(self, app):
        self.client = app.test_client()
        self.key = curator(app)

    def post(self, *args, headers=None, **kwargs):
        return self.client.post(*args, headers=self.key if headers is None else headers, **kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.fixture
def api(scoring_app):
    return CuratorClient(scoring_app)


def _workbook(units: list[dict]) -> bytes:
    """The input sheet as an evaluator fills it: 单位名称, one column per leaf, a 目标值 column where needed."""
    headers: list[str] = []
    for unit in units:
        for key, value in unit["values"].items():
            for header in ([key, f"{key} 目标值"] if isinstance(value, dict) else [key]):
                if header not in headers:
                    headers.append(header)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位名称", *headers])
    for unit in units:
        cells = {}
        for key, value in unit["values"].items():
            if isinstance(value, dict):
                cells[key], cells[f"{key} 目标值"] = value["actual"], value["target"]
            else:
                cells[key] = value
        ws.append([unit["name"], *[cells.get(h) for h in headers]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _round_count(client) -> int:
    return len(client.get(f"/api/v1/systems/{SYSTEM}/rounds").get_json()["rounds"])


def _check_shape(body: dict) -> None:
    assert {"round", "system", "version", "units"} <= set(body)
    for unit in body["units"]:
        assert {"name", "total", "rank", "grade", "by_level1", "weakest", "leaves"} <= set(unit)
        assert set(unit["by_level1"]) == {"决策", "过程", "产出", "效益"}
        assert all(set(w) == {"name", "indicator", "score", "max", "lost"} for w in unit["weakest"])


# --- the command line ----------------------------------------------------------------------------------

def test_cli_scores_a_json_file_and_saves_the_round(cli, seeded_db, tmp_path):
    path = tmp_path / "hospitals.json"
    path.write_text(json.dumps({"units": twelve_hospitals()}, ensure_ascii=False), encoding="utf-8")
    code, out, err = cli("systems", "score", SYSTEM, str(path), "--json")
    assert code == 0, err
    body = json.loads(out)
    _check_shape(body)
    assert body["system"] == SYSTEM and body["version"] == "2024.1" and len(body["units"]) == 12
    assert {u["name"]: u["total"] for u in body["units"]}["市第二人民医院"] == 95.08
    code, out, _ = cli("systems", "rounds", SYSTEM, "--json")
    assert [r["id"] for r in json.loads(out)["rounds"]] == [body["round"]]


def test_cli_scores_a_workbook_and_lists_systems(cli, seeded_db, tmp_path):
    path = tmp_path / "评分表.xlsx"
    path.write_bytes(_workbook(twelve_hospitals()[:3]))
    code, out, err = cli("systems", "score", SYSTEM, str(path), "--version", "2024.1")
    assert code == 0, err
    assert "市第二人民医院  95.08 分  优" in out and "失分最多：在职人员控制率（失 1.5 分）" in out
    code, out, _ = cli("systems", "list", "--json")
    assert [s["code"] for s in json.loads(out)["systems"]] == [SYSTEM]


def test_cli_refuses_bad_input_in_one_chinese_line_and_saves_nothing(cli, seeded_db, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"units": [{"name": "市中医医院", "values": with_changes({"GX-BM-005": "优"})}]},
                               ensure_ascii=False), encoding="utf-8")
    code, _, err = cli("systems", "score", SYSTEM, str(path), "--json")
    assert code == 1
    assert err.strip() == "错误：单位“市中医医院”的“重点支出安排率（GX-BM-005）”应为数字（如 95 或 95%），现为“优”"
    path.write_text(json.dumps({"units": twelve_hospitals()}, ensure_ascii=False), encoding="utf-8")
    code, _, err = cli("systems", "score", SYSTEM, str(path), "--version", "2099.1")
    assert code == 1 and err.strip() == "错误：未找到版本“2099.1”"
    code, _, err = cli("systems", "score", "SYS-NONE", str(path))
    assert code == 1 and "未找到指标体系“SYS-NONE”" in err
    (tmp_path / "units.csv").write_text("单位,GX-BM-003\n甲,100\n", encoding="utf-8")
    code, _, err = cli("systems", "score", SYSTEM, str(tmp_path / "units.csv"))
    assert code == 1 and ".xlsx 或 .json" in err
    code, out, _ = cli("systems", "rounds", SYSTEM, "--json")
    assert json.loads(out)["rounds"] == []


# --- the API --------------------------------------------------------------------------------------------

def test_api_scores_json_saves_the_round_and_reads_it_back(api):
    before = _round_count(api)
    resp = api.post(f"/api/v1/systems/{SYSTEM}/score", json={"units": twelve_hospitals()})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    _check_shape(body)
    assert body["version"] == "2024.1" and body["created_by"] == "apikey:维护"
    second = next(u for u in body["units"] if u["name"] == "市第二人民医院")
    assert (second["total"], second["rank"], second["grade"]) == (95.08, 11, "优")
    assert second["by_level1"] == {"决策": 12.9, "过程": 23.4, "产出": 34.0, "效益": 24.78}

    assert _round_count(api) == before + 1
    listed = api.get(f"/api/v1/systems/{SYSTEM}/rounds").get_json()["rounds"][0]
    assert listed["id"] == body["round"] and listed["units"] == 12 and listed["version"] == "2024.1"
    again = api.get(f"/api/v1/systems/{SYSTEM}/rounds/{body['round']}").get_json()
    assert again["units"] == body["units"] and again["round"] == body["round"]


def test_api_scores_an_uploaded_workbook(api):
    data = _workbook(twelve_hospitals()[1:3])
    resp = api.post(f"/api/v1/systems/{SYSTEM}/score?version=2024.1",
                    data={"file": (io.BytesIO(data), "评分表.xlsx")}, content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    totals = {u["name"]: u["total"] for u in resp.get_json()["units"]}
    assert totals == {"市第二人民医院": 95.08, "市中医医院": 93.41}


def test_api_refuses_bad_input_with_422_in_chinese_and_saves_nothing(api):
    before = _round_count(api)
    url = f"/api/v1/systems/{SYSTEM}/score"
    body = assert_error(api.post(url, json={"units": [{"name": "市中医医院", "values": with_changes({"GX-BM-005": "优"})}]}), 422)
    assert body["message"] == "单位“市中医医院”的“重点支出安排率（GX-BM-005）”应为数字（如 95 或 95%），现为“优”"
    assert body["errors"]["problems"][0]["location"] == "市中医医院"
    assert body["errors"]["problems"][0]["field"] == "GX-BM-005"
    missing = assert_error(api.post(url, json={"units": [{"name": "甲", "values": with_changes({}, drop=("YY3-053",))}]}), 422)
    assert "单位“甲”缺少 1 项指标的值：门诊患者满意度（YY3-053）" in missing["message"]
    assert "没有要评分的单位" in assert_error(api.post(url, json={"units": []}), 422)["message"]
    assert "units" in assert_error(api.post(url, json={"hospitals": []}), 422)["message"]
    bad_file = api.post(url, data={"file": (io.BytesIO(b"not a workbook"), "x.xlsx")}, content_type="multipart/form-data")
    assert_error(bad_file, 422)
    assert _round_count(api) == before


def test_api_answers_404_for_unknown_systems_versions_and_rounds(api):
    assert_error(api.post(f"/api/v1/systems/{SYSTEM}/score?version=2099.1", json={"units": twelve_hospitals()}), 404)
    assert_error(api.post("/api/v1/systems/SYS-NONE/score", json={"units": twelve_hospitals()}), 404)
    assert_error(api.get("/api/v1/systems/SYS-NONE/rounds"), 404)
    assert_error(api.get(f"/api/v1/systems/{SYSTEM}/rounds/999999"), 404)
    assert_error(api.get(f"/api/v1/systems/{SYSTEM}/rounds/99999999999999"), 404)


def test_api_scoring_keeps_a_round_so_it_needs_the_curate_scope(scoring_app, api):
    url = f"/api/v1/systems/{SYSTEM}/score"
    units = {"units": twelve_hospitals()[:1]}
    before = _round_count(api)
    assert_error(api.post(url, json=units, headers={}), 401)
    assert_error(api.post(url, json=units, headers=bearer(make_key(scoring_app, "read,suggest"))), 403)
    resp = api.post(url, json=units, headers=bearer(make_key(scoring_app, "read,curate", "医院评价系统")))
    assert resp.status_code == 200 and resp.get_json()["created_by"] == "apikey:医院评价系统"
    assert _round_count(api) == before + 1


# --- pages --------------------------------------------------------------------------------------------------

def _hostile_round(api) -> int:
    units = twelve_hospitals()[:3]
    units[0]["name"], units[2]["name"] = HOSTILE, FORMULA
    resp = api.post(f"/api/v1/systems/{SYSTEM}/score", json={"units": units})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["round"]


def test_the_round_page_lists_units_with_a_chart_and_escapes_names(api):
    round_id = _hostile_round(api)
    system = api.get(f"/systems/{SYSTEM}").get_data(as_text=True)
    assert f"/systems/{SYSTEM}/rounds/{round_id}" in system
    assert "计分规则：上限扣分：不超过目标值 100 得满分，每超出1扣 0.3 分" in system

    resp = api.get(f"/systems/{SYSTEM}/rounds/{round_id}")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "<svg" in page and 'class="bars"' in page and "95.08" in page and "市第二人民医院" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;医院" in page and "<script>alert(1)" not in page
    assert "在职人员控制率（失 1.5 分）" in page and "决策（15）" in page
    assert 'src="http' not in page and 'href="http' not in page  # nothing fetched from elsewhere
    assert api.get(f"/systems/{SYSTEM}/rounds/999999").status_code == 404


def test_the_round_exports_as_xlsx_with_formulas_neutralised(api):
    round_id = _hostile_round(api)
    resp = api.get(f"/systems/{SYSTEM}/rounds/{round_id}.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    rows = list(wb["评分结果"].iter_rows(min_row=3, values_only=True))
    assert [r[:4] for r in rows] == [(1, HOSTILE, 100, "优"), (2, "市第二人民医院", 95.08, "优"), (3, FORMULA, 93.41, "优")]
    assert all(cell.data_type != "f" for row in wb["评分结果"].iter_rows() for cell in row)
    formula = next(c for row in wb["评分结果"].iter_rows() for c in row if c.value == FORMULA)
    assert formula.data_type == "s" and formula.quotePrefix  # shown as typed, never run
    detail = list(wb["指标得分"].iter_rows(min_row=2, values_only=True))
    assert len(detail) == 3 * 47
    assert detail[0][:6] == (HOSTILE, "决策", "GX-BM-001", "绩效目标合理性", 2.5, 2.5)

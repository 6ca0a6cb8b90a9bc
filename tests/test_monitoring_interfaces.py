"""Issue 18 parts 1–2 through every door: `zhibiao monitor|evaluate FILE --json`,
POST /api/v1/targets/monitor|evaluate (JSON and .xlsx), the /draft page's
JSON twins, the .xlsx 监控表 sheet (written, filled in by a unit, read back),
and C15 in the check. Bad input is a 4xx or exit code with a Chinese message."""
from __future__ import annotations

import copy
import io
import json

import pytest
from openpyxl import load_workbook

from importers.target_xlsx import MONITOR_SHEET, read_table, write_table
from kb.targets.schema import load_table
from tests.api_helpers import assert_error, bearer, make_key
from tests.page_helpers import csrf_token
from tests.test_monitoring import ROAD, YEAR_END


@pytest.fixture(scope="module")
def read_client(shared_app):
    return shared_app.test_client()


# --- command line --------------------------------------------------------------------------------------

def test_cli_monitor_json_has_the_documented_shape(cli, tmp_path):
    path = tmp_path / "mid-year.json"
    path.write_text(json.dumps(ROAD, ensure_ascii=False), encoding="utf-8")
    code, out, err = cli("monitor", str(path), "--json")
    assert code == 0, err
    body = json.loads(out)
    assert {"as_of", "execution_rate", "time_share", "completion", "rows", "warnings"} <= set(body)
    assert body["as_of"] == "2024-06-30" and body["execution_rate"] == 0.75
    assert all({"row", "name", "completion"} <= set(r) for r in body["rows"])
    assert [w["kind"] for w in body["warnings"]] == ["spending_ahead", "late", "unreachable"]
    assert all({"kind", "message", "rows"} <= set(w) for w in body["warnings"])
    code, out, _ = cli("monitor", str(path), "--tolerance", "0.45")
    assert code == 0 and "[预警 时效指标逾期]" in out and "支出快于产出" not in out


def test_cli_evaluate_json_has_the_documented_shape(cli, tmp_path):
    path = tmp_path / "year-end.json"
    path.write_text(json.dumps(YEAR_END, ensure_ascii=False), encoding="utf-8")
    code, out, err = cli("evaluate", str(path), "--json")
    assert code == 0, err
    body = json.loads(out)
    assert {"total", "grade", "by_level1", "rows", "findings"} <= set(body)
    assert body["total"] == 79.27 and body["grade"] == "中"
    assert all({"row", "name", "score", "max", "reason"} <= set(r) for r in body["rows"])
    assert [(f["id"], f["row"], f["excess"]) for f in body["findings"]] == [
        ("C15", 1, 1.25), ("C15", 3, 10.0), ("C15", 5, 4.0), ("C15", None, 15.25)]
    code, out, _ = cli("evaluate", str(path))
    assert code == 0 and "自评得分：79.27分（中）" in out and "[C15 自评一致性]" in out


def test_cli_refuses_what_it_cannot_score(cli, tmp_path):
    t = copy.deepcopy(YEAR_END)
    t["indicators"][1]["actual"] = ""
    path = tmp_path / "missing.json"
    path.write_text(json.dumps(t, ensure_ascii=False), encoding="utf-8")
    code, out, err = cli("evaluate", str(path), "--json")
    assert code != 0 and out == "" and "第2行没有填写实际完成值" in err and "Traceback" not in err
    odd = tmp_path / "table.csv"
    odd.write_text("x", encoding="utf-8")
    code, _, err = cli("monitor", str(odd))
    assert code != 0 and "只能读取 .json 或 .xlsx" in err


# --- API ---------------------------------------------------------------------------------------------

def test_api_monitor_and_evaluate(read_client):
    resp = read_client.post("/api/v1/targets/monitor", json=ROAD)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert [w["kind"] for w in resp.get_json()["warnings"]] == ["spending_ahead", "late", "unreachable"]
    resp = read_client.post("/api/v1/targets/monitor?as_of=2024-07-31&tolerance=0.45", json=ROAD)
    assert resp.get_json()["as_of"] == "2024-07-31"
    resp = read_client.post("/api/v1/targets/evaluate", json=YEAR_END)
    assert resp.status_code == 200 and resp.get_json()["total"] == 79.27
    assert resp.get_json()["findings"][-1]["excess"] == 15.25


def test_api_takes_the_xlsx_with_its_monitoring_sheet(read_client):
    data = write_table(load_table(ROAD))
    resp = read_client.post("/api/v1/targets/monitor", data={"file": (io.BytesIO(data), "监控.xlsx")},
                            content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["execution_rate"] == 0.75


def test_api_bad_input_is_422_in_chinese(read_client):
    body = assert_error(read_client.post("/api/v1/targets/monitor", json={"project": {"name": "某项目"}}), 422)
    assert "截至日期" in body["message"]
    t = copy.deepcopy(YEAR_END)
    t["indicators"][0]["actual"] = "优"
    body = assert_error(read_client.post("/api/v1/targets/evaluate", json=t), 422)
    assert "实际完成值“优”不是数字" in body["message"]
    assert_error(read_client.post("/api/v1/targets/monitor?tolerance=5", json=ROAD), 422)
    assert_error(read_client.post("/api/v1/targets/evaluate", data="{", content_type="application/json"), 400)


def test_api_keys_apply_as_to_the_check(app, client):
    app.config["REQUIRE_API_KEY"] = True
    assert_error(client.post("/api/v1/targets/evaluate", json=YEAR_END), 401)
    ok = client.post("/api/v1/targets/evaluate", json=YEAR_END, headers=bearer(make_key(app, "suggest")))
    assert ok.status_code == 200


# --- the /draft page's twins -----------------------------------------------------------------------------

def test_draft_page_monitors_and_evaluates(read_client):
    token = csrf_token(read_client)
    resp = read_client.post("/draft/monitor.json", json=ROAD, headers={"X-CSRFToken": token})
    assert resp.status_code == 200 and resp.get_json()["warnings"]
    resp = read_client.post("/draft/evaluate.json", json=YEAR_END, headers={"X-CSRFToken": token})
    assert resp.status_code == 200 and resp.get_json()["grade"] == "中"
    bad = read_client.post("/draft/evaluate.json", json={"project": {"name": "某项目"}}, headers={"X-CSRFToken": token})
    assert bad.status_code == 422 and "无法自评打分" in bad.get_json()["message"]
    assert read_client.post("/draft/monitor.json", json=ROAD).status_code in (400, 403)  # no CSRF token


# --- .xlsx: columns, the 监控表 sheet, a unit filling it in -----------------------------------------------------

def test_xlsx_round_trip_keeps_actuals_scores_and_dates():
    table = load_table(copy.deepcopy(YEAR_END))
    assert read_table(write_table(table)).to_dict() == table.to_dict()


def test_monitoring_sheet_is_filled_from_the_monitoring():
    wb = load_workbook(io.BytesIO(write_table(load_table(ROAD))))
    ws = wb[MONITOR_SHEET]
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    header = next(r for r in rows if r[0] == "一级指标")
    assert header == ("一级指标", "二级指标", "三级指标", "年度目标值", "1–6月实际完成值", "预计全年完成值", "偏差原因", "完成目标可能性")
    body = {r[2]: r for r in rows[rows.index(header) + 1:]}
    assert body["养护里程"][3] == "≥120公里" and body["养护里程"][4] == 40
    assert body["养护里程"][5] == "80.44公里" and body["养护里程"][7] == "完全不可能"
    assert body["养护工程验收合格率"][7] == "确定能"
    assert body["汛前整治完成时间"][7] == "完全不可能"  # past its deadline
    assert body["群众满意度"][4] is None and body["群众满意度"][7] is None  # not yet measured
    assert ("预算执行率", None, "75.0%") == tuple(next(r for r in rows if r[0] == "预算执行率")[:3])


def test_a_unit_fills_the_monitoring_sheet_of_a_plain_target_table():
    plain = copy.deepcopy(ROAD)
    for r in plain["indicators"]:
        r.pop("actual")
    for key in ("budget_executed_wan_yuan", "as_of"):
        plain["project"].pop(key)
    wb = load_workbook(io.BytesIO(write_table(load_table(plain))))
    ws = wb[MONITOR_SHEET]
    labels = {ws.cell(row=r, column=1).value: r for r in range(1, 12)}
    ws.cell(row=labels["已执行资金（万元）"], column=3, value=300)
    ws.cell(row=labels["截至日期"], column=3, value="2024年6月30日")
    first = labels["一级指标"] + 1
    assert ws.cell(row=first, column=5).value is None and ws.cell(row=labels["一级指标"], column=5).value == "1–  月实际完成值"
    ws.cell(row=first, column=5, value="55公里")
    ws.cell(row=first + 2, column=5, value="2024-05-30")
    buffer = io.BytesIO()
    wb.save(buffer)
    table = read_table(buffer.getvalue())
    assert table.project.budget_executed_wan_yuan == 300 and table.project.as_of == "2024-06-30"
    assert [r.actual for r in table.indicators] == ["55公里", "", "2024-05-30", "", "", ""]
    from kb.targets.monitoring import monitor

    res = monitor(table)
    assert res.execution_rate == 0.375 and res.warnings == []


# --- the check runs C15 when a table claims scores -----------------------------------------------------------

def test_check_reports_c15_and_says_when_it_cannot():
    from kb.targets.check import check

    found = [f for f in check(load_table(copy.deepcopy(YEAR_END))).findings if f.rule == "C15"]
    assert [f.row for f in found] == [1, 3, 5, None]
    t = copy.deepcopy(YEAR_END)
    t["project"].pop("budget_executed_wan_yuan")
    found = [f for f in check(load_table(t)).findings if f.rule == "C15"]
    assert len(found) == 1 and "无法核对" in found[0].message

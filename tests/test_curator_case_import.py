"""Importing cases from the curators' workspace: upload → preview (the cases read, new or changed, errors
by sheet row) → confirm → in the draft, all or nothing; a stale preview is refused."""
from __future__ import annotations

import io
import json


from kb import db as kbdb
from kb.library import draft as library
from tests.test_curator import cur, web_app  # noqa: F401

CASE = {"code": "CASE-TEST-901", "name": "某县2024年农村公路养护", "region": "湖南省某县", "province": "湖南",
        "year": 2024, "sector": "210", "table_kind": "目标表",
        "rows": [{"level1": "产出指标", "level2": "数量指标", "name": "养护里程", "operator": "≥", "value": "120",
                  "unit": "公里"}],
        "source": {"document": "某县2024年项目支出绩效目标表", "url": "https://example.gov.cn/t/1"},
        "provenance": "verbatim", "certainty": "verified"}


def _upload(client, data: bytes, name: str, **fields):
    return client.post("/curator/cases/import/preview",
                       data={"file": (io.BytesIO(data), name), **fields}, content_type="multipart/form-data")


def _draft_cases(app) -> dict:
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        return {c.code: c for c in library.draft_records(s, "case")}


def _hidden(html: str, name: str) -> str:
    import re
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def test_preview_then_confirm_adds_the_cases(cur, web_app):  # noqa: F811
    body = json.dumps({"cases": [CASE]}, ensure_ascii=False).encode()
    resp = _upload(cur, body, "案例.json")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "CASE-TEST-901" in html and "新增" in html
    assert "CASE-TEST-901" not in _draft_cases(web_app)  # a preview writes nothing
    form = {k: _hidden(html, k) for k in ("upload", "digest")}
    resp = cur.post("/curator/cases/import/apply", data=form)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/curator/cases")
    assert _draft_cases(web_app)["CASE-TEST-901"].name == "某县2024年农村公路养护"
    assert "新增 1 个案例" in cur.get("/curator/cases").get_data(as_text=True)


def test_a_broken_file_is_refused_whole_with_its_rows_named(cur, web_app):  # noqa: F811
    broken = {**CASE, "code": "CASE-TEST-902", "rows": [{"level1": "产出指标", "level2": "数量指标", "value": "3"}]}
    body = json.dumps({"cases": [{**CASE, "code": "CASE-TEST-903"}, broken]}, ensure_ascii=False).encode()
    resp = _upload(cur, body, "案例.json")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "未导入任何案例" in html and "CASE-TEST-902" in html
    assert not {"CASE-TEST-902", "CASE-TEST-903"} & set(_draft_cases(web_app))


def test_a_workbook_without_its_source_and_a_bad_year_say_what_to_fill_in(cur):  # noqa: F811
    from tests.test_target_layouts import LAYOUTS

    workbook = LAYOUTS[0].data()  # 临翔's published 自评表 layout
    resp = _upload(cur, workbook, "目标表.xlsx", code="CASE-TEST-904")
    assert resp.status_code in (400, 422) and "来源网址" in resp.get_data(as_text=True)
    resp = _upload(cur, workbook, "目标表.xlsx", code="CASE-TEST-904", url="https://x.gov.cn/1", year="二〇二四")
    assert resp.status_code == 422 and "应为四位年份" in resp.get_data(as_text=True)


def test_a_preview_made_stale_by_another_edit_is_not_applied(cur, web_app):  # noqa: F811
    body = json.dumps({"cases": [{**CASE, "code": "CASE-TEST-905"}]}, ensure_ascii=False).encode()
    html = _upload(cur, body, "案例.json").get_data(as_text=True)
    form = {k: _hidden(html, k) for k in ("upload", "digest")}
    with kbdb.session(web_app.extensions["zhibiao.engine"]) as s:  # meanwhile, someone adds the same case
        library.create_record(s, "case", {**CASE, "code": "CASE-TEST-905", "name": "别人先录入的"}, user="他人")
        s.commit()
    resp = cur.post("/curator/cases/import/apply", data=form)
    assert resp.status_code == 409 and "已有变化" in resp.get_data(as_text=True)
    assert _draft_cases(web_app)["CASE-TEST-905"].name == "别人先录入的"


def test_a_published_workbook_becomes_a_case(cur, web_app):  # noqa: F811
    from tests.test_target_layouts import LAYOUTS

    resp = _upload(cur, LAYOUTS[0].data(), "自评表.xlsx", code="CASE-TEST-906", url=LAYOUTS[0].url, region="云南省临沧市临翔区")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "马鹿坑国有林场" in html and "自评表" in html, html[-2000:]
    resp = cur.post("/curator/cases/import/apply", data={k: _hidden(html, k) for k in ("upload", "digest")} |
                    {"code": "CASE-TEST-906", "url": LAYOUTS[0].url, "region": "云南省临沧市临翔区"})
    assert resp.status_code == 302
    case = _draft_cases(web_app)["CASE-TEST-906"]
    assert case.actuals and case.source["url"] == LAYOUTS[0].url and case.region == "云南省临沧市临翔区"


def test_login_is_needed(web_app):  # noqa: F811
    resp = web_app.test_client().get("/curator/cases/import")
    assert resp.status_code == 302 and "/curator/login" in resp.headers["Location"]

"""The case library: real target tables as versioned content, what similar
cases add to a recommendation, and leave-source-out."""
from __future__ import annotations

import json

import pytest
import yaml

from kb.targets import cases as case_library
from kb.library import draft as library, snapshot, versions
from kb.targets.check import check
from kb.errors import InvalidInput
from kb.paths import INDICATORS_DIR
from kb.targets.recommend import recommend

SEEDED_CASES = sum(len(yaml.safe_load(p.read_text(encoding="utf-8"))["cases"])
                   for p in sorted((INDICATORS_DIR / "cases").glob("*.yaml")))

CASE = {
    "code": "CASE-T-001", "name": "某县麻风病防治经费", "sector": "", "region": "某县", "year": 2023,
    "rows": [{"level1": "产出指标", "level2": "数量指标", "name": "麻风病线索调查人数", "operator": "≥", "value": "100", "unit": "人"}],
    "source": {"document": "某县2023年项目支出绩效目标表", "url": "http://example.gov.cn/a.html"},
    "provenance": "verbatim", "certainty": "verified",
}


def test_seeded_cases_are_published_and_exported_with_their_sources(seeded_db):
    ref = versions.resolve(seeded_db)
    published = versions.records(seeded_db, "case", ref)
    assert len(published) == SEEDED_CASES >= 30
    doc = versions.export_library(seeded_db, ref)
    assert len(doc["cases"]) == SEEDED_CASES
    assert all(c["source"]["url"].startswith("http") and c["rows"] for c in doc["cases"])
    assert ref.counts.get("case") == SEEDED_CASES


def test_cases_are_checked_like_every_write(library):
    with pytest.raises(InvalidInput) as info:
        library_create(library, {**CASE, "sector": "999"})
    assert "不存在的功能分类“999”" in str(info.value.problems)
    with pytest.raises(InvalidInput) as info:
        library_create(library, {**CASE, "rows": [{**CASE["rows"][0], "indicator": "NO-SUCH"}]})
    assert "不存在的指标“NO-SUCH”" in str(info.value.problems)
    with pytest.raises(InvalidInput) as info:
        library_create(library, {**CASE, "rows": []})
    assert "1–500" in str(info.value.problems)
    code = library.exec(_first_indicator()).first()
    with pytest.raises(InvalidInput) as info:
        library_create(library, {**CASE, "code": code})
    assert "已被指标使用" in str(info.value.problems)
    library_create(library, CASE)
    versions.publish(library, "2024.2")
    assert [c.code for c in versions.records(library, "case", versions.resolve(library))] == ["CASE-T-001"]


def library_create(session, raw):
    return library.create_record(session, "case", raw, user="test")


def _first_indicator():
    from sqlmodel import select

    from kb.models import Indicator
    return select(Indicator.code).order_by(Indicator.code).limit(1)


# --- recommending from cases ------------------------------------------------------------------------

# Projects nobody transcribed, one per sector, with the case the library holds for such a project.
PROJECTS = [
    ({"name": "某县麻风病防治经费", "description": "开展麻风病线索调查和密切接触者检查，对现症病人规范治疗", "sector": "卫生健康"},
     "CASE-210-001"),
    ({"name": "区科技创新专项资金", "description": "支持高新技术企业培育和科技成果转化", "sector": "科技"}, "CASE-206-002"),
    ({"name": "特殊教育学校补助资金", "description": "改善特殊教育学校办学条件", "sector": "教育"}, "CASE-205-002"),
    ({"name": "禁毒工作经费", "description": "禁毒宣传和吸毒人员管控", "sector": "公共安全"}, "CASE-204-001"),
    ({"name": "村干部基本报酬补助", "description": "保障在职村干部基本报酬和村级组织运转", "sector": "农林水"}, "CASE-213-004"),
    ({"name": "雾炮车抑尘作业服务采购", "description": "购买雾炮车道路抑尘降尘服务", "sector": "城乡社区"}, "CASE-212-001"),
    ({"name": "春节慰问困难群众经费", "description": "春节走访慰问困难群众和优抚对象", "sector": "社会保障与就业"}, "CASE-208-003"),
    ({"name": "地震监测与防震减灾经费", "description": "地震监测台网运行和防震减灾宣传", "sector": "灾害防治及应急管理"},
     "CASE-224-001"),
    ({"name": "标准化工作补助资金", "description": "支持企业参与制定标准和标准化试点", "sector": "一般公共服务"}, "CASE-201-002"),
    ({"name": "瓶装液化气改管道燃气工程", "description": "老旧小区瓶改管工程", "sector": "住房保障"}, "CASE-221-001"),
]


@pytest.fixture
def suggest(seeded_db, search_index):
    def _suggest(project):
        return recommend(seeded_db, search_index, project)
    return _suggest


def test_similar_cases_are_named_and_feed_the_suggestions(suggest, seeded_db):
    """Ten projects of ten 类, on one seeded library (building it and its index per project cost 80 s)."""
    snap = snapshot.load(seeded_db)
    for project, case in PROJECTS:
        name = project["name"]
        rec = suggest(project)
        assert case in [c.case.code for c in rec.similar], (name, [c.label for c in rec.similar])
        top = rec.top(20)
        assert any(s.kind == "specific" and s.matched for s in top), f"{name}: no specific indicator with its words in the first 20"
        fed = [s for s in rec.indicators if case in s.cases]
        assert fed, f"{name}: no suggestion comes from the similar case"
        assert all("相似案例" in s.reason for s in fed), name
        # no specific indicator of an unrelated 类 among the first 20
        own = rec.sector[:3]
        for s in top:
            if s.kind == "specific":
                assert any(code[:3] == own for code in snap.by_code[s.code].sectors), (name, s.name, snap.by_code[s.code].sectors)
        # the similar cases explain themselves: the shared words or scope
        best = rec.similar[0]
        assert best.words or best.reasons, name
        payload = rec.to_dict()
        assert payload["similar_cases"][0]["code"] == best.case.code and payload["similar_cases"][0]["source_url"], name
        # and the drafted table still passes the check
        assert not check(rec.to_table(), seeded_db).errors, name


def test_leave_source_out_removes_the_pages_own_indicators_and_cases(suggest, seeded_db):
    snap = snapshot.load(seeded_db)
    leprosy = next(c for c in snap.cases if c.code == "CASE-210-001")
    url = leprosy.source["url"]
    reduced, indicators, cases = case_library.leave_source_out(snap, url.replace("http://", "https://").upper())
    assert cases == 1 and "CASE-210-001" not in {c.code for c in reduced.cases}
    assert all(case_library.source_key(i.source.get("url", "")) != case_library.source_key(url) for i in reduced.indicators)
    assert len(reduced.indicators) == len(snap.indicators) - indicators
    from kb.targets.recommend import recommend_from

    project = PROJECTS[0][0]
    from kb.targets.schema import load_project
    rec = recommend_from(reduced, None, load_project(project))
    assert "CASE-210-001" not in [c.case.code for c in rec.similar]
    assert not any("CASE-210-001" in s.cases for s in rec.indicators)
    # an address the library does not hold leaves the snapshot as it is
    assert case_library.leave_source_out(snap, "http://nowhere.example/x")[0] is snap


def _rows(values, unit, operator="≥"):
    return [case_library.CaseRow(i, "项目验收合格率", ("产出指标", "质量指标"), operator, v, unit, "") for i, v in enumerate(values)]


def test_values_from_cases_carry_their_count_and_never_reuse_counts():
    from kb.targets.recommend import _case_value

    rates = case_library.summarise_values(_rows(["95", "100", "98"], "%"))
    assert rates.median == 98 and rates.portable and "相似案例 3 个" in rates.note() and "95–100%" in rates.note()
    use = case_library.CaseUse("名:x", "项目验收合格率", ("产出指标", "质量指标"), 1.0, [], _rows(["95", "100", "98"], "%"))
    value = _case_value(use)
    assert value.value == "98" and value.unit == "%" and "3 个" in value.note
    # another county's head counts are not this project's target
    counts = case_library.CaseUse("名:y", "培训人次", ("产出指标", "数量指标"), 1.0, [], _rows(["300", "1200"], "人次"))
    assert _case_value(counts) is None and "相似案例 2 个" in counts.values.note()


@pytest.mark.parametrize("level1,level2,name,dims", [
    ("社会公众或服务对象满意度指标", "", "群众满意度", ("满意度指标", "服务对象满意度指标")),
    ("产出指标", "成本指标", "人均补助", ("成本指标", "经济成本指标")),
    ("产出", "数量", "培训人次", ("产出指标", "数量指标")),
    ("效益指标", "环境效益指标", "空气质量", ("效益指标", "生态效益指标")),
    ("", "", "培训人次", None),
])
def test_printed_levels_are_placed_in_the_template(level1, level2, name, dims):
    assert case_library.template_dims(level1, level2, name) == dims


# --- the command line and the API -----------------------------------------------------------------------

@pytest.fixture
def run(seeded_db, cli):
    """The command line on the seeded library (published as 2024.1)."""
    return cli


def test_cases_import_list_show_round_trip_a_real_layout_workbook(run, tmp_path):
    from importers.target_xlsx import write_table
    from kb.targets.schema import load_table

    table = load_table({"project": {"name": "某县森林防火专项经费", "description": "购置防火物资，开展巡护", "sector": "21302",
                                    "budget_wan_yuan": 35},
                        "goal": "全年不发生重大森林火灾。",
                        "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "防火巡护次数", "operator": "≥", "value": "120", "unit": "次"},
                                       {"level1": "效益指标", "level2": "社会效益指标", "name": "森林火灾受害率", "operator": "≤", "value": "0.9", "unit": "‰"},
                                       {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "群众满意度", "operator": "≥", "value": "90", "unit": "%"}]})
    path = tmp_path / "目标表.xlsx"
    write_table(table, path)
    code, out, err = run("cases", "import", str(path), "--dry-run")
    assert code == 1 and "--code" in err
    args = ("cases", "import", str(path), "--code", "CASE-T-100", "--url", "http://example.gov.cn/fire.html",
            "--region", "某县", "--year", "2024")
    code, out, err = run(*args, "--dry-run")
    assert code == 0 and "试运行" in out, err
    code, out, err = run("cases", "show", "CASE-T-100", "--version", "draft")
    assert code == 1 and "CASE-T-100" in err
    code, out, err = run(*args, "--json")
    assert code == 0 and json.loads(out)["added"] == ["CASE-T-100"], err
    code, out, err = run("cases", "show", "CASE-T-100", "--version", "draft", "--json")
    case = json.loads(out)["case"]
    assert [(r["name"], r["operator"], r["value"], r["unit"]) for r in case["rows"]] == [
        (r.name, r.operator, r.value, r.unit) for r in table.indicators]
    assert case["goal"] == table.goal and case["budget_wan_yuan"] == 35 and case["source"]["url"] == "http://example.gov.cn/fire.html"
    code, out, err = run("cases", "list", "森林防火", "--version", "draft")
    assert code == 0 and "CASE-T-100" in out
    # importing the same file again changes nothing
    code, out, err = run(*args)
    assert code == 0 and "新增 0 个案例，修改 0 个，未变 1 个" in out, err


def test_a_broken_case_file_is_refused_whole_with_row_errors(run, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("案例编码,项目名称,功能分类,来源网址,一级指标,二级指标,三级指标,指标值,度量单位\n"
                    "CASE-T-201,某县禁毒经费,204,http://example.gov.cn/1.html,产出指标,数量指标,禁毒宣传次数,12,次\n"
                    "CASE-T-202,某县辅警经费,9999,http://example.gov.cn/2.html,产出指标,数量指标,辅警人数,30,人\n"
                    "CASE-T-203,,204,http://example.gov.cn/3.html,产出指标,数量指标,,30,人\n", encoding="utf-8")
    code, out, err = run("cases", "import", str(path), "--json")
    body = json.loads(out)
    assert code == 1 and not body["applied"] and "未导入任何案例" in err
    messages = " ".join(f"{e['where']} {e['field']} {e['message']}" for e in body["errors"])
    assert "CASE-T-202" in messages and "功能分类编码" in messages
    assert "CASE-T-203" in messages and "缺少必填项" in messages
    code, out, err = run("cases", "list", "--version", "draft", "--json")
    assert json.loads(out)["total"] == SEEDED_CASES  # nothing of the file was written


def test_cases_api_lists_searches_and_shows(seeded_app_client):
    client = seeded_app_client
    body = client.get("/api/v1/cases?per_page=5").get_json()
    assert body["total"] == SEEDED_CASES and len(body["results"]) == 5
    body = client.get("/api/v1/cases?q=麻风").get_json()
    assert [c["code"] for c in body["results"]] == ["CASE-210-001"]
    assert client.get("/api/v1/cases?sector=213").get_json()["total"] >= 5
    one = client.get("/api/v1/cases/CASE-210-001").get_json()["case"]
    assert one["rows"] and one["source"]["url"]
    resp = client.get("/api/v1/cases/CASE-NOPE")
    assert resp.status_code == 404 and "CASE-NOPE" in resp.get_json()["message"]
    resp = client.get("/api/v1/cases?sector=abc")
    assert resp.status_code == 422 and "功能分类编码" in json.dumps(resp.get_json(), ensure_ascii=False)


@pytest.fixture
def seeded_app_client(seeded_db, make_app):
    return make_app().test_client()


def test_stats_count_cases_by_sector_province_and_year(run):
    code, out, err = run("stats", "--json")
    cases = json.loads(out)["cases"]
    assert code == 0 and cases["total"] == SEEDED_CASES and sum(cases["by_sector"].values()) == SEEDED_CASES
    assert sum(cases["by_province"].values()) == SEEDED_CASES and sum(cases["by_year"].values()) == SEEDED_CASES
    code, out, err = run("stats")
    assert f"案例: {SEEDED_CASES} 张表" in out and "案例·省份" in out


def test_no_case_is_seeded_from_a_dev_tables_page():
    """The evaluation's tables stay unseen: no seeded case comes from the page a dev table was read from."""
    dev_dir = INDICATORS_DIR.parent / "bench" / "data" / "dev"
    dev = {case_library.source_key(json.loads(p.read_text(encoding="utf-8"))["source"].get("url", ""))
           for p in dev_dir.glob("*.json")}
    assert len(dev) >= 40
    seeded = [(c["code"], case_library.source_key(c["source"].get("url", "")))
              for p in sorted((INDICATORS_DIR / "cases").glob("*.yaml"))
              for c in yaml.safe_load(p.read_text(encoding="utf-8"))["cases"]]
    assert [code for code, url in seeded if url in dev] == []


def test_curator_lists_searches_and_reads_cases(app, client):
    from tests.test_curator import db, login, make_user

    with db(app) as s:
        library.create_record(s, "case", {**CASE, "name": "某县麻风病防治经费<script>"}, user="test")
        library.create_record(s, "case", {**CASE, "code": "CASE-T-002", "name": "某县禁毒经费",
                                          "source": {**CASE["source"], "url": "http://example.gov.cn/b.html"}}, user="test")
    assert client.get("/curator/cases").status_code in (302, 401)
    app.config["WTF_CSRF_ENABLED"] = False
    make_user(app, "维护员")
    assert login(client).status_code == 302
    page = client.get("/curator/cases").get_data(as_text=True)
    assert "CASE-T-001" in page and "CASE-T-002" in page and "<script>" not in page
    page = client.get("/curator/cases?q=禁毒").get_data(as_text=True)
    assert "CASE-T-002" in page and "CASE-T-001" not in page
    page = client.get("/curator/cases/CASE-T-001").get_data(as_text=True)
    assert "麻风病线索调查人数" in page and "http://example.gov.cn/a.html" in page
    resp = client.get("/curator/cases/CASE-NOPE")
    assert resp.status_code == 404 and "CASE-NOPE" in resp.get_data(as_text=True)


def test_check_judges_relevance_with_the_cases(seeded_db):
    from kb.targets.schema import load_table

    project = {"name": "某县麻风病防治经费", "description": "开展麻风病线索调查和密切接触者检查，对现症病人规范治疗",
               "sector": "21004", "budget_wan_yuan": 5}
    related = [
        {"level1": "产出指标", "level2": "数量指标", "name": "麻风病线索调查人数", "operator": "≥", "value": "100", "unit": "人"},
        # no word of the project, but the published leprosy table of 广元市昭化区 has it
        {"level1": "产出指标", "level2": "质量指标", "name": "宣传教育覆盖率", "operator": "≥", "value": "90", "unit": "%"},
        {"level1": "产出指标", "level2": "时效指标", "name": "项目完成时间", "operator": "≤", "value": "12月31日前", "unit": "日期"},
        {"level1": "成本指标", "level2": "经济成本指标", "name": "项目总成本", "operator": "≤", "value": "5", "unit": "万元"},
        {"level1": "效益指标", "level2": "社会效益指标", "name": "现症病人规范治疗率", "operator": "≥", "value": "95", "unit": "%"},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "群众满意度", "operator": "≥", "value": "90", "unit": "%"},
    ]
    unrelated = [
        {"level1": "产出指标", "level2": "数量指标", "name": "高标准农田建设面积", "operator": "≥", "value": "1000", "unit": "亩"},
        {"level1": "产出指标", "level2": "数量指标", "name": "公路养护里程", "operator": "≥", "value": "10", "unit": "公里"},
        {"level1": "效益指标", "level2": "社会效益指标", "name": "图书馆借阅人次", "operator": "≥", "value": "1000", "unit": "人次"},
    ]
    goal = "年内完成麻风病线索调查100人，现症病人规范治疗率不低于95%。"
    clean = check(load_table({"project": project, "goal": goal, "indicators": related}), seeded_db)
    assert not [f for f in clean.findings if f.rule == "C09" and f.row], [f.message for f in clean.findings if f.rule == "C09"]
    mixed = check(load_table({"project": project, "goal": goal, "indicators": related + unrelated}), seeded_db)
    flagged = [f for f in mixed.findings if f.rule == "C09" and f.severity == "warning" and f.row]
    assert sorted(f.row for f in flagged) == [7, 8, 9]
    assert mixed.grade != "优" and not mixed.errors


def test_dashboard_lists_what_several_cases_use_and_the_library_lacks(app, client):
    from urllib.parse import quote

    from tests.test_curator import db, login, make_user

    row = {"level1": "产出指标", "level2": "数量指标", "name": "禁毒宣传进校园场次", "operator": "≥", "value": "12", "unit": "场"}
    only = {1: "戒毒人员帮教人数", 2: "缉毒犬训练天数"}
    with db(app) as s:
        for n, url in ((1, "http://example.gov.cn/1.html"), (2, "http://example.gov.cn/2.html")):
            library.create_record(s, "case", {**CASE, "code": f"CASE-T-01{n}", "name": f"某县禁毒经费{n}",
                                              "rows": [row, {**row, "name": only[n]}],
                                              "source": {**CASE["source"], "url": url}}, user="test")
    app.config["WTF_CSRF_ENABLED"] = False
    make_user(app, "维护员")
    assert login(client).status_code == 302
    page = client.get("/curator/plan/dashboard").get_data(as_text=True)
    section = page[page.index("data-demand"):]
    assert "禁毒宣传进校园场次" in section and "≥ 12 场" in section
    assert "戒毒人员帮教人数" not in section and "缉毒犬训练天数" not in section  # one case each
    assert quote("禁毒宣传进校园场次") in section  # one click to a new indicator with the name filled in


@pytest.mark.parametrize("name,description,subsidy", [
    ("急救中心运行补助", "保障120急救调度和院前急救运行", False),
    ("博物馆纪念馆免费开放补助资金", "保障博物馆正常运转和免费开放", False),
    ("基本公共卫生服务补助资金", "开展预防接种、慢病管理", False),
    ("困难群众生活补助", "按标准向困难群众发放生活补助", True),
    ("人民陪审员参审补助", "", True),
    ("普通高中国家助学金", "", True),  # 助学金 says it by itself
])
def test_a_subsidy_type_needs_the_people_it_pays(seeded_db, name, description, subsidy):
    from kb.targets.project import detect_types
    from kb.targets.table import Project

    types = [m.code for m in detect_types(Project(name=name, description=description), snapshot.load(seeded_db).project_types)]
    assert ("PT-BZ" in types) == subsidy, types


@pytest.mark.parametrize("name,description,meeting", [
    ("全市卫生健康工作座谈会", "", True),
    ("岗位补贴资金", "依据县联席会议工作组的通知发放", False),
    ("培训及会议经费", "", True),
    ("学术交流经费", "举办全省学术年会一次", True),
])
def test_a_meeting_type_needs_a_meeting_held(seeded_db, name, description, meeting):
    from kb.targets.project import detect_types
    from kb.targets.table import Project

    types = [m.code for m in detect_types(Project(name=name, description=description), snapshot.load(seeded_db).project_types)]
    assert ("PT-HY" in types) == meeting, types


def test_curator_edits_a_case_row_by_row(app, client):
    from tests.test_curator import db, login, make_user

    with db(app) as s:
        library.create_record(s, "case", CASE, user="test")
    app.config["WTF_CSRF_ENABLED"] = False
    make_user(app, "维护员")
    assert login(client).status_code == 302
    page = client.get("/curator/cases/CASE-T-001/edit").get_data(as_text=True)
    assert "产出指标 | 数量指标 | 麻风病线索调查人数 | ≥ | 100 | 人" in page
    form = {"revision": "1", "name": "某县麻风病防治经费", "source_document": CASE["source"]["document"],
            "source_url": CASE["source"]["url"], "year": "2023", "budget_wan_yuan": "5", "expenditure_type": "项目",
            "table_kind": "自评表", "provenance": "verbatim", "certainty": "verified", "actuals": "1",
            "rows": "产出指标 | 数量指标 | 麻风病线索调查人数 | ≥ | 100 | 人 | 96\n"
                    "满意度指标 | 服务对象满意度指标 | 群众满意度 | ≥ | 90 | %"}
    resp = client.post("/curator/cases/CASE-T-001/edit", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with db(app) as s:
        saved = library.draft_record(s, "case", "CASE-T-001")
        assert saved.revision == 2 and saved.table_kind == "自评表" and saved.actuals and saved.budget_wan_yuan == 5
        assert [(r["name"], r.get("actual", "")) for r in saved.rows] == [("麻风病线索调查人数", "96"), ("群众满意度", "")]
    # a row that is not a row, a budget that is not a number: 422, nothing saved
    bad = client.post("/curator/cases/CASE-T-001/edit", data={**form, "revision": "2", "budget_wan_yuan": "五万",
                                                              "rows": "只有两格 | 100"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "应为 3–8 格" in text and "五万" in text
    # a stale revision: 409, the input kept, a second save overwrites on purpose
    stale = client.post("/curator/cases/CASE-T-001/edit", data={**form, "name": "改名甲"})
    assert stale.status_code == 409 and "已被他人修改" in stale.get_data(as_text=True) and "改名甲" in stale.get_data(as_text=True)
    assert client.post("/curator/cases/CASE-T-001/edit", data={**form, "name": "改名甲", "revision": "2"}).status_code == 302
    with db(app) as s:
        assert library.draft_record(s, "case", "CASE-T-001").name == "改名甲"


@pytest.mark.parametrize("name,description,present,absent", [
    # "采购" of a service is 政府购买服务类, not 购置类
    ("城区道路洒水降尘服务", "采购洒水车降尘作业服务，服务期一年", ["PT-GM"], ["PT-GZ"]),
    ("视频监控中心机房租赁服务采购项目", "租赁机柜40个，已完成招标采购，租赁期三年", ["PT-GM"], ["PT-GZ"]),
    # goods bought, even when a 服务机构 receives them
    ("免疫规划疫苗采购", "采购乙肝、流感等疫苗以采购价供应乡镇卫生服务机构", ["PT-GZ"], ["PT-GM"]),
    ("学校图书采购", "", ["PT-GZ"], []),
    # "工程" names a programme as often as works: alone it needs works described
    ("平安乡村工程视频专网租赁", "租用运营商专线，保障视频图像传输", [], ["PT-JS"]),
    ("校舍安全工程", "对3栋教学楼进行抗震加固", ["PT-JS"], []),
])
def test_purchased_services_goods_and_works_are_told_apart(seeded_db, name, description, present, absent):
    from kb.targets.project import detect_types
    from kb.targets.table import Project

    types = [m.code for m in detect_types(Project(name=name, description=description), snapshot.load(seeded_db).project_types)]
    assert all(t in types for t in present) and not any(t in types for t in absent), types


def test_place_names_and_form_fields_are_not_search_terms(suggest):
    rec = suggest({"name": "再生资源回收网点管理经费", "sector": "216",
                   "description": "项目类别 (31)部门预算项目；归口科室 (08)经济贸易科；实施单位 石嘴山市大武口区供销合作社；"
                                  "规范全市再生资源回收网点"})
    assert "再生资源" in "".join(rec.terms) or "回收" in rec.terms, rec.terms
    for junk in ("嘴山", "石嘴山", "大武口", "武口", "贸易", "科室", "类别"):
        assert not any(junk in t for t in rec.terms), (junk, rec.terms)


def test_a_far_weaker_case_of_another_sector_adds_nothing(suggest):
    """A 基本公共卫生 project's own cases are close; a 托育 case sharing a few words is far behind them,
    and its rows (托位, 照护服务机构) are not suggested on its word alone."""
    rec = suggest({"name": "2024年国家基本公共卫生服务项目资金", "sector": "21004",
                   "description": "开展居民健康档案管理、预防接种、0～6岁儿童健康管理、孕产妇健康管理、老年人健康管理服务"})
    assert rec.similar and rec.similar[0].score >= 0.3, [(c.label, c.score) for c in rec.similar]
    names = [s.name for s in rec.top(20)]
    assert not any("托位" in n or "照护" in n for n in names), names
    assert any("健康管理" in n for n in names), names


def test_a_service_bought_gets_no_goods_indicators_nor_passing_word_matches(suggest):
    rec = suggest({"name": "城区雾炮车抑尘作业服务", "sector": "21205", "budget_wan_yuan": 120,
                   "description": "采购雾炮车抑尘作业服务，8台雾炮车用于重污染天气时段城区环卫作业"})
    assert [t.code for t in rec.project_types][:1] == ["PT-GM"], [t.reason for t in rec.project_types]
    names = [s.name for s in rec.top(20)]
    assert not any(n in names for n in ("购置数量", "验收入库时间", "单位购置成本")), names
    assert "雾炮车风炮射程" in names, names
    # 作业 shared in passing is no evidence for street sweeping or refuse transport, even far down the list
    # (环卫, the word the project uses for its own work, is: 环卫清扫保洁单价 of its own 款 may fill the cost
    # group, never the top 20)
    assert not any("清扫" in n or "垃圾" in n for n in names), names
    for s in rec.indicators:
        if "清扫" in s.name or "垃圾" in s.name:
            # matched through a term of 环卫 (环卫, 环卫作业), never through 作业 or a place word alone
            assert any("环卫" in t for t in s.matched) and s.name not in names, (s.name, s.reason)


def test_consumables_bought_get_no_equipment_indicators(suggest):
    rec = suggest({"name": "免疫规划疫苗采购", "sector": "21004", "budget_wan_yuan": 200,
                   "description": "采购乙肝、流感、狂犬病疫苗，供预防接种门诊使用"})
    assert "PT-GZ" in [t.code for t in rec.project_types]
    names = [s.name for s in rec.top(20)]
    assert "购置数量" in names and not any("设备" in n for n in names), names

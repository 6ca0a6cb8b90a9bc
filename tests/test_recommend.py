"""kb.targets.recommend: concrete projects from several sectors get every required
dimension, the right quota standards and estimate; the drafted table passes
the check; the answer is deterministic; bad projects are refused clearly."""
from __future__ import annotations

import json

import pytest

from kb.targets.check import check
from kb.dimensions import dimensions
from kb.errors import KbError
from kb.targets.project import detect_types
from kb.targets.recommend import recommend
from kb.targets.schema import load_project
from kb.targets.table import Project
from tests.conftest import BACKENDS, shared_library, targets_library
from tests.target_helpers import TRAINING_PROJECT

PROJECTS = {
    "hospital": {"name": "市中心医院医疗设备购置项目", "description": "购置CT、彩超等医疗设备12台（套），提高大型医用设备检查质量",
                 "sector": "公立医院", "budget_wan_yuan": 800},
    "training": TRAINING_PROJECT,
    "public_health": {"name": "基本公共卫生服务补助", "description": "按辖区常住人口50万人补助国家基本公共卫生服务，开展居民健康档案管理、预防接种",
                      "sector": "基本公共卫生服务", "budget_wan_yuan": 4450},
    "farmland": {"name": "2024年高标准农田建设项目", "description": "新建高标准农田1.2万亩，配套灌溉排水、田间道路工程，提高粮食产能",
                 "sector": "农田建设", "department": "农业农村部门", "budget_wan_yuan": 3600},
    "meeting": {"name": "全市卫生健康工作座谈会", "description": "召开座谈会1次，50人，1天", "sector": "卫生健康", "budget_wan_yuan": 3},
}


@pytest.fixture(scope="module", params=BACKENDS)
def shared(request, templates, tmp_path_factory):
    """The fixture library and the recommend/check overlay, and its index, for the whole module:
    recommending and checking only read the library."""
    yield from shared_library(request.param, targets_library, templates, tmp_path_factory)


@pytest.fixture
def lib(shared):
    return shared[0]


@pytest.fixture
def suggest(shared):
    session, index = shared

    def _suggest(project):
        return recommend(session, index, project)
    return _suggest


def _codes(rec) -> set[str]:
    return {s.code for s in rec.indicators}


def _required_dims():
    for level in dimensions().target_levels:
        for level2 in level.required:
            yield level.level1, level2


@pytest.mark.parametrize("key", PROJECTS)
def test_every_required_dimension_has_candidates_and_the_table_passes_the_check(lib, suggest, key):
    rec = suggest(PROJECTS[key])
    assert rec.missing_dimensions == []
    dims = {(s.level1, s.level2) for s in rec.indicators}
    assert set(_required_dims()) <= dims
    assert any(level1 == "效益指标" for level1, _ in dims)
    assert all(s.reason and s.operator for s in rec.indicators)
    table = rec.to_table()
    result = check(table, lib)
    assert result.errors == [], [(f.rule, f.message) for f in result.errors]
    assert result.grade in ("优", "良")


def test_training(suggest):
    rec = suggest(PROJECTS["training"])
    assert rec.project_types[0].code == "PT-PX" and rec.project_types[0].given
    # common indicators of the type come first in their dimension
    quantity = next(g for g in rec.groups if g.level2 == "数量指标")
    assert quantity.suggestions[0].code in {"GX-PX-001", "GX-PX-002", "T-004"}
    by_code = {s.code: s for s in rec.indicators}
    assert by_code["GX-PX-002"].suggested_value == "160"  # 2 期 × 80 人
    assert by_code["GX-PX-006"].suggested_value == "2750" and "550" in by_code["GX-PX-006"].basis_note
    assert [m.quota.code for m in rec.quotas if m.selected] == ["Q-PXF-2016-3", "Q-JKF-2016-1"]
    assert rec.estimate.total_yuan == 550 * 5 * 80 * 2


def test_meeting(suggest):
    rec = suggest(PROJECTS["meeting"])
    assert rec.project_types[0].code == "PT-HY"
    assert [m.quota.code for m in rec.quotas if m.selected] == ["Q-T-1"]
    assert rec.estimate.total_yuan == 27500 and rec.estimate.lines[0].formula == "550 × 1 × 50"
    by_code = {s.code: s for s in rec.indicators}
    assert by_code["GX-HY-006"].suggested_value == "550"  # 人均会议成本: 550 元/人·天 × 1 天
    assert by_code["GX-HY-001"].suggested_value == "1"


def test_public_health_subsidy(suggest):
    rec = suggest(PROJECTS["public_health"])
    # money per resident passed to the health institutions, not paid to people: not 补助补贴发放类
    assert "PT-BZ" not in [t.code for t in rec.project_types]
    assert {"S21004-002", "S21004-003"} <= _codes(rec)
    assert [m.quota.code for m in rec.quotas if m.selected] == ["Q-JBGW-2023"]
    assert rec.estimate.total_wan_yuan == 4450  # 89 元 × 50 万人
    built = next(s for s in rec.indicators if s.code == "S21004-002")
    assert "匹配" in built.reason and "公共卫生" in built.reason


def test_farmland(suggest):
    rec = suggest(PROJECTS["farmland"])
    assert rec.project_types[0].code == "PT-JS"
    by_code = {s.code: s for s in rec.indicators}
    area = by_code["S21301-001"]
    assert (area.suggested_value, area.unit) == ("12000", "亩")
    assert "高标准农田" in area.reason and "农田建设" in area.reason
    assert by_code["S21301-006"].suggested_value == "100" and by_code["S21301-006"].basis == "行业标准"
    assert by_code["GX-TY-005"].suggested_value == "3600"  # 项目总成本 = 批复预算
    assert rec.quotas == [] and rec.estimate is None
    table = rec.to_table()
    assert "S21301-001" in {r.code for r in table.indicators}


def test_hospital_equipment(suggest):
    rec = suggest(PROJECTS["hospital"])
    assert rec.project_types[0].code == "PT-GZ"
    by_code = {s.code: s for s in rec.indicators}
    assert (by_code["GX-GZ-001"].suggested_value, by_code["GX-GZ-001"].unit) == ("12", "台")
    assert "YY3-011" in by_code and "公立医院" in by_code["YY3-011"].reason
    # specific indicators of other sectors are not offered for a hospital
    assert not any(s.code.startswith("S21301") for s in rec.indicators)


def test_deterministic_and_json_shape(suggest):
    first = suggest(PROJECTS["farmland"]).to_dict()
    second = suggest(PROJECTS["farmland"]).to_dict()
    assert json.dumps(first, ensure_ascii=False) == json.dumps(second, ensure_ascii=False)
    assert {"version", "project", "indicators", "quotas", "estimate"} <= set(first)
    assert {"code", "name", "level1", "level2", "kind", "score", "reason", "operator", "suggested_value", "unit"} <= set(first["indicators"][0])
    meeting = suggest(PROJECTS["meeting"]).to_dict()
    assert {"code", "name", "tier", "unit", "amount", "source"} <= set(meeting["quotas"][0])
    assert meeting["estimate"]["total_yuan"] == 27500


def test_project_type_detection_by_keywords():
    types = {"PT-HY": type("T", (), {"code": "PT-HY", "name": "会议类", "keywords": ["会议", "座谈会"]})(),
             "PT-PX": type("T", (), {"code": "PT-PX", "name": "培训类", "keywords": ["培训", "培训班"]})()}
    assert [m.code for m in detect_types(Project(name="全市工作座谈会"), types)] == ["PT-HY"]
    assert [m.code for m in detect_types(Project(name="财务人员培训", description="会后培训"), types)][0] == "PT-PX"
    assert detect_types(Project(name="道路维修"), types) == []


@pytest.mark.parametrize("project,words", [
    ({"description": "没有名称"}, "名称"),
    ({"name": "某项目", "project_type": "不存在的类别"}, "未知的项目类别"),
    ({"name": "某项目", "budget_wan_yuan": "五百块"}, "预算金额"),
    ({"name": "某项目", "colour": "red"}, "未知字段"),
])
def test_bad_projects_are_refused_with_a_clear_error(suggest, project, words):
    with pytest.raises(KbError) as info:
        suggest(project)
    assert words in info.value.message + " ".join(str(p) for p in info.value.problems)


@pytest.mark.parametrize("sector", ["不存在的行业", "999"])
def test_an_unknown_sector_is_a_warning_not_a_failure(suggest, sector):
    rec = suggest({"name": "全市卫生健康工作座谈会", "description": "召开座谈会1次，50人，1天", "sector": sector})
    assert rec.sector is None and rec.indicators
    assert len(rec.warnings) == 1 and "未知的行业" in rec.warnings[0] and sector in rec.warnings[0]
    assert rec.to_dict()["warnings"] == rec.warnings


@pytest.mark.parametrize("typed,code", [("社会保障与就业", "208"), ("社会保障和就业支出", "208"), ("卫生", "210"),
                                        ("科技", "206"), ("灾害防治与应急管理", "224"), ("基本公共卫生", "2100408")])
def test_sectors_are_read_as_people_write_them(lib, typed, code):
    from kb.library import snapshot

    snap = snapshot.load(lib)
    if code not in snap.sectors:
        pytest.skip(f"the fixture library has no sector {code}")
    assert snap.resolve_sector(typed) == code


def test_project_loads_from_json_shape():
    p = load_project({"name": "某项目", "budget_wan_yuan": "1,200"})
    assert p.budget_wan_yuan == 1200 and p.expenditure_type == "项目"


# --- the command line ----------------------------------------------------------------------------

@pytest.fixture
def run(cli, tmp_path):
    from tests.target_helpers import merged_library_dir

    runner = cli
    assert runner("init", "--from", str(merged_library_dir(tmp_path)), "--label", "2024.1")[0] == 0
    return runner


def test_cli_suggest(run, tmp_path):
    from importers.target_xlsx import read_table

    code, out, err = run("suggest", "--name", "全市卫生健康工作座谈会", "--description", "召开座谈会1次，50人，1天",
                         "--sector", "卫生健康", "--budget", "3", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["version"] == "2024.1" and body["estimate"]["total_yuan"] == 27500
    assert body["quotas"][0]["code"] == "Q-T-1" and body["indicators"][0]["reason"]
    table = tmp_path / "草稿.xlsx"
    code, out, err = run("suggest", "--name", "2024年高标准农田建设项目", "--description", "新建高标准农田1.2万亩",
                         "--sector", "农田建设", "--budget", "3600", "--table", str(table))
    assert code == 0 and "高标准农田建设面积" in out and "已写出" in out, err
    assert "S21301-001" in {r.code for r in read_table(table).indicators}


def test_cli_suggest_refuses_bad_input_in_one_line(run):
    for args, words in [(("--name", "某项目", "--budget", "很多"), "预算金额"),
                        (("--name", "某项目", "--table", "x.csv"), ".xlsx"),
                        (("--description", "没有名称"), "--name")]:
        code, _, err = run("suggest", *args)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code != 0 and len(lines) == 1 and words in lines[0] and "Traceback" not in err, (args, err)


@pytest.mark.parametrize("key", PROJECTS)
def test_recommended_table_breaks_the_cost_down_to_money(lib, suggest, key):
    rec = suggest(PROJECTS[key])
    table = rec.to_table()
    result = check(table, lib)
    assert not [f for f in result.findings if f.rule == "C13" and "未细化" in f.message], key
    if rec.project.budget_wan_yuan:
        assert any(r.level1 == "成本指标" and r.unit in ("万元", "元") for r in table.indicators), key


def test_total_cost_row_is_the_library_indicator(seeded_db, search_index):
    session = seeded_db
    rec = recommend(session, search_index, {"name": "市中心医院购置CT设备", "description": "购置64排CT一台",
                                                   "sector": "210", "budget_wan_yuan": 800})
    rows = [r for r in rec.to_table().indicators if r.unit == "万元" and r.level1 == "成本指标"]
    assert rows and rows[0].code == "GX-TY-005" and rows[0].value == "800"
    assert all(r.code for r in rec.to_table().indicators)


class _NoScan(list):
    """A library whose indicators may not be walked: a request that scans the
    whole library costs 25 ms at 100k indicators, for every suggest."""
    def __iter__(self):
        raise AssertionError("recommend walked the whole library during a request")


def test_suggest_and_check_requests_do_not_walk_the_whole_library(lib, tmp_path):
    from kb.library import snapshot
    from kb.targets.recommend import recommend_from
    from kb.search import open_index

    snap = snapshot.load(lib)
    opened = open_index(lib, tmp_path / "index", snap.version.label)
    projects = [load_project(p) for p in PROJECTS.values()]
    expected = [recommend_from(snap, opened, p) for p in projects]  # fills the per-snapshot memos
    grades = [check(r.to_table(), lib).grade for r in expected]
    snap.indicators = _NoScan(snap.indicators)
    snap.rows = _NoScan(snap.rows)  # the light rows scans go over (kb.library.snapshot)
    assert snapshot.load(lib) is snap  # the cached snapshot, which check reads too
    again = [recommend_from(snap, opened, p) for p in projects]
    assert [_codes(r) for r in again] == [_codes(r) for r in expected]
    assert [check(r.to_table(), lib).grade for r in again] == grades


def test_places_renamed_since_the_dictionary_and_the_forms_words_are_not_search_terms(seeded_db, search_index):
    """梁平县 became 梁平区 (2016; jieba's dictionary knows the county), and 部门整体支出 is the form's
    name for a department's budget: neither says what the money does."""
    from kb.targets.places import strip_places

    assert strip_places("重庆市梁平区林业局").strip() == "林业局"
    assert strip_places("自然保护区管护与社区服务").strip() == "自然保护区管护与社区服务"
    rec = recommend(seeded_db, search_index, {"name": "重庆市梁平区林业局部门整体支出",
                                              "description": "天然林和公益林管护、森林防火", "sector": "林业和草原",
                                              "expenditure_type": "部门整体"})
    assert not {"梁平", "部门整体支出", "整体支出", "部门整体"} & set(rec.terms)
    assert {"公益林", "天然林"} <= set(rec.terms)


def test_indicators_about_people_the_project_does_not_name_are_not_suggested(seeded_db, search_index):
    """非国有博物馆… measures non-state museums, 流动人口中…肺结核患者… the TB programme's migrants: a city museum's
    free opening and a basic public-health subsidy serve neither, unless their text says so."""
    museum = {"name": "博物馆纪念馆免费开放补助资金", "description": "保障城市博物馆正常运转和免费开放", "sector": "20702"}
    names = [s.name for s in recommend(seeded_db, search_index, museum).indicators]
    assert any("博物馆" in n for n in names), names
    assert not any("非国有" in n for n in names), names
    private = dict(museum, description="扶持非国有博物馆免费开放")
    assert any("非国有" in s.name for s in recommend(seeded_db, search_index, private).indicators)


def test_one_shared_two_character_word_is_weak_evidence(seeded_db, search_index):
    """邀请 (invited teachers) is what a party-school class shares with a people's congress's 邀请代表列席常委会会议人次:
    not enough to place it among the class's first 20; a four-character term (健康管理) still is."""
    school = {"name": "主体班", "sector": "201",
              "description": "中共黄石市委党校主体班干部教育培训：主体班培训、邀请校外名师和领导授课、情景教学或外训、开设课程"}
    names = [s.name for s in recommend(seeded_db, search_index, school).top(20)]
    assert "邀请代表列席常委会会议人次" not in names, names
    health = {"name": "2024年国家基本公共卫生服务项目资金", "sector": "21004",
              "description": "开展居民健康档案管理、预防接种、0～6岁儿童健康管理、孕产妇健康管理、老年人健康管理服务"}
    assert any("健康管理" in s.name for s in recommend(seeded_db, search_index, health).top(20))

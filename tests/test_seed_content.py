"""The seeded library in indicators/: complete, sourced, and publishable."""
from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from importers import seed
from kb.library import gates, versions
from kb.dimensions import dimensions
from kb.errors import InvalidInput
from kb.paths import INDICATORS_DIR

SECTOR_FILES = {
    "health.yaml": "卫生健康",
    "education.yaml": "教育",
    "agriculture.yaml": "农业农村",
    "social-security.yaml": "社会保障和就业",
    "urban-community.yaml": "城乡社区",
    "forestry.yaml": "林业和生态",
    "culture.yaml": "文化旅游体育与传媒",
    "transport.yaml": "交通运输",
    "general-public-services.yaml": "一般公共服务",
    "water.yaml": "水利",
}
# the types whose common set covers every target dimension; PT-KF and PT-HD have no sourced cost
# indicator of their own (their tables give none), so a project of theirs takes 项目总成本 from GX-TY
PROJECT_TYPES = ("PT-GZ", "PT-PX", "PT-HY", "PT-WZ", "PT-XXH", "PT-JS", "PT-BZ", "PT-GM", "PT-XC", "PT-YZ",
                 "PT-ZF", "PT-JC")


@pytest.fixture(scope="module")
def seeded():
    library = seed.read_directory()
    assert library.problems == [], "\n".join(map(str, library.problems[:20]))
    return library


@pytest.fixture(scope="module")
def indicators(seeded):
    return {i["code"]: i for i in seeded.batch.items["indicator"]}


def test_seed_library_passes_validation_and_publish_gates(seeded_db, indicators):
    # seeded_db is a copy of the template that seed.load_into and versions.publish built for this run (tests/conftest.py:
    # seeded_library): loading the library again here would only repeat them
    assert gates.check_draft(seeded_db) == []
    version = versions.resolve(seeded_db)
    assert version.label == "2024.1" and version.counts["indicator"] == len(indicators) > 3000


def test_every_item_has_source_and_provenance(seeded):
    for kind in ("indicator", "quota", "system"):
        for item in seeded.batch.items[kind]:
            assert item["source"]["document"], item["code"]
            assert item["provenance"] in ("verbatim", "adapted", "local"), item["code"]
            assert item["certainty"] in ("verified", "likely", "uncertain"), item["code"]


def test_tertiary_hospital_indicators_are_55_with_26_national(indicators):
    official = [i for c, i in indicators.items() if c.startswith("YY3-") and int(c[4:]) <= 55]
    assert len(official) == 55
    assert sum(1 for i in official if i["national_monitoring"]) == 26
    assert sum(1 for i in official if i["qualitative"]) == 5
    assert {i["level1"] for i in official} == {"医疗质量", "运营效率", "持续发展", "满意度评价"}
    assert len({(i["level1"], i["level2"]) for i in official}) == 14
    assert indicators["YY3-006"]["name"] == "出院患者四级手术比例"


def test_secondary_hospital_indicators_are_28_with_21_national(indicators):
    official = [i for c, i in indicators.items() if c.startswith("YY2-")]
    assert len(official) == 28
    assert sum(1 for i in official if i["national_monitoring"]) == 21


def test_hospital_indicators_have_a_place_in_a_target_table(indicators):
    target_level1 = dimensions().target_level1
    for code, i in indicators.items():
        if code.startswith(("YY3-", "YY2-")):
            level1 = i["target_level1"] or i["level1"]
            assert level1 in target_level1, code


def _check_weights(nodes, expected, path):
    total = sum(n["weight"] for n in nodes)
    assert abs(total - expected) < 1e-6, f"{path}: {total} != {expected}"
    for n in nodes:
        if n.get("children"):
            _check_weights(n["children"], n["weight"], f"{path}/{n['name']}")
        else:
            assert n.get("indicator") and n.get("scoring_rule"), f"{path}: leaf without indicator or scoring rule"


def test_public_hospital_system_weights_sum_to_100_at_every_level(seeded, indicators):
    systems = {s["code"]: s for s in seeded.batch.items["system"]}
    hospital = systems["SYS-YYZT"]
    assert hospital["name"] == "公立医院整体支出绩效评价指标体系"
    _check_weights(hospital["nodes"], 100, hospital["name"])
    for leaf in gates.system_leaves(hospital["nodes"]):
        assert leaf["indicator"] in indicators


def test_every_listed_sector_has_at_least_20_specific_indicators(seeded):
    per_file = Counter()
    for code, location in seeded.batch.locations.items():
        kind, _ = code
        if kind == "indicator" and location.startswith("sectors/"):
            per_file[location.split()[0].removeprefix("sectors/")] += 1
    for filename, sector in SECTOR_FILES.items():
        assert per_file[filename] >= 20, f"{sector} ({filename}) has {per_file[filename]}"


def test_each_project_type_set_covers_all_target_dimensions(indicators):
    by_type = defaultdict(set)
    for i in indicators.values():
        if i["kind"] == "common":
            for pt in i["project_types"]:
                by_type[pt].add((i["target_level1"] or i["level1"], i["target_level2"] or i["level2"]))
    for pt in PROJECT_TYPES:
        dims = by_type[pt]
        level1s = {d[0] for d in dims}
        for needed in (("产出指标", "数量指标"), ("产出指标", "质量指标"), ("产出指标", "时效指标"),
                       ("满意度指标", "服务对象满意度指标")):
            assert needed in dims, (pt, needed)
        assert "成本指标" in level1s and "效益指标" in level1s, pt


def test_every_quota_standard_has_a_document_and_an_effective_date(seeded):
    quotas = {q["code"]: q for q in seeded.batch.items["quota"]}
    assert quotas, "no quota standards"
    for q in quotas.values():
        assert q["source"]["document"] and q["effective_date"], q["code"]
    meeting = quotas["Q-HYF-2016-3"]
    assert meeting["amount"] == 550 and sum(i["amount"] for i in meeting["items"]) == 550
    assert quotas[meeting["supersedes"]]["status"] == "superseded"


def test_plan_covers_three_years(seeded):
    assert [y["year"] for y in seeded.plan_years] == [2024, 2025, 2026]
    sector_milestones = [m for m in seeded.milestones if m["sector"]]
    assert sector_milestones and all(m["target_count"] > 0 for m in sector_milestones)
    assert {m["sector"][:3] for m in sector_milestones} >= {"210", "205", "213", "208", "212", "207", "214", "201"}


def test_synonyms_are_loaded(seeded):
    groups = seeded.batch.items["text"][0]["data"]["groups"]
    assert any({"患者", "病人"} <= set(g) for g in groups)


# --- the loader refuses bad content --------------------------------------------------

@pytest.fixture
def broken_copy(tmp_path):
    """The library without its sector indicators and cases (the bulk of it, and growing): what these
    refusals exercise is the loader, which reads every folder the same way."""
    target = tmp_path / "indicators"
    shutil.copytree(INDICATORS_DIR, target, ignore=lambda folder, names: [
        n for n in names if Path(folder).name in ("sectors", "cases") and n.endswith(".yaml")])
    assert not seed.read_directory(target).problems  # sound before each test spoils it
    return target


def _write(path, doc):
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def test_loader_refuses_missing_source(broken_copy):
    _write(broken_copy / "sectors" / "zz-bad.yaml", {"provenance": "local", "indicators": [
        {"code": "ZZ-001", "kind": "specific", "level1": "产出指标", "level2": "数量指标", "name": "测试指标", "sectors": ["210"]}]})
    problems = seed.read_directory(broken_copy).problems
    assert any(p.field == "source" for p in problems)


def test_loader_refuses_duplicate_code(broken_copy):
    _write(broken_copy / "sectors" / "zz-bad.yaml", {"source": {"document": "测试"}, "provenance": "local", "indicators": [
        {"code": "GX-XM-001", "kind": "common", "level1": "决策", "level2": "项目立项", "name": "重复编码"}]})
    problems = seed.read_directory(broken_copy).problems
    assert any("重复" in p.message for p in problems)


def test_loader_refuses_unknown_sector_code(broken_copy, session):
    _write(broken_copy / "sectors" / "zz-bad.yaml", {"source": {"document": "测试"}, "provenance": "local", "indicators": [
        {"code": "ZZ-001", "kind": "specific", "level1": "产出指标", "level2": "数量指标", "name": "测试指标", "sectors": ["29999"]}]})
    with pytest.raises(InvalidInput) as refused:  # refused as it is written, not only at publish
        seed.load_into(session, broken_copy)
    assert any("29999" in str(p) for p in refused.value.problems)


def test_loader_refuses_system_weights_not_summing_to_100(broken_copy, session):
    path = broken_copy / "systems" / "public-hospital.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["nodes"][0]["weight"] += 5
    _write(path, doc)
    seed.load_into(session, broken_copy)
    assert any("权重" in str(p) for p in gates.check_draft(session))


def test_the_fast_yaml_loader_reads_the_library_as_the_safe_loader_does():
    for path in sorted(INDICATORS_DIR.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=seed._SAFE_LOADER) == yaml.safe_load(text), path
    bad = "a: [1, 2\nb: c"
    with pytest.raises(yaml.YAMLError):
        yaml.load(bad, Loader=seed._SAFE_LOADER)

"""Shared by the recommend / check / quota tests: the fixture library with the
target-table overlay (tests/fixtures/targets), and a clean training table."""
from __future__ import annotations

import copy
from pathlib import Path

from kb.library import versions
from tests.conftest import load_fixture_library

TARGETS_OVERLAY = Path(__file__).parent / "fixtures" / "targets"


def load_targets_library(session):
    """The base fixture library plus the overlay, published as 2024.1."""
    load_fixture_library(session)
    load_fixture_library(session, TARGETS_OVERLAY)
    versions.publish(session, "2024.1", notes="targets fixture")
    return session


TRAINING_PROJECT = {
    "name": "2024年全市基层卫生人员业务培训",
    "description": "举办三类培训班2期，每期80人，每期5天",
    "sector": "公共卫生",
    "department": "卫生健康委员会",
    "project_type": "培训",
    "budget_wan_yuan": 45,
}

_GOOD_TABLE = {
    "project": TRAINING_PROJECT,
    "goal": "年内举办基层卫生人员业务培训班2期，培训160人次，培训合格率不低于90%，受训学员满意度不低于90%。",
    "indicators": [
        {"level1": "产出指标", "level2": "数量指标", "name": "培训参加人数", "operator": "≥", "value": "160", "unit": "人"},
        {"level1": "产出指标", "level2": "数量指标", "name": "组织培训班次", "operator": "≥", "value": "2", "unit": "次"},
        {"level1": "产出指标", "level2": "质量指标", "name": "培训合格率", "operator": "≥", "value": "90", "unit": "%"},
        {"level1": "产出指标", "level2": "时效指标", "name": "培训计划完成时间", "operator": "≤", "value": "12月31日前", "unit": "日期"},
        {"level1": "成本指标", "level2": "经济成本指标", "name": "人均培训成本", "operator": "≤", "value": "2750", "unit": "元"},
        {"level1": "成本指标", "level2": "经济成本指标", "name": "项目总成本", "operator": "≤", "value": "45", "unit": "万元"},
        {"level1": "效益指标", "level2": "社会效益指标", "name": "基层卫生人员业务能力", "operator": "定性", "value": "达到预期", "unit": ""},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "受训学员满意度", "operator": "≥", "value": "90", "unit": "%"},
    ],
}


def good_table() -> dict:
    """A complete, quantified training table that passes every rule (a fresh copy to mutate)."""
    return copy.deepcopy(_GOOD_TABLE)


def merged_library_dir(tmp_path) -> Path:
    """The base fixture library and the overlay in one folder, for `zhibiao init --from`."""
    import shutil

    from tests.conftest import FIXTURE_LIBRARY

    target = tmp_path / "library"
    shutil.copytree(FIXTURE_LIBRARY, target)
    for path in TARGETS_OVERLAY.rglob("*.yaml"):
        rel = path.relative_to(TARGETS_OVERLAY)
        dest = target / rel.parent / f"targets-{rel.name}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
    return target

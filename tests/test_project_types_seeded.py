"""The project types of the seeded library: each type added in 2026 (场馆免费开放, 文体活动赛事,
监管执法, 检验检测抽检; then 贷款贴息与融资担保, 编外聘用人员经费, 企业扶持补助, 物资储备, 招商引资,
监测预报) is detected from a realistic project name and gets its own common set suggested; its
keywords do not take the first place from the types that already owned a project."""
from __future__ import annotations

from collections import defaultdict

import pytest

from kb.library import snapshot
from kb.targets.project import detect_types
from kb.targets.recommend import recommend_from
from kb.targets.schema import load_project
from kb.targets.table import Project

NEW_TYPES = {
    "PT-KF": {"name": "博物馆纪念馆免费开放补助资金", "description": "保障市博物馆、纪念馆全年免费开放，举办临时展览和社教活动",
              "sector": "文物"},
    "PT-HD": {"name": "全市第十届全民健身运动会经费", "description": "举办全民健身运动会，设田径、游泳、篮球等比赛项目",
              "sector": "体育"},
    "PT-ZF": {"name": "市场监管执法办案经费", "description": "开展“双随机、一公开”随机抽查、专项执法检查和案件查办",
              "sector": "市场监督管理事务"},
    "PT-JC": {"name": "食品安全监督抽检经费", "description": "委托检验机构开展食品安全监督抽检和风险监测抽检",
              "sector": "市场监督管理事务"},
    "PT-TX": {"name": "2024年创业担保贷款贴息资金", "description": "对符合条件的个人和小微企业创业担保贷款给予财政贴息，支持重点群体创业就业",
              "sector": "普惠金融发展支出"},
    "PT-PY": {"name": "不动产登记中心外聘人员经费", "description": "支付外聘人员工资、社保缴纳、公积金和加班费，保障登记窗口正常运转",
              "sector": "21505"},
    "PT-QY": {"name": "中小企业发展专项资金", "description": "支持专精特新中小企业发展，扶持企业技术改造和市场开拓",
              "sector": "商业流通事务"},
    "PT-CB": {"name": "县级储备粮利息费用补贴", "description": "保障5000吨县级储备粮的贷款利息和保管费用，确保储备数量真实、质量良好",
              "sector": "粮油储备"},
    "PT-ZS": {"name": "投资促进专项经费", "description": "开展招商推介活动，推进招商引资项目签约落地",
              "sector": "涉外发展服务"},
    "PT-YB": {"name": "林业有害生物监测预报经费", "description": "开展松材线虫病等林业有害生物监测和预测预报，发布年度和半年趋势报告",
              "sector": "林业和草原"},
}

# projects that belonged to an older type keep it first
OLDER = [
    ("市中心医院医疗设备购置项目", "购置CT、彩超等医疗设备12台（套），提高大型医用设备检查质量", "PT-GZ"),
    ("执法车辆购置", "为综合行政执法大队购置执法车辆5辆", "PT-GZ"),
    ("图书馆资源购置和信息共享等专项经费", "购置图书、报刊和电子图书", "PT-GZ"),
    ("地震监测与防震减灾经费", "地震监测台网运行和防震减灾宣传", "PT-XC"),
    ("全市卫生健康工作座谈会", "召开座谈会1次，50人，1天", "PT-HY"),
    ("执法人员业务培训", "举办行政执法人员培训班2期", "PT-PX"),
    ("文化旅游节宣传推介活动", "开展旅游推介和宣传", "PT-XC"),
    # a reserve warehouse repaired, auxiliary police equipped: the works and the goods, not the reserve or the staff
    ("应急物资储备库维修改造工程", "对应急物资储备库屋面进行维修改造", "PT-JS"),
    ("辅警执法装备购置", "为辅警配备执法记录仪200台", "PT-GZ"),
    ("困难群众生活补助资金", "为城乡低保对象按月发放生活补助", "PT-BZ"),
]


# projects that also pay or build something: the new type comes first, the other is kept beside it
MIXED = [
    ("服务业发展专项资金企业奖补", "对年度新增规模以上服务业企业给予一次性奖励，兑现企业扶持政策", ["PT-QY", "PT-BZ"]),
    ("招商引资宣传推介会", "召开招商推介会1次，邀请客商100人", ["PT-ZS", "PT-XC"]),
]


@pytest.fixture
def snap(seeded_db):
    return snapshot.load(seeded_db)


def test_every_project_type_has_a_common_set_of_at_least_eight_with_sources(snap):
    by_type = defaultdict(list)
    for rec in snap.active_rows:
        if rec.kind == "common":
            for code in rec.project_types:
                by_type[code].append(snap.record(rec))
    assert len(snap.project_types) >= 20
    for code, ptype in snap.project_types.items():
        common = by_type[code]
        assert len(common) >= 8, (code, ptype.name, len(common))
        assert ptype.keywords, code
        for rec in common:
            assert rec.code.startswith("GX-") and rec.source.get("document"), rec.code
            assert {rec.level1, rec.target_dims[0]} & {"产出指标", "效益指标", "成本指标", "满意度指标"}, rec.code
        # every set has outputs and an outcome or satisfaction measure, not only one dimension
        level1s = {rec.target_dims[0] for rec in common}
        assert "产出指标" in level1s and level1s & {"效益指标", "满意度指标"}, (code, level1s)
    for code in NEW_TYPES:
        for rec in by_type[code]:
            assert rec.source.get("url"), rec.code  # a new set is traced to the page it was read on


@pytest.mark.parametrize("code", NEW_TYPES)
def test_a_new_type_is_detected_and_its_common_set_suggested(snap, code):
    raw = NEW_TYPES[code]
    found = detect_types(Project(name=raw["name"], description=raw["description"]), snap.project_types)
    assert found and found[0].code == code, [(m.code, m.keywords) for m in found]

    rec = recommend_from(snap, None, load_project(raw))
    assert rec.project_types[0].code == code
    assert rec.missing_dimensions == []
    name = snap.project_types[code].name
    own = {r.code for r in snap.active_rows if r.kind == "common" and code in r.project_types}
    suggested = [s for s in rec.indicators if s.code in own]
    # the type's set is offered, dimension by dimension, and says why
    assert {s.level2 for s in suggested} >= {snap.by_code[c].target_dims[1] for c in own} - {"经济成本指标"}, code
    assert all(f"{name}共性指标" in s.reason for s in suggested), [(s.code, s.reason) for s in suggested]
    # and no other type's set is offered as if it were this project's
    others = {r.code for r in snap.active_rows if r.kind == "common" and r.project_types and code not in r.project_types}
    assert not any(s.code in others and "共性指标" in s.reason and "其他类别" not in s.reason for s in rec.indicators)


@pytest.mark.parametrize("name,description,expected", OLDER)
def test_the_older_types_keep_their_projects(snap, name, description, expected):
    found = [m.code for m in detect_types(Project(name=name, description=description), snap.project_types)]
    assert found and found[0] == expected, found


@pytest.mark.parametrize("name,description,expected", MIXED)
def test_a_new_type_leads_a_project_it_shares(snap, name, description, expected):
    found = [m.code for m in detect_types(Project(name=name, description=description), snap.project_types)]
    assert found[:len(expected)] == expected, found

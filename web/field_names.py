"""Chinese names of record fields, for pages, forms, diffs and change logs of every
kind: the one label table (tests/test_field_lists.py checks every indicator field has one)."""
from __future__ import annotations

FIELD_NAMES = {
    "name": "指标名称", "level1": "一级指标", "level2": "二级指标", "definition": "指标解释", "formula": "计算公式",
    "unit": "计量单位", "operator": "指标性质", "direction": "指标方向", "qualitative": "定性", "kind": "指标类别",
    "target_level1": "目标表一级", "target_level2": "目标表二级", "reference_values": "参考值", "scoring_rule": "评分标准",
    "data_source": "数据来源", "national_monitoring": "国家监测指标", "sectors": "适用行业", "departments": "适用部门",
    "project_types": "项目类别", "keywords": "关键词", "status": "状态", "superseded_by": "替代指标", "source": "来源文件",
    "provenance": "来源性质", "certainty": "可靠程度", "note": "备注",
}


def field_label(kind: str, name: str) -> str:
    """FIELD_NAMES speaks of indicators; other kinds name their own fields first."""
    if kind == "indicator":
        return FIELD_NAMES.get(name) or OTHER_FIELD_NAMES.get(name, name)
    return OTHER_FIELD_NAMES.get(name) or FIELD_NAMES.get(name, name)


OTHER_FIELD_NAMES = {
    "nodes": "指标结构与权重", "description": "说明", "category": "类别", "amount": "金额", "tier": "档次", "items": "明细",
    "effective_date": "生效日期", "expiry_date": "失效日期", "published_date": "发布日期", "region": "地区", "scope": "适用范围",
    "standard_type": "标准类型", "control_mode": "控制方式", "adjustments": "调整说明", "conditions": "适用条件",
    "supersedes": "替代的标准", "level": "层级", "type": "部门类型", "data": "内容", "code": "编码", "name": "名称", "title": "名称",
    "year": "年度", "sector": "功能分类", "department": "部门", "project_type": "项目类别", "measure": "计数口径",
    "target_count": "目标数量", "due_date": "完成时限", "owner": "责任单位", "theme": "主题", "plan_name": "规划名称",
}

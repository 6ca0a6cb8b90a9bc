"""Words of a Chinese text, for relevance (check C09) and for picking a
project's discriminative terms (recommend): kb.text's analyzer in search mode,
so the words are the ones the search index holds (资金到位率 → 资金, 到位,
到位率, 资金到位率), normalised, stop words dropped."""
from __future__ import annotations

from functools import lru_cache

from kb.text import analyzer


@lru_cache(maxsize=8192)
def _cached(text: str) -> tuple[str, ...]:
    return tuple(analyzer().tokens(text))


def words(text: str, min_len: int = 2) -> list[str]:
    """Search-mode tokens of at least `min_len` characters, in order, repeats kept."""
    if not text:
        return []
    return [t for t in _cached(text) if len(t) >= min_len]


# words every indicator or project has; they do not tie an indicator to a project
GENERIC_WORDS = frozenset({
    "完成", "完成率", "数量", "质量", "时效", "时间", "及时", "及时率", "合格", "合格率", "达标", "达标率", "覆盖", "覆盖率",
    "指标", "项目", "工作", "任务", "计划", "满意", "满意度", "成本", "总成本", "资金", "支付", "效益", "提升", "情况",
    "水平", "人数", "次数", "个数", "服务", "对象", "社会", "经济", "效果", "影响", "可持续", "长效", "机制", "按时",
    "到位", "执行", "实施", "开展", "落实", "验收", "年度", "全年", "合计", "单位", "人均", "标准", "预算", "群众",
    "受益", "公众", "比例", "程度", "专项", "经费", "补助资金", "主要", "用于", "进行", "通过", "相关", "以上", "不低于",
    "部门整体支出", "整体支出", "部门整体",  # the form's name for a department's whole budget, not what it does
    "城区", "镇区", "辖区", "全市", "全县", "全区",  # where the work is done, not what it is
})

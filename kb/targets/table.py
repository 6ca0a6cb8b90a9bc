"""A 绩效目标表 (target table): a project, its 年度总体目标 and its indicator rows.

The JSON shape is DESIGN §9; kb/targets/schema.py validates it into these
classes and importers/target_xlsx.py reads and writes the same columns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from kb.dimensions import dimensions
from kb.numerals import to_number

EXPENDITURE_TYPES = ("项目", "部门整体")
# left out of the JSON when empty, so a plain target table keeps its DESIGN §9 shape
OPTIONAL_ROW_FIELDS = ("code", "basis", "actual", "self_score")
OPTIONAL_PROJECT_FIELDS = ("implementing_unit", "year", "fiscal_wan_yuan", "other_wan_yuan", "budget_executed_wan_yuan", "as_of")


def _fields(obj) -> dict:
    """A flat data class's fields (text and numbers only) as a dict: what dataclasses.asdict gives it, without
    its deep copy (a recommendation writes its drafted table on every suggest)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@dataclass
class Project:
    name: str
    description: str = ""
    sector: str = ""  # a 支出功能分类 code or name, as the drafter gives it
    department: str = ""
    project_type: str = ""  # a PT- code or a type name; detected from the text when empty
    budget_wan_yuan: float | None = None
    expenditure_type: str = "项目"
    # the 申报表's project block (optional): 实施单位, the budget year, and the 年度资金总额 (budget_wan_yuan) split
    implementing_unit: str = ""
    year: int | None = None
    fiscal_wan_yuan: float | None = None  # 其中：财政拨款
    other_wan_yuan: float | None = None  # 其他资金
    # monitoring and self-evaluation (optional): spent so far, and the date it was spent by (YYYY-MM-DD)
    budget_executed_wan_yuan: float | None = None
    as_of: str = ""

    def to_dict(self) -> dict:
        d = _fields(self)
        for key in OPTIONAL_PROJECT_FIELDS:
            if d[key] in ("", None):
                d.pop(key)
        return d

    @property
    def text(self) -> str:
        """Everything the drafter wrote about the project, for matching words."""
        return "\n".join(t for t in (self.name, self.description) if t)


@dataclass
class TargetRow:
    level1: str = ""
    level2: str = ""
    name: str = ""
    operator: str = ""
    value: str = ""
    unit: str = ""
    code: str = ""
    basis: str = ""  # 取值依据 (计划标准 | 行业标准 | 历史标准 | 其他标准), optional
    actual: str = ""  # 实际完成值 so far (monitoring) or for the year (self-evaluation), optional
    self_score: float | None = None  # the points the unit claims for the row in its self-evaluation

    @property
    def qualitative(self) -> bool:
        return self.operator == "定性"

    @property
    def target_text(self) -> str:
        """The target as a form prints it: "≥120公里", "2024年5月31日前", "明显改善" (no 定性 or empty operator)."""
        return f"{'' if self.operator in ('', '定性') else self.operator}{self.value}{self.unit}"


@dataclass
class TargetTable:
    project: Project
    goal: str = ""
    indicators: list[TargetRow] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The DESIGN §9 JSON shape (empty optional fields left out of rows)."""
        rows = []
        for r in self.indicators:
            d = _fields(r)
            for key in OPTIONAL_ROW_FIELDS:
                if d[key] in ("", None):
                    d.pop(key)
            rows.append(d)
        return {"project": self.project.to_dict(), "goal": self.goal, "indicators": rows}

    @property
    def has_actuals(self) -> bool:
        return any(r.actual for r in self.indicators)


# --- normalising what drafters type ---------------------------------------------------

_OPERATOR_ALIASES = {
    "≥": ("≥", ">=", "≧", "＞＝", "大于等于", "大于或等于", "不低于", "不少于", "不小于", "至少"),
    "≤": ("≤", "<=", "≦", "＜＝", "小于等于", "小于或等于", "不高于", "不超过", "不大于", "不多于", "至多"),
    "=": ("=", "＝", "等于", "=="),
    ">": (">", "＞", "大于", "高于", "多于"),
    "<": ("<", "＜", "小于", "低于", "少于"),
    "区间": ("区间", "范围", "介于"),
    "定性": ("定性", "定性指标", "定性描述"),
}
_OPERATOR_LOOKUP = {alias: symbol for symbol, aliases in _OPERATOR_ALIASES.items() for alias in aliases}
# longest first, so that ">=" is not read as ">" followed by "="
_LEADING_OPERATOR_RE = re.compile("^(" + "|".join(sorted(map(re.escape, _OPERATOR_LOOKUP), key=len, reverse=True)) + r")\s*")


def normalise_operator(text: str) -> str:
    """">=", "大于等于", "不低于" → "≥"; unknown text is returned stripped, for the check to report."""
    text = (text or "").strip()
    return _OPERATOR_LOOKUP.get(text, text)


# a date is not a number with a unit: "2024年5月31日前" is not 2024 of "年5月31日前"
# ("2021年底", "2025年内" too: a year's end is a date, not 2021 of "年底")
_DATE_START_RE = re.compile(r"^\d{2,4}\s*年\s*\d{1,2}\s*月|^\d{1,2}\s*月\s*\d{0,2}|^\d{4}[-/.]\d{1,2}"
                            r"|^(?:19|20)\d{2}\s*年\s*(?:底|末|内|前|初|中)")
_VALUE_RE = re.compile(r"^(-?\d[\d,]*(?:\.\d+)?)\s*([万亿]?)\s*(.*)$")


def split_value(text: str) -> tuple[str, str, str]:
    """A cell holding operator, value and unit together ("≥95%", "≤ 1650元") → (operator, value, unit).

    Only a value that starts with a number is split; anything else ("12月31日前",
    "达到预期") comes back as the value with no operator and no unit.
    """
    text = (text or "").strip()
    operator = ""
    m = _LEADING_OPERATOR_RE.match(text)
    if m and m.group(1) not in ("定性", "定性指标", "定性描述"):
        operator = _OPERATOR_LOOKUP[m.group(1)]
        text = text[m.end():]
    m = _VALUE_RE.match(text)
    if _DATE_START_RE.match(text) or not m or not m.group(3).strip() or len(m.group(3).strip()) > 12:
        return operator, text, ""
    number = m.group(1) + m.group(2)
    return operator, number, m.group(3).strip()


def canonical_levels(level1: str, level2: str) -> tuple[str, str]:
    """"产出" → "产出指标", "数量" → "数量指标" when that makes a known 101号 dimension;
    anything else is returned as typed, for the check to report."""
    dims = dimensions()
    level1, level2 = (level1 or "").strip(), (level2 or "").strip()
    if level1 not in dims.target_level1 and f"{level1}指标" in dims.target_level1:
        level1 = f"{level1}指标"
    known2 = dims.level2_of(level1)
    if level2 and level2 not in known2 and f"{level2}指标" in known2:
        level2 = f"{level2}指标"
    return level1, level2


def numeric_value(value: str) -> float | None:
    """The number a quantitative value states: "95", "95%", "1.2万", "1,200" (None for "12月31日前")."""
    text = (value or "").strip().rstrip("%％")
    return to_number(text)


_RANGE_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:-|~|～|—|至|到)\s*(-?\d+(?:\.\d+)?)\s*%?\s*$")


def range_value(value: str) -> tuple[float, float] | None:
    """"80-90", "80～90%" → (80, 90)."""
    m = _RANGE_RE.match(value or "")
    return (float(m.group(1)), float(m.group(2))) if m else None


def normalise_row(row: TargetRow) -> TargetRow:
    """Canonical operator and levels; an operator or unit written into the value cell is split out."""
    op, value, unit = row.operator, row.value, row.unit
    if not op or not unit:
        split_op, split_val, split_unit = split_value(value)
        if split_op and not op:
            op, value = split_op, split_val
        if split_unit and not unit and numeric_value(split_val) is not None:
            value, unit = split_val, split_unit
    level1, level2 = canonical_levels(row.level1, row.level2)
    return TargetRow(level1=level1, level2=level2, name=(row.name or "").strip(), operator=normalise_operator(op),
                     value=(value or "").strip(), unit=(unit or "").strip(), code=(row.code or "").strip(),
                     basis=(row.basis or "").strip(), actual=(row.actual or "").strip(), self_score=row.self_score)

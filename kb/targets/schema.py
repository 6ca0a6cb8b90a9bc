"""What a valid target table (绩效目标表) and project description are, as JSON
(DESIGN §9): marshmallow schemas that load into kb.targets.table' data classes.

Structure is validated here (a project with a name, numbers that are numbers);
what a reviewer would object to (missing dimensions, vague values …) is the
check's business, so rows accept empty cells.
"""
from __future__ import annotations

import copy

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, pre_load, validate

from kb.errors import InvalidInput, Problem
from kb.numerals import to_number, to_wan_yuan
from kb.schemas import flatten_messages
from kb.targets.table import EXPENDITURE_TYPES, Project, TargetRow, TargetTable, normalise_row

MAX_ROWS = 500

FIELD_NAMES = {
    "project": "项目信息",
    "name": "名称",
    "description": "项目概况",
    "sector": "行业/领域",
    "department": "部门",
    "project_type": "项目类别",
    "budget_wan_yuan": "预算金额（万元）",
    "expenditure_type": "支出类型",
    "goal": "年度总体目标",
    "indicators": "绩效指标",
    "level1": "一级指标",
    "level2": "二级指标",
    "operator": "指标性质",
    "value": "指标值",
    "unit": "计量单位",
    "code": "指标编码",
    "basis": "取值依据",
    "actual": "实际完成值",
    "self_score": "自评得分",
    "implementing_unit": "实施单位",
    "year": "预算年度",
    "fiscal_wan_yuan": "其中：财政拨款（万元）",
    "other_wan_yuan": "其他资金（万元）",
    "budget_executed_wan_yuan": "已执行资金（万元）",
    "as_of": "截至日期",
}


def _documented(kwargs: dict, doc: dict) -> dict:
    """A field's keyword arguments with `doc` as its metadata: what the OpenAPI document says the field takes
    (apispec copies these JSON Schema keywords as they are), beside the code that decides it."""
    return {**kwargs, "metadata": {**copy.deepcopy(doc), **kwargs.get("metadata", {})}}


# The amounts, years and points the document states: the forms a program writes. Written text is read more
# leniently still (八百万, 2025年度 …); what fits these is always taken.
AMOUNT_PATTERN = "^[0-9][0-9,]*(\\.[0-9]+)?(亿元|万元|千元|元|亿|万)?$"
EMPTY = {"type": "string", "maxLength": 0}


class Text(fields.Field):
    """A cell: text, or a number written as one (120000 → "120000"; workbooks hold numbers), or nothing.
    `numbers=False` takes text only (a name)."""

    default_error_messages = {"invalid": "Not a valid string."}

    def __init__(self, numbers: bool = True, **kwargs):
        doc = {"anyOf": [{"type": "string"}, {"type": "number"}]} if numbers else {"type": "string"}
        super().__init__(**_documented(kwargs, doc))  # null only where allow_none says so (apispec: nullable)
        self.numbers = numbers

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool) and self.numbers:
            return str(int(value)) if float(value).is_integer() else str(value)
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return value.strip()


class WanYuan(fields.Field):
    """An amount in 万元: 500, "500", "500万元", "1,200", "八百万", "1.2亿" (12000), "3000000元"; anything else is refused."""

    def __init__(self, label: str = "预算金额", **kwargs):
        super().__init__(**_documented(kwargs, {"anyOf": [
            {"type": "number", "minimum": 0}, {"type": "string", "pattern": AMOUNT_PATTERN}, EMPTY],
            "description": f"{label}（万元）：数字，或“800万元”“1.2亿”这样的文字"}))
        self.label = label

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise ValidationError(f"{self.label}应为数字（单位：万元）")
        if isinstance(value, (int, float)):
            number = float(value)
        else:
            number = to_wan_yuan(str(value))
            if number is None:
                raise ValidationError(f"{self.label}“{value}”不是金额：请写数字（单位：万元），如 800、800万元、1.2亿")
        if number < 0 or number != number or number in (float("inf"), float("-inf")):
            raise ValidationError(f"{self.label}应为不小于0的数字（单位：万元）")
        return number


class Points(fields.Field):
    """Points a unit claims: 8, "8", "8分"; anything else is refused."""

    def __init__(self, **kwargs):
        super().__init__(**_documented(kwargs, {"anyOf": [
            {"type": "number", "minimum": 0, "maximum": 100},
            {"type": "string", "pattern": "^(100(\\.0+)?|[0-9]{1,2}(\\.[0-9]+)?)分?$"}, EMPTY],
            "description": "自评得分（0–100 分）"}))

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise ValidationError("自评得分应为数字（分）")
        number = float(value) if isinstance(value, (int, float)) else to_number(str(value).strip().removesuffix("分").strip())
        if number is None or number != number or number in (float("inf"), float("-inf")):
            raise ValidationError(f"自评得分“{value}”不是数字（分）")
        if not 0 <= number <= 100:
            raise ValidationError("自评得分应在0–100分之间")
        return number


class Year(fields.Field):
    """A budget year: 2025, "2025", "2025年", "2025年度"."""

    def __init__(self, **kwargs):
        super().__init__(**_documented(kwargs, {"anyOf": [
            {"type": "integer", "minimum": 2000, "maximum": 2100},
            {"type": "string", "pattern": "^(20[0-9]{2}|2100)(年|年度)?$"}, EMPTY], "description": "预算年度（2000–2100）"}))

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value == "":
            return None
        text = str(value).strip().removesuffix("度").removesuffix("年").strip()
        if isinstance(value, bool) or not text.isdigit() or not 2000 <= int(text) <= 2100:
            raise ValidationError(f"预算年度“{value}”应为四位年份，如 2025")
        return int(text)


class Day(fields.Field):
    """A date: 2024-06-30, 2024/6/30, 2024.6.30, 2024年6月30日 (an Excel date too) → "2024-06-30"."""

    def __init__(self, **kwargs):
        super().__init__(**_documented(kwargs, {"anyOf": [{"type": "string", "format": "date"}, EMPTY],
                                                "description": "日期 YYYY-MM-DD（也可写 2024/6/30、2024年6月30日）"}))

    def _deserialize(self, value, attr, data, **kwargs):
        from kb.dates import parse_day

        if value is None or value == "":
            return ""
        day = parse_day(value)
        if day is None:
            raise ValidationError(f"日期“{value}”无法识别，请写成 YYYY-MM-DD（如 2024-06-30）")
        return day.isoformat()


# what else people call the expenditure types (an empty cell is a project)
EXPENDITURE_ALIASES = {"": "项目", "项目支出": "项目", "部门整体支出": "部门整体", "整体支出": "部门整体"}


class ProjectSchema(Schema):
    class Meta:
        unknown = RAISE

    name = Text(numbers=False, required=True, validate=validate.Length(min=2, max=200, error="项目名称应为2–200个字"))
    description = Text(load_default="", validate=validate.Length(max=10000))
    sector = Text(load_default="", validate=validate.Length(max=80))
    department = Text(load_default="", validate=validate.Length(max=120))
    project_type = Text(load_default="", validate=validate.Length(max=40))
    budget_wan_yuan = WanYuan(load_default=None, allow_none=True)
    expenditure_type = Text(numbers=False, load_default="项目", metadata={"enum": [*EXPENDITURE_TYPES, *EXPENDITURE_ALIASES]})
    implementing_unit = Text(load_default="", validate=validate.Length(max=120))
    year = Year(load_default=None, allow_none=True)
    fiscal_wan_yuan = WanYuan("财政拨款", load_default=None, allow_none=True)
    other_wan_yuan = WanYuan("其他资金", load_default=None, allow_none=True)
    budget_executed_wan_yuan = WanYuan("已执行资金", load_default=None, allow_none=True)
    as_of = Day(load_default="")

    @pre_load
    def _blank_name_is_missing(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("name"), str) and not data["name"].strip():
            data = {k: v for k, v in data.items() if k != "name"}
        return data

    @post_load
    def _make(self, data, **kwargs) -> Project:
        data["expenditure_type"] = EXPENDITURE_ALIASES.get(data["expenditure_type"], data["expenditure_type"])
        if data["expenditure_type"] not in EXPENDITURE_TYPES:
            raise ValidationError("支出类型须为：" + "、".join(EXPENDITURE_TYPES), "expenditure_type")
        return Project(**data)


class TargetRowSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    level1 = Text(load_default="", validate=validate.Length(max=40))
    level2 = Text(load_default="", validate=validate.Length(max=40))
    name = Text(load_default="", validate=validate.Length(max=200))
    operator = Text(load_default="", validate=validate.Length(max=20))
    value = Text(load_default="", validate=validate.Length(max=200))
    unit = Text(load_default="", validate=validate.Length(max=40))
    code = Text(load_default="", validate=validate.Length(max=40))
    basis = Text(load_default="", validate=validate.Length(max=40))
    actual = Text(load_default="", validate=validate.Length(max=200))
    self_score = Points(load_default=None, allow_none=True)

    @post_load
    def _make(self, data, **kwargs) -> TargetRow:
        return normalise_row(TargetRow(**data))


class TargetTableSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # e.g. "source" in the development set

    project = fields.Nested(ProjectSchema, required=True)
    goal = Text(load_default="", validate=validate.Length(max=10000))
    indicators = fields.List(fields.Nested(TargetRowSchema), load_default=list,
                             validate=validate.Length(max=MAX_ROWS, error=f"指标不能超过{MAX_ROWS}行"))

    @post_load
    def _make(self, data, **kwargs) -> TargetTable:
        return TargetTable(**data)


def _problems(messages, what: str) -> list[Problem]:
    problems = []
    for path, message in flatten_messages(messages):
        parts = path.split(".")
        row = next((int(p) + 1 for p in parts if p.isdigit()), None)
        label = "·".join(FIELD_NAMES.get(p, p) for p in parts if not p.isdigit() and p != "_schema")
        problems.append(Problem(message, what, row, label))
    return problems


def _load(schema: Schema, raw, what: str):
    if not isinstance(raw, dict):
        raise InvalidInput(f"{what}应为一个 JSON 对象")
    try:
        return schema.load(raw)
    except ValidationError as exc:
        problems = _problems(exc.messages, what)
        first = problems[0]
        where = " ".join(p for p in (f"第{first.row}行" if first.row else "", first.field) if p)
        raise InvalidInput(f"{what}不正确：{where + '：' if where else ''}{first.message}", problems) from None


def load_table(raw) -> TargetTable:
    """JSON (already parsed) → TargetTable, or InvalidInput naming every bad field."""
    return _load(TargetTableSchema(), raw, "目标表")


def load_project(raw) -> Project:
    return _load(ProjectSchema(), raw, "项目信息")

"""What a valid record is: marshmallow schemas shared by the importers, the
seed loader and the API."""
from __future__ import annotations

import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from kb.dimensions import dimensions
from kb.errors import register
from kb.systems.scoring_rules import RuleError, parse_rule

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{1,39}$")
SECTOR_CODE_RE = re.compile(r"^\d{3}(\d{2}(\d{2})?)?$")

# The one place that names the two kinds of indicator in Chinese (pages, search, reconciliation).
KIND_LABELS = {"common": "共性指标", "specific": "个性指标"}
KINDS = tuple(KIND_LABELS)
DIRECTIONS = ("up", "down", "monitor", "none")
STATUSES = ("candidate", "standard", "superseded", "retired")
PROVENANCES = ("verbatim", "adapted", "local")
CERTAINTIES = ("verified", "likely", "uncertain")
QUOTA_STATUSES = ("current", "superseded", "repealed")

_code = fields.String(required=True, validate=validate.Regexp(CODE_RE, error="编码只能由大写字母、数字、点和连字符组成（2–40位）"))
_text = dict(load_default="", validate=validate.Length(max=4000))


class Flag(fields.Boolean):
    """true or false, as JSON writes them. marshmallow's Boolean also takes 1, "yes", "on" …, which the OpenAPI
    document (type boolean) does not promise; the importers and forms turn their cells into booleans first."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Whole(fields.Integer):
    """A whole number. marshmallow's Integer truncates 2020.7 (and 2.5e-42) to an integer, which the document
    (type integer) does not promise; digits as text ("2020", from a CSV cell) are still read."""

    def _validated(self, value):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid")
        return super()._validated(value)


def _one_of(choices, default=None, required=False):
    kw = {"required": True} if required else {"load_default": default}
    return fields.String(validate=validate.OneOf(choices, error="取值须为：" + "、".join(choices)), **kw)


class Base(Schema):
    class Meta:
        unknown = RAISE


class SourceSchema(Base):
    document = fields.String(required=True, validate=validate.Length(min=2, max=300))
    doc_number = fields.String(load_default="", allow_none=True)
    issuer = fields.String(load_default="", allow_none=True)
    url = fields.String(load_default="", allow_none=True)
    year = Whole(load_default=None, allow_none=True)
    page = fields.String(load_default="", allow_none=True)


class ProvenancedSchema(Base):
    source = fields.Nested(SourceSchema, required=True)
    provenance = _one_of(PROVENANCES, required=True)
    certainty = _one_of(CERTAINTIES, default="likely")
    note = fields.String(**_text)


class ReferenceValueSchema(Base):
    value = fields.String(required=True)
    basis = fields.String(required=True)
    note = fields.String(load_default="")
    year = Whole(load_default=None, allow_none=True)

    @validates_schema
    def _basis(self, data, **kwargs):
        bases = dimensions().value_bases
        if data["basis"] not in bases:
            raise ValidationError("取值依据须为：" + "、".join(bases), "basis")


def _str_list(**kw):
    return fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list, **kw)


def _sector_list():
    return fields.List(fields.String(validate=validate.Regexp(SECTOR_CODE_RE, error="功能分类编码须为3、5或7位数字")), load_default=list)


class IndicatorSchema(ProvenancedSchema):
    code = _code
    kind = _one_of(KINDS, required=True)
    level1 = fields.String(required=True, validate=validate.Length(min=1, max=40))
    level2 = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    definition = fields.String(**_text)
    formula = fields.String(**_text)
    unit = fields.String(load_default="", validate=validate.Length(max=40))
    operator = fields.String(load_default="")
    direction = _one_of(DIRECTIONS, default="none")
    qualitative = Flag(load_default=None, allow_none=True)
    target_level1 = fields.String(load_default="")
    target_level2 = fields.String(load_default="")
    reference_values = fields.List(fields.Nested(ReferenceValueSchema), load_default=list)
    scoring_rule = fields.String(**_text)
    data_source = fields.String(load_default="", validate=validate.Length(max=300))
    national_monitoring = Flag(load_default=False)
    sectors = _sector_list()
    departments = _str_list()
    project_types = _str_list()
    keywords = _str_list()
    status = _one_of(STATUSES, default="standard")
    superseded_by = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def _consistent(self, data, **kwargs):
        dims = dimensions()
        op = data.get("operator") or ""
        if op and op not in dims.operators:
            raise ValidationError("指标性质（运算符）须为：" + "、".join(dims.operators), "operator")
        if data.get("qualitative") is None:
            data["qualitative"] = op == "定性"
        if data.get("qualitative") and op and op != "定性":
            raise ValidationError("定性指标的运算符应为“定性”", "operator")
        t1, t2 = data.get("target_level1") or "", data.get("target_level2") or ""
        if t1 and t1 not in dims.target_level1:
            raise ValidationError("目标表一级指标须为：" + "、".join(dims.target_level1), "target_level1")
        if t2 and t2 not in dims.level2_of(t1 or data.get("level1", "")):
            raise ValidationError(f"“{t2}”不是“{t1 or data.get('level1')}”下的二级指标", "target_level2")
        if data.get("level1") in dims.target_level1 and data.get("level2") not in dims.level2_of(data["level1"]):
            raise ValidationError(f"“{data.get('level2')}”不是“{data['level1']}”下的二级指标", "level2")
        if data.get("status") == "superseded" and not data.get("superseded_by"):
            raise ValidationError("已被替代的指标须注明替代它的指标编码", "superseded_by")


def indicator_rules() -> tuple[dict[str, dict], list[dict]]:
    """What IndicatorSchema._consistent (and ReferenceValueSchema's basis) hold a record to, as JSON Schema for
    the OpenAPI document (api.openapi_doc), read off the same dimensions: (property → its choices, the record's
    cross-field rules as allOf). Which 目标表 二级 goes with which 一级 is stated for level2 only: the same rule for
    target_level2 too makes a schema that generators give up on, so there the document names the choices and the
    write checks the pair. References to other records (superseded_by, departments …) are checked against the
    draft when written, which no schema can say."""
    dims = dimensions()
    t1s = list(dims.target_level1)
    level2s = sorted({l2 for t1 in t1s for l2 in dims.level2_of(t1)})
    properties = {"operator": {"enum": ["", *dims.operators]}, "target_level1": {"enum": ["", *t1s]},
                  "target_level2": {"enum": ["", *level2s]}}

    def is_(name: str, *values) -> dict:
        return {name: {"enum": list(values)}}

    rules = [
        # a target table's 一级 takes only its own 二级
        {"anyOf": [{"properties": {"level1": {"not": {"enum": t1s}}}},
                   *({"properties": {**is_("level1", t1), "level2": {"enum": list(dims.level2_of(t1))}}} for t1 in t1s)]},
        # superseded: by what
        {"anyOf": [{"properties": {"status": {"not": {"enum": ["superseded"]}}}},
                   {"properties": {"superseded_by": {"type": "string", "minLength": 1}}, "required": ["superseded_by"]}]},
        # qualitative: operator 定性 or none
        {"anyOf": [{"properties": {"qualitative": {"not": {"enum": [True]}}}}, {"properties": is_("operator", "", "定性")}]},
    ]
    return properties, rules


# What each indicator field is, for the code that turns fields into table cells and
# form inputs (importers/, web/): read off IndicatorSchema, so a field is declared
# once and those lists follow. A field of a type with no shape here raises, so it
# cannot be added without deciding how tables and forms carry it.
TEXT, CHOICE, OPTIONAL_TEXT, FLAG, LIST, RECORDS, SOURCE = (
    "text", "choice", "optional_text", "flag", "list", "records", "source")


def field_shape(field: fields.Field) -> str:
    if isinstance(field, fields.String):
        if any(isinstance(v, validate.OneOf) for v in field.validators):
            return CHOICE
        return OPTIONAL_TEXT if field.allow_none else TEXT
    if isinstance(field, fields.Boolean):
        return FLAG
    if isinstance(field, fields.List):
        return RECORDS if isinstance(field.inner, fields.Nested) else LIST
    if isinstance(field, fields.Nested) and field.nested is SourceSchema:
        return SOURCE
    raise TypeError(f"{type(field).__name__}: no table or form shape for this kind of field")


def indicator_shapes() -> dict[str, str]:
    """field name → shape, in IndicatorSchema's order."""
    return {name: field_shape(f) for name, f in IndicatorSchema._declared_fields.items()}


class SystemNodeSchema(Base):
    name = fields.String(load_default="")
    indicator = fields.String(load_default=None, allow_none=True)
    weight = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    scoring_rule = fields.String(load_default="")  # the rule in words, shown as written
    rule = fields.Dict(allow_none=True)  # the rule structured (kb.systems.scoring_rules); absent on most nodes, so no default
    note = fields.String(load_default="")
    children = fields.List(fields.Nested(lambda: SystemNodeSchema()), load_default=list)

    @validates_schema
    def _leaf_or_group(self, data, **kwargs):
        if data.get("rule") is not None:
            if not data.get("indicator"):
                raise ValidationError("计分规则只能写在引用指标的叶节点上", "rule")
            try:
                parse_rule(data["rule"])
            except RuleError as exc:
                raise ValidationError(exc.message, "rule") from None
        if data.get("indicator"):
            if data.get("children"):
                raise ValidationError("引用指标的叶节点不能再有下级", "children")
        elif not data.get("name"):
            raise ValidationError("分组节点须有名称", "name")
        elif not data.get("children"):
            raise ValidationError(f"分组“{data['name']}”没有下级指标", "children")


class SystemSchema(ProvenancedSchema):
    code = _code
    name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    description = fields.String(**_text)
    sectors = _sector_list()
    nodes = fields.List(fields.Nested(SystemNodeSchema), required=True, validate=validate.Length(min=1))
    status = _one_of(STATUSES, default="standard")


class QuotaItemSchema(Base):
    name = fields.String(required=True)
    amount = fields.Float(required=True, validate=validate.Range(min=0))
    unit = fields.String(load_default="")


class QuotaSchema(ProvenancedSchema):
    code = _code
    name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    category = fields.String(required=True, validate=validate.Length(min=1, max=40))
    standard_type = fields.String(load_default="开支标准")
    tier = fields.String(load_default="")
    unit = fields.String(required=True, validate=validate.Length(min=1, max=40))
    amount = fields.Float(required=True, validate=validate.Range(min=0))
    items = fields.List(fields.Nested(QuotaItemSchema), load_default=list)
    control_mode = fields.String(load_default="")
    adjustments = fields.String(**_text)
    conditions = _str_list()
    scope = fields.String(load_default="")
    level = fields.String(load_default="")
    region = fields.String(load_default="")
    published_date = fields.Date(load_default=None, allow_none=True)
    effective_date = fields.Date(required=True)
    expiry_date = fields.Date(load_default=None, allow_none=True)
    status = _one_of(QUOTA_STATUSES, default="current")
    supersedes = fields.String(load_default=None, allow_none=True)
    sectors = _sector_list()
    project_types = _str_list()
    keywords = _str_list()

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("expiry_date") and data["expiry_date"] < data["effective_date"]:
            raise ValidationError("失效日期早于生效日期", "expiry_date")


TABLE_KINDS = ("目标表", "自评表", "监控表")
EXPENDITURE_TYPES = ("项目", "部门整体", "政策")


class CaseRowSchema(Base):
    """One row of a real table, as printed: nothing is completed or corrected here."""
    level1 = fields.String(load_default="", validate=validate.Length(max=40))
    level2 = fields.String(load_default="", validate=validate.Length(max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    operator = fields.String(load_default="", validate=validate.Length(max=10))
    value = fields.String(load_default="", validate=validate.Length(max=300))
    unit = fields.String(load_default="", validate=validate.Length(max=40))
    actual = fields.String(load_default="", validate=validate.Length(max=300))
    indicator = fields.String(load_default="", validate=validate.Length(max=40))  # the library code it corresponds to


class CaseSchema(ProvenancedSchema):
    code = _code
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    summary = fields.String(**_text)
    goal = fields.String(**_text)
    sector = fields.String(load_default="", validate=validate.Regexp(r"^(\d{3}(\d{2}(\d{2})?)?)?$", error="功能分类编码须为3、5或7位数字"))
    department = fields.String(load_default="", validate=validate.Length(max=120))
    unit = fields.String(load_default="", validate=validate.Length(max=120))
    region = fields.String(load_default="", validate=validate.Length(max=80))
    province = fields.String(load_default="", validate=validate.Length(max=20))
    year = Whole(load_default=None, allow_none=True, validate=validate.Range(min=2000, max=2100, error="年度应在2000–2100之间"))
    budget_wan_yuan = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=1e8, error="预算应为0–1亿万元之间的数"))
    project_type = fields.String(load_default="", allow_none=True)
    expenditure_type = _one_of(EXPENDITURE_TYPES, default="项目")
    table_kind = _one_of(TABLE_KINDS, default="目标表")
    rows = fields.List(fields.Nested(CaseRowSchema), required=True, validate=validate.Length(min=1, max=500, error="案例须有1–500行指标"))
    incomplete = Flag(load_default=False)
    actuals = Flag(load_default=False)
    status = _one_of(("standard", "retired"), default="standard")

    @validates_schema
    def _plain(self, data, **kwargs):
        data["project_type"] = data.get("project_type") or ""


class SectorSchema(ProvenancedSchema):
    code = fields.String(required=True, validate=validate.Regexp(SECTOR_CODE_RE, error="功能分类编码须为3、5或7位数字"))
    name = fields.String(required=True, validate=validate.Length(min=2, max=80))


class DepartmentSchema(ProvenancedSchema):
    code = _code
    name = fields.String(required=True, validate=validate.Length(min=2, max=80))
    sectors = _sector_list()
    type = Flag(load_default=True)


class ProjectTypeSchema(ProvenancedSchema):
    code = _code
    name = fields.String(required=True, validate=validate.Length(min=2, max=40))
    description = fields.String(**_text)
    keywords = _str_list()


class TextListSchema(Base):
    code = fields.String(required=True, validate=validate.OneOf(["synonyms"]))
    data = fields.Dict(required=True)

    @validates_schema
    def _groups(self, data, **kwargs):
        for key in ("groups", "related"):
            groups = data["data"].get(key, [])
            if not isinstance(groups, list) or not all(
                isinstance(g, list) and len(g) >= 2 and all(isinstance(w, str) and w for w in g) for g in groups
            ):
                raise ValidationError(f"{key} 须为词组列表，每组至少两个词", "data")


class MilestoneSchema(Base):
    code = _code
    year = Whole(required=True, validate=validate.Range(min=2000, max=2100))
    title = fields.String(required=True, validate=validate.Length(min=2, max=200))
    sector = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(SECTOR_CODE_RE))
    department = fields.String(load_default=None, allow_none=True)
    project_type = fields.String(load_default=None, allow_none=True)
    measure = _one_of(("specific", "common", "quota", "task"), default="specific")
    target_count = Whole(load_default=0, validate=validate.Range(min=0, max=100000))
    due_date = fields.Date(load_default=None, allow_none=True)
    owner = fields.String(load_default="")
    note = fields.String(load_default="")


class PlanYearSchema(Base):
    year = Whole(required=True, validate=validate.Range(min=2000, max=2100))
    theme = fields.String(load_default="")
    plan_name = fields.String(load_default="")


# kind name → (schema class, human name)
SCHEMAS = {
    "sector": (SectorSchema, "功能分类"),
    "department": (DepartmentSchema, "部门"),
    "project_type": (ProjectTypeSchema, "项目类别"),
    "indicator": (IndicatorSchema, "指标"),
    "system": (SystemSchema, "指标体系"),
    "quota": (QuotaSchema, "支出标准"),
    "text": (TextListSchema, "检索词表"),
    "case": (CaseSchema, "案例"),
}
# the identifiers kb.errors.UnknownCode answers with, one per kind
for _kind, (_, _name) in SCHEMAS.items():
    register(f"{_kind}_not_found", 404, f"没有这个编码的{_name}")


def flatten_messages(messages, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested error dict → [(field path, message)], in Chinese where we can."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_messages(value, path))
    elif isinstance(messages, list):
        for m in messages:
            out.extend(flatten_messages(m, prefix))
    else:
        out.append((prefix, _chinese(str(messages))))
    return out


# marshmallow's messages, in Chinese: every one a field or validator of marshmallow can give
# (tests/test_schemas_language.py walks them), so no English reaches a clerk through the API or an import
_TRANSLATIONS = {
    "Missing data for required field.": "缺少必填项",
    "Unknown field.": "未知字段",
    "Not a valid string.": "应为文本",
    "Not a valid utf-8 string.": "应为 UTF-8 文本",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Number too large.": "数值过大",
    "Special numeric values (nan or infinity) are not permitted.": "不能是非有限数值（nan 或 infinity）",
    "Not a valid boolean.": "应为是/否",
    "Not a valid date.": "应为日期（如 2024-12-31）",
    "Not a valid datetime.": "应为日期时间（如 2024-12-31T08:00:00）",
    "Not a valid time.": "应为时间（如 08:00:00）",
    "Not a valid period of time.": "应为时长",
    "Not a valid list.": "应为列表",
    "Not a valid tuple.": "应为列表",
    "Not a valid mapping type.": "应为 JSON 对象",
    "Not a valid URL.": "应为网址",
    "Not a valid email address.": "应为电子邮件地址",
    "Not a valid UUID.": "应为 UUID",
    "Field may not be null.": "不能为空",
    "Invalid input type.": "类型不正确",
    "Invalid type.": "类型不正确",
    "Invalid value.": "取值无效",
    "Invalid input.": "取值无效",
    "String does not match expected pattern.": "格式不正确",
}
_BOUNDS = {"greater than or equal to": "不小于", "greater than": "大于", "less than or equal to": "不大于", "less than": "小于"}
_BOUND = "(greater than or equal to|greater than|less than or equal to|less than)"
_PATTERNS = [
    (re.compile(r"^Length must be between (.+) and (.+)\.$"), lambda m: f"长度应在 {m[1]}–{m[2]} 之间"),
    (re.compile(r"^Length must be (.+)\.$"), lambda m: f"长度应为 {m[1]}"),
    (re.compile(r"^Shorter than minimum length (.+)\.$"), lambda m: f"长度不应少于 {m[1]}"),
    (re.compile(r"^Longer than maximum length (.+)\.$"), lambda m: f"长度不应超过 {m[1]}"),
    (re.compile(r"^Must be greater than or equal to (.+) and less than or equal to (.+)\.$"),
     lambda m: f"应在 {m[1]}–{m[2]} 之间"),
    (re.compile(rf"^Must be {_BOUND} (.+) and {_BOUND} (.+)\.$"),
     lambda m: f"应{_BOUNDS[m[1]]} {m[2]} 且{_BOUNDS[m[3]]} {m[4]}"),
    (re.compile(rf"^Must be {_BOUND} (.+)\.$"), lambda m: f"应{_BOUNDS[m[1]]} {m[2]}"),
    (re.compile(r"^Must be one of: (.*)\.$"), lambda m: "取值须为：" + "、".join(c.strip() for c in m[1].split(","))),
    (re.compile(r"^Must be equal to (.+)\.$"), lambda m: f"应为 {m[1]}"),
    (re.compile(r"^One or more of the choices you made was not in: (.*)\.$"), lambda m: f"有不在可选范围（{m[1]}）内的取值"),
    (re.compile(r"^One or more of the choices you made was in: (.*)\.$"), lambda m: f"有不允许的取值（{m[1]}）"),
    (re.compile(r"^Not a valid (?:IP|IPv4|IPv6) (?:address|interface)\.$"), lambda m: "应为 IP 地址"),
    (re.compile(r"^Not a valid .+\.$"), lambda m: "格式不正确"),
    (re.compile(r"^.+ cannot be formatted as a .+\.$"), lambda m: "格式不正确"),
]
_CJK = re.compile("[\u4e00-\u9fff]")


def _chinese(message: str) -> str:
    """A marshmallow message in Chinese; our own validators' messages are Chinese already and pass as they are."""
    if message in _TRANSLATIONS:
        return _TRANSLATIONS[message]
    if _CJK.search(message):
        return message
    for pattern, chinese in _PATTERNS:
        match = pattern.match(message)
        if match:
            return chinese(match)
    return "取值无效"  # an English message nobody translated yet is still no message for a clerk

"""Response and argument schemas of the REST API (record schemas live in kb.schemas)."""
import copy

from marshmallow import RAISE, Schema, ValidationError, fields, missing, post_load, validate

# the shapes of kb's results (search, completion, suggest, estimate) are defined once, in kb.result_schemas:
# the API answers with them, as the pages and the command line do
from kb import result_schemas
from kb.schemas import (CaseSchema, DepartmentSchema, IndicatorSchema, ProjectTypeSchema, QuotaSchema, SectorSchema,
                        SystemSchema, TextListSchema)
from kb.library.versions import CURRENT, DRAFT, EXPORT_FORMAT, LABEL_RE
from kb.targets.schema import ProjectSchema  # noqa: F401  (request body of suggest and estimate)

# what a version may be called where one is read: a published label, current or draft (kb.library.versions.resolve;
# anything else is no version: 404)
VERSION_PATTERN = f"^({CURRENT}|{DRAFT}|{LABEL_RE.pattern.strip('^$')})$"


class VersionSchema(Schema):
    label = fields.String()
    published_at = fields.DateTime(allow_none=True)
    notes = fields.String()
    is_current = fields.Boolean()
    counts = fields.Dict()


class VersionListSchema(Schema):
    current = fields.String(allow_none=True)
    versions = fields.List(fields.Nested(VersionSchema))


class FieldChangeSchema(Schema):
    previous = fields.Raw(allow_none=True)
    current = fields.Raw(allow_none=True)


class ChangeSchema(Schema):
    kind = fields.String()
    code = fields.String()
    name = fields.String()
    change = fields.String()
    fields = fields.Dict(keys=fields.String(), values=fields.Nested(FieldChangeSchema))


class DiffSchema(Schema):
    a = fields.String()
    b = fields.String()
    summary = fields.Dict()
    changes = fields.List(fields.Nested(ChangeSchema))


# --- shared ------------------------------------------------------------------------
# Query strings refuse unknown parameters (a typo should not silently widen a search).


VERSION_HELP = "版本号（如 2024.1）、current（默认）或 draft（需 curate 权限）"


class Strict(Schema):
    class Meta:
        unknown = RAISE


class VersionArgs(Strict):
    version = fields.String(load_default=None, validate=validate.Length(min=1, max=32),
                            metadata={"description": VERSION_HELP, "pattern": VERSION_PATTERN})


PER_PAGE = 20


class PageArgs(VersionArgs):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=500))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=100),
                              metadata={"description": f"每页条数，默认 {PER_PAGE}"})
    # `limit` is what most APIs call it; refusing it as an unknown field while the pages say per_page
    # sent users looking for the right word
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=100),
                           metadata={"description": "per_page 的别名"})

    @post_load
    def _one_page_size(self, data, **_kwargs):
        limit = data.pop("limit", None)
        if limit is not None and data.get("per_page") not in (None, limit):
            raise ValidationError("per_page 与 limit 是同一参数，只给一个（或给相同的值）", "limit")
        data["per_page"] = data.get("per_page") or limit or PER_PAGE
        return data


# --- versions ------------------------------------------------------------------------

class PublishSchema(Strict):
    # the pattern kb.library.versions.validate_label holds a label to (refused there, 422 invalid_input)
    label = fields.String(required=True, validate=validate.Length(min=1, max=32),
                          metadata={"example": "2025.1", "pattern": LABEL_RE.pattern})
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


class JobProblemSchema(Schema):
    message = fields.String()
    location = fields.String(allow_none=True)
    row = fields.Integer(allow_none=True)
    field = fields.String(allow_none=True)


class JobSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(metadata={"example": "publish", "description": "publish（发布）| import（导入）"})
    status = fields.String(metadata={"description": "queued | running | done | failed"})
    progress = fields.String()
    result = fields.Dict(metadata={"description": "完成后：发布的版本（label、counts …），或导入报告（added、changed、unchanged、totals）"})
    error = fields.String(metadata={"description": "失败时的原因"})
    problems = fields.List(fields.Nested(JobProblemSchema), metadata={"description": "未通过发布检查或导入被拒时的各项问题"})
    params = fields.Dict(metadata={"description": "发起时的参数（如版本号 label）"})
    created_by = fields.String()
    created_at = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)


# --- indicators -----------------------------------------------------------------------

class PublicIndicatorSchema(IndicatorSchema):
    """What the public reads of an indicator: everything but the curators' working note."""

    class Meta(IndicatorSchema.Meta):
        exclude = ("note",)



class IndicatorDocSchema(Schema):
    version = fields.String(required=True)
    revision = fields.Integer(allow_none=True, metadata={"description": "草稿中的修订号（读草稿时给出；PATCH 时作 If-Match）"})
    indicator = fields.Nested(PublicIndicatorSchema, required=True)
    curator_note = fields.String(allow_none=True, metadata={"description": "维护人员的工作备注（只在读草稿时给出，需 curate 权限）"})


class HistoryEntrySchema(Schema):
    number = fields.Integer(required=True)
    versions = fields.List(fields.String(), required=True)
    data = fields.Dict(required=True)
    changes = fields.Dict(keys=fields.String(), values=fields.Nested(FieldChangeSchema), required=True)


class HistorySchema(Schema):
    version = fields.String(required=True)
    code = fields.String(required=True)
    revision_in_version = fields.Integer(allow_none=True, metadata={"description": "所读版本中该指标的修订号；不在该版本中为 null"})
    revisions = fields.List(fields.Nested(HistoryEntrySchema), required=True)


# --- systems ----------------------------------------------------------------------------

class SystemSummarySchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    sectors = fields.List(fields.String())
    status = fields.String()


class SystemListSchema(Schema):
    version = fields.String(required=True)
    systems = fields.List(fields.Nested(SystemSummarySchema), required=True)


class SystemNodeOutSchema(Schema):
    name = fields.String(required=True)
    weight = fields.Float(required=True)
    indicator = fields.String(allow_none=True, metadata={"description": "叶节点引用的指标编码"})
    indicator_name = fields.String(allow_none=True)
    level1 = fields.String(allow_none=True)
    level2 = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    scoring_rule = fields.String()
    rule = fields.Dict(allow_none=True, metadata={"description": "结构化计分规则 {kind, …}：proportional、ceiling、bands、deduction、judged"})
    note = fields.String()
    children = fields.List(fields.Nested(lambda: SystemNodeOutSchema()))


class SystemTreeSchema(Schema):
    version = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    sectors = fields.List(fields.String())
    status = fields.String()
    source = fields.Dict()
    total_weight = fields.Float()
    nodes = fields.List(fields.Nested(SystemNodeOutSchema), required=True)


# --- scoring units with a system (evaluation rounds) ----------------------------------------

class UnitValuesSchema(Schema):
    name = fields.String(required=True, metadata={"description": "单位名称（一轮内不重复）"})
    values = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True, metadata={
        "description": "指标编码或名称 → 值（\"95%\"、95、\"优\"）；按各单位年度目标计分的指标写 "
                       "{\"actual\": 完成值, \"target\": 目标值}，或另加键“编码 目标值”"})


class ScoreRequestSchema(Schema):
    units = fields.List(fields.Nested(UnitValuesSchema), required=True)


class WeakLeafSchema(Schema):
    name = fields.String(required=True)
    indicator = fields.String(required=True)
    score = fields.Float(required=True)
    max = fields.Float(required=True)
    lost = fields.Float(required=True)


class LeafScoreSchema(Schema):
    indicator = fields.String(required=True)
    name = fields.String(required=True)
    level1 = fields.String(required=True)
    score = fields.Float(required=True)
    max = fields.Float(required=True)
    reason = fields.String(required=True)


class UnitScoreSchema(Schema):
    name = fields.String(required=True)
    total = fields.Float(required=True)
    rank = fields.Integer(required=True, metadata={"description": "1 为最好；总分相同的并列"})
    grade = fields.String(required=True, metadata={"enum": ["优", "良", "中", "差"]})
    by_level1 = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    weakest = fields.List(fields.Nested(WeakLeafSchema), required=True, metadata={"description": "失分最多的（至多5项）指标"})
    leaves = fields.List(fields.Nested(LeafScoreSchema), required=True)


class RoundSchema(Schema):
    round = fields.Integer(required=True, metadata={"description": "评分轮次编号"})
    system = fields.String(required=True)
    system_name = fields.String()
    version = fields.String(required=True, metadata={"description": "评分所依据的已发布版本"})
    max_total = fields.Float()
    level1 = fields.Dict(keys=fields.String(), values=fields.Float(), metadata={"description": "一级指标 → 分值"})
    units = fields.List(fields.Nested(UnitScoreSchema), required=True)
    created_by = fields.String()
    created_at = fields.DateTime()


class RoundSummarySchema(Schema):
    id = fields.Integer(required=True)
    version = fields.String(required=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    units = fields.Integer(metadata={"description": "单位数"})


class RoundListSchema(Schema):
    system = fields.String(required=True)
    rounds = fields.List(fields.Nested(RoundSummarySchema), required=True)


# --- taxonomy ----------------------------------------------------------------------------

class SectorNodeSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    children = fields.List(fields.Nested(lambda: SectorNodeSchema()))


class SectorTreeSchema(Schema):
    version = fields.String(required=True)
    sectors = fields.List(fields.Nested(SectorNodeSchema), required=True)


class DepartmentListSchema(Schema):
    version = fields.String(required=True)
    departments = fields.List(fields.Nested(DepartmentSchema), required=True)


class ProjectTypeListSchema(Schema):
    version = fields.String(required=True)
    project_types = fields.List(fields.Nested(ProjectTypeSchema), required=True)


# --- draft (curators) ----------------------------------------------------------------------

class DraftIndicatorSchema(Schema):
    revision = fields.Integer(required=True)
    indicator = fields.Nested(IndicatorSchema, required=True)


class RetireSchema(Strict):
    superseded_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=40),
                                  metadata={"description": "替代它的指标编码；不填则标为停用"})


class DryRunArgs(Strict):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "1：只报告将做的变化，不写入"})


class ImportArgs(DryRunArgs):
    allow_duplicates = fields.Boolean(load_default=False, metadata={
        "description": "true：仍然导入与草稿中已有指标同名或同义的新指标（默认拒绝整个导入，错误 import_duplicates）"})


class LibraryDocumentSchema(Strict):
    """The whole-library JSON document (what `zhibiao export --format json` writes), as the OpenAPI document
    states it. The view reads it with importers.library_json, as the command line does: its shape on the
    request (check_shape: these keys only), each record by its kind's schema, row by row (read_document)."""

    format = fields.String(required=True, validate=validate.Equal(EXPORT_FORMAT))
    format_version = fields.Integer(validate=validate.Equal(1), metadata={"enum": [1]})
    version = fields.String(allow_none=True, metadata={"description": "导出的版本（导入时不读）"})
    published_at = fields.String(allow_none=True, metadata={"description": "发布时间（导入时不读）"})
    sectors = fields.List(fields.Nested(SectorSchema))
    departments = fields.List(fields.Nested(DepartmentSchema))
    project_types = fields.List(fields.Nested(ProjectTypeSchema))
    text_lists = fields.List(fields.Nested(TextListSchema))
    indicators = fields.List(fields.Nested(IndicatorSchema))
    systems = fields.List(fields.Nested(SystemSchema))
    quotas = fields.List(fields.Nested(QuotaSchema))
    cases = fields.List(fields.Nested(CaseSchema))


class ImportDuplicateSchema(Schema):
    code = fields.String(required=True, metadata={"description": "导入文件中的指标编码"})
    name = fields.String(required=True)
    other_code = fields.String(required=True, metadata={"description": "与之重复的指标编码"})
    other_name = fields.String(required=True)
    reason = fields.String(required=True, metadata={"description": "同名同范围 | 同名 | 同义词"})
    in_draft = fields.Boolean(required=True, metadata={"description": "true：重复的是草稿中已有的指标；false：文件中的另一条"})
    refused = fields.Boolean(required=True, metadata={
        "description": "true：这是一条新指标，与草稿中已有指标重复，不带 allow_duplicates=true 时整个导入被拒绝"})


class ImportReportSchema(Schema):
    dry_run = fields.Boolean(required=True)
    added = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)
    changed = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)
    unchanged = fields.Integer(required=True)
    duplicates = fields.List(fields.Nested(ImportDuplicateSchema), required=True, metadata={
        "description": "与草稿或文件中另一条同名（同范围）或同义的指标，与命令行 import --dry-run 报告的相同"})


def _patch_schema(record_schema: type[Schema], name: str) -> type[Schema]:
    """The record schema with every field optional and without defaults, so that
    a PATCH body carries only what changes (the whole record is validated after merging)."""
    declared = {}
    for field_name, field in record_schema._declared_fields.items():
        field = copy.deepcopy(field)
        field.required = False
        field.load_default = missing
        declared[field_name] = field
    return Strict.from_dict(declared, name=name)


IndicatorPatchSchema = _patch_schema(IndicatorSchema, "IndicatorPatch")


# --- plan ------------------------------------------------------------------------------------

class MilestoneProgressSchema(Schema):
    code = fields.String(attribute="milestone.code", required=True)
    title = fields.String(attribute="milestone.title", required=True)
    sector = fields.String(attribute="milestone.sector", allow_none=True)
    department = fields.String(attribute="milestone.department", allow_none=True)
    project_type = fields.String(attribute="milestone.project_type", allow_none=True)
    measure = fields.String(attribute="milestone.measure")
    target_count = fields.Integer(attribute="milestone.target_count")
    due_date = fields.Date(attribute="milestone.due_date", allow_none=True)
    owner = fields.String(attribute="milestone.owner")
    note = fields.String(attribute="milestone.note")
    scope = fields.String(metadata={"description": "计数的对象"})
    actual = fields.Integer(metadata={"description": "所读版本中已有的数量"})
    ratio = fields.Float()
    overdue = fields.Boolean()


class PlanYearProgressSchema(Schema):
    year = fields.Integer(required=True)
    theme = fields.String()
    target = fields.Integer()
    done = fields.Integer()
    ratio = fields.Float()
    milestones = fields.List(fields.Nested(MilestoneProgressSchema))


class CodeNameSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


def _pairs(attr: str):
    return fields.Function(lambda obj: [{"code": c, "name": n} for c, n in getattr(obj, attr)],
                           metadata={"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}})


class PlanSchema(Schema):
    version = fields.String(required=True)
    years = fields.List(fields.Nested(PlanYearProgressSchema), required=True)
    sector_counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "各类（3位功能分类）下的个性指标数"})
    departments_without = _pairs("departments_without")
    project_types_without = _pairs("project_types_without")


# --- targets: check, monitor, evaluate (their results: kb.result_schemas) ----------------------

class MonitorArgs(Schema):
    as_of = fields.String(load_default=None, metadata={"description": "截至日期 YYYY-MM-DD（默认取表中 project.as_of）"})
    tolerance = fields.Float(load_default=None, validate=validate.Range(min=0, max=0.99),
                             metadata={"description": "预警容差（0.2 即20个百分点）"})


class UploadSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": ".xlsx 或 .json 文件"})


# --- search and completion ----------------------------------------------------------------------

class SearchArgs(PageArgs):
    q = fields.String(load_default="", validate=validate.Length(max=200), metadata={"description": "检索词；可为指标编码；空则按筛选条件列出"})
    sector = fields.String(load_default=None, validate=validate.Length(min=1, max=16), metadata={"description": "功能分类编码，含下级"})
    level1 = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    level2 = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    kind = fields.String(load_default=None, validate=validate.OneOf(["common", "specific"]))
    department = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    project_type = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    status = fields.String(load_default=None, validate=validate.OneOf(["candidate", "standard", "superseded", "retired"]),
                           metadata={"description": "不填则列出除已停用外的全部"})


class PageLinksSchema(Schema):
    first = fields.String(required=True, metadata={"description": "第一页"})
    prev = fields.String(allow_none=True, metadata={"description": "上一页（第一页为 null）"})
    next = fields.String(allow_none=True, metadata={"description": "下一页（最后一页为 null）"})
    last = fields.String(required=True, metadata={"description": "最后一页"})


class SearchResultSchema(result_schemas.SearchResultSchema):
    """kb's search result, with the links to the other pages."""
    links = fields.Nested(PageLinksSchema, metadata={"description": "翻页链接（也在 Link 响应头中）"})


class CompleteArgs(VersionArgs):
    q = fields.String(load_default="", validate=validate.Length(max=100), metadata={"description": "已输入的字、拼音或拼音首字母"})
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


# --- suggest and quotas ---------------------------------------------------------------------------

class CaseSearchArgs(PageArgs):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    sector = fields.String(load_default="", validate=validate.Regexp(r"^(\d{3}(\d{2}(\d{2})?)?)?$", error="功能分类编码须为3、5或7位数字"),
                           metadata={"example": "210"})
    province = fields.String(load_default="", validate=validate.Length(max=20), metadata={"example": "湖北"})
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))


class CaseListSchema(Schema):
    version = fields.String(required=True)
    total = fields.Integer(required=True)
    page = fields.Integer()
    per_page = fields.Integer()
    links = fields.Nested(PageLinksSchema, metadata={"description": "翻页链接（也在 Link 响应头中）"})
    results = fields.List(fields.Nested(CaseSchema), required=True)


class CaseDocSchema(Schema):
    version = fields.String(required=True)
    case = fields.Nested(CaseSchema, required=True)


class QuotaSearchArgs(PageArgs):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    category = fields.String(load_default=None, validate=validate.Length(min=1, max=40), metadata={"example": "会议费"})
    tier = fields.String(load_default=None, validate=validate.Length(min=1, max=40), metadata={"example": "三类"})
    status = fields.String(load_default=None, validate=validate.OneOf(["current", "superseded", "repealed"]))


class QuotaListSchema(Schema):
    version = fields.String(required=True)
    total = fields.Integer(required=True)
    page = fields.Integer()
    per_page = fields.Integer()
    links = fields.Nested(PageLinksSchema, metadata={"description": "翻页链接（也在 Link 响应头中）"})
    categories = fields.List(fields.String())
    results = fields.List(fields.Nested(QuotaSchema), required=True)


class QuotaDocSchema(Schema):
    version = fields.String(required=True)
    quota = fields.Nested(QuotaSchema, required=True)

"""What an answer looks like: one marshmallow schema per result type that kb/ hands out (search hits and
results, completions, recommendations, quota matches, cost estimates, the check, monitoring and self-evaluation
of a target table).

kb.schemas says what a valid record is (records in); these say how a result is written out. Each is
defined once and dumped by all three interfaces: the REST API uses them as its response schemas (so the
OpenAPI document describes exactly what is sent), the pages' JSON twins and the command line's --json dump
them too, so a hit or a suggestion has the same keys and values wherever it is read.

They dump kb's own data classes (kb.search.SearchHit, kb.targets.recommend.Recommendation, kb.targets.quotas.QuotaMatch …),
not dicts made by hand. PlainDump (at the end) writes the same JSON as a schema's dump for the API's hottest
answers (search hits, facets, completions) without marshmallow's per-field cost.
"""
from __future__ import annotations

from marshmallow import Schema, fields, pre_dump

from kb.search.query import trusted_fragment


class Fragment(fields.String):
    """An HTML fragment kb.search made (the text HTML-escaped, matches in <mark>), given out only when it is
    exactly that; otherwise the text it stands for, escaped. Pages insert it as HTML."""

    def __init__(self, source: str, **kwargs):
        super().__init__(**kwargs)
        self.source = source  # the attribute holding the plain text the fragment highlights

    def _serialize(self, value, attr, obj, **kwargs):
        return trusted_fragment(value or "", getattr(obj, self.source, "") or "")


# --- search and completion -------------------------------------------------------------------------

class SearchHitSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    level1 = fields.String()
    level2 = fields.String()
    kind = fields.String()
    sector = fields.String()
    sectors = fields.List(fields.String())
    unit = fields.String()
    direction = fields.String()
    operator = fields.String()
    definition = fields.String()
    status = fields.String()
    score = fields.Float()
    highlight = Fragment("name", metadata={"description": "名称，HTML 转义，命中处以 <mark> 标出"})
    snippet = Fragment("definition", metadata={"description": "指标解释中命中处附近的一段，转义同上"})


class FacetCountSchema(Schema):
    value = fields.String(required=True)
    label = fields.String()
    count = fields.Integer(required=True)


class SearchResultSchema(Schema):
    """A kb.search.SearchResult: one page of hits, with facets and hints."""
    version = fields.String(required=True)
    query = fields.String()
    total = fields.Integer(required=True)
    page = fields.Integer()
    per_page = fields.Integer()
    mode = fields.String()
    results = fields.List(fields.Nested(SearchHitSchema), attribute="hits", required=True)
    facets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FacetCountSchema)))
    did_you_mean = fields.List(fields.String())
    related = fields.List(fields.String())


class CompletionSchema(Schema):
    text = fields.String(required=True)
    code = fields.String(required=True)
    kind = fields.String()


class CompletionListSchema(Schema):
    """{version, query, completions}: what a typeahead shows for what was typed."""
    version = fields.String(required=True)
    query = fields.String()
    completions = fields.List(fields.Nested(CompletionSchema), required=True)


# --- quotas and estimates --------------------------------------------------------------------------

class QuotaMatchSchema(Schema):
    """A kb.targets.quotas.QuotaMatch: the standard it found, flattened, with why it applies."""
    code = fields.String(attribute="quota.code", required=True)
    name = fields.String(attribute="quota.name", required=True)
    category = fields.String(attribute="quota.category")
    tier = fields.String(attribute="quota.tier")
    unit = fields.String(attribute="quota.unit")
    amount = fields.Float(attribute="quota.amount")
    source = fields.String()
    reason = fields.String(metadata={"description": "为何适用"})
    selected = fields.Boolean(metadata={"description": "本项目适用的档次（计入测算）"})


class EstimateFactorSchema(Schema):
    value = fields.Float(required=True)
    what = fields.String(required=True)

    @pre_dump
    def _pair(self, data, **kwargs):
        """kb.targets.quotas keeps a factor as (quantity, what)."""
        return {"value": data[0], "what": data[1]} if isinstance(data, tuple) else data


class EstimateLineSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    amount = fields.Float()
    unit = fields.String()
    factors = fields.List(fields.Nested(EstimateFactorSchema))
    subtotal = fields.Float()
    formula = fields.String()
    explanation = fields.String()


class EstimateSchema(Schema):
    """A kb.targets.quotas.Estimate: the cost the project's quantities allow, line by line."""
    total_yuan = fields.Float(required=True)
    total_wan_yuan = fields.Float()
    formula = fields.String()
    lines = fields.List(fields.Nested(EstimateLineSchema))
    notes = fields.List(fields.String())


class QuantitySchema(Schema):
    people = fields.Float(allow_none=True)
    days = fields.Float(allow_none=True)
    sessions = fields.Float(allow_none=True)
    person_times = fields.Float(allow_none=True)
    hours = fields.Float(allow_none=True)
    population = fields.Float(allow_none=True)
    students = fields.Float(allow_none=True)
    meeting_class = fields.String()
    training_class = fields.String()
    evidence = fields.List(fields.String())


class ProjectEstimateSchema(Schema):
    """A kb.targets.quota_catalog.ProjectEstimate: the standards that apply to a project and its estimate."""
    version = fields.String(required=True)
    quantity = fields.Nested(QuantitySchema)
    quotas = fields.List(fields.Nested(QuotaMatchSchema), attribute="matches", required=True)
    estimate = fields.Nested(EstimateSchema, allow_none=True)


# --- the hot path's writer -------------------------------------------------------------------------

def _text_list(values):
    return [v if v is None or type(v) is str else str(v) for v in values]


# marshmallow field → what its dump does to a value (None stays None)
_PLAIN_FIELDS = {fields.String: str, fields.Integer: int, fields.Float: float}
_MISSING = object()



class PlainDump:
    """What `schema_cls().dump(obj)` gives for an object of plain fields (text, numbers, lists of text), at a
    fraction of the cost: the search and typeahead answers dump twenty of them per request, and marshmallow's
    per-field machinery took longer than the search. The schema stays the documentation (OpenAPI); the field
    list and keys are read from it, and a schema field that needs more than a type conversion is refused when
    the module is imported, so the two cannot drift apart silently. A highlight (kb.result_schemas.Fragment)
    goes through the same check marshmallow gives it: it is HTML the pages insert."""

    def __init__(self, schema_cls):
        spec = []
        for name, field in schema_cls().dump_fields.items():
            key, attr = field.data_key or name, field.attribute or name
            if isinstance(field, Fragment):
                spec.append((key, attr, None, field.source))
                continue
            convert = _PLAIN_FIELDS.get(type(field))
            if convert is None and type(field) is fields.List and type(field.inner) is fields.String:
                convert = _text_list
            if convert is None:
                raise TypeError(f"{schema_cls.__name__}.{name}: {type(field).__name__} is not a plain field")
            spec.append((key, attr, convert, None))
        self.spec = tuple(spec)

    def __call__(self, obj) -> dict:
        out = {}
        for key, attr, convert, source in self.spec:
            value = getattr(obj, attr, _MISSING)
            if value is _MISSING:  # marshmallow leaves a missing attribute out
                continue
            if source is not None:
                out[key] = trusted_fragment(value or "", getattr(obj, source, "") or "")
            else:
                out[key] = value if value is None or type(value) is convert else convert(value)
        return out



class PlainList(fields.List):
    """A list of plain objects (a recommendation's ~100 suggestions), written by PlainDump: the same JSON as
    List(Nested(schema)), which is what the OpenAPI document says, without marshmallow's per-field cost
    (a third of a suggest request went to dumping them)."""

    def __init__(self, schema_cls, **kwargs):
        super().__init__(fields.Nested(schema_cls), **kwargs)
        self._plain = PlainDump(schema_cls)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else [self._plain(item) for item in value]


# --- recommendations -------------------------------------------------------------------------------

class SuggestionSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    level1 = fields.String()
    level2 = fields.String()
    kind = fields.String()
    score = fields.Float()
    reason = fields.String()
    operator = fields.String()
    suggested_value = fields.String()
    unit = fields.String()
    basis = fields.String()
    basis_note = fields.String()
    cases = fields.List(fields.String(), metadata={"description": "用过此指标的相似案例编码"})


class SimilarCaseSchema(Schema):
    """A kb.targets.cases.SimilarCase: the case, how close it is and why."""
    code = fields.String(attribute="case.code", required=True)
    name = fields.String(attribute="case.name")
    region = fields.String(attribute="case.region")
    year = fields.Integer(attribute="case.year", allow_none=True)
    sector = fields.String(attribute="case.sector")
    score = fields.Float()
    words = fields.List(fields.String(), metadata={"description": "项目与案例共有的词"})
    reasons = fields.List(fields.String())
    source_url = fields.Function(lambda c: (c.case.source or {}).get("url", ""), metadata={"type": "string"})


class TypeMatchSchema(Schema):
    code = fields.String(required=True)
    name = fields.String()
    reason = fields.String()


class SuggestGroupSchema(Schema):
    """One 一级/二级 of the template and the codes of its suggestions (listed in full under `indicators`)."""
    level1 = fields.String(required=True)
    level2 = fields.String(required=True)
    required = fields.Boolean()
    codes = fields.Function(lambda g: [s.code for s in g.suggestions],
                            metadata={"type": "array", "items": {"type": "string"}})


class RecommendationSchema(Schema):
    """A kb.targets.recommend.Recommendation (the DESIGN §9 suggest shape, with groups, explanations and the drafted table)."""
    version = fields.String(required=True)
    project = fields.Function(lambda r: r.project.to_dict(), metadata={"type": "object"})
    project_types = fields.List(fields.Nested(TypeMatchSchema))
    sector = fields.String(allow_none=True)
    terms = fields.List(fields.String())
    indicators = PlainList(SuggestionSchema, required=True)
    groups = fields.List(fields.Nested(SuggestGroupSchema))
    quotas = fields.List(fields.Nested(QuotaMatchSchema))
    estimate = fields.Nested(EstimateSchema, allow_none=True)
    similar_cases = fields.List(fields.Nested(SimilarCaseSchema), attribute="similar")
    warnings = fields.List(fields.String(), metadata={"description": "推荐时搁置的输入（如无法识别的行业）"})
    table = fields.Function(lambda r: r.table.to_dict(), metadata={
        "type": "object", "description": "据推荐拟好的绩效目标表（可直接提交审核）"})
    reasons = fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"description": "拟好的目标表中各行（按指标编码）的推荐理由"})


# --- a 绩效目标表 checked, monitored, self-evaluated -------------------------------------------------

class TargetRowOutSchema(Schema):
    """A 绩效目标表 row as a fix proposes it (kb.targets.table.TargetRow, every field)."""
    level1 = fields.String()
    level2 = fields.String()
    name = fields.String()
    operator = fields.String()
    value = fields.String()
    unit = fields.String()
    code = fields.String()
    basis = fields.String()
    actual = fields.String(metadata={"description": "实际完成值（监控、自评时）"})
    self_score = fields.Float(allow_none=True, metadata={"description": "单位自评得分"})


class FixSchema(Schema):
    message = fields.String(required=True)
    row = fields.Nested(TargetRowOutSchema, allow_none=True)
    text = fields.String()
    source = fields.String()


class FindingSchema(Schema):
    rule = fields.String(required=True)
    severity = fields.String(required=True, metadata={"enum": ["error", "warning", "info"]})
    message = fields.String(required=True)
    row = fields.Integer(allow_none=True, metadata={"description": "指标在表中的位置（从1起）"})
    fix = fields.Nested(FixSchema)


class _ToDict(Schema):
    """Results whose data class writes its own figures (rounded rates, computed completion) with to_dict; the
    schema says which of them an answer carries, and documents them."""

    @pre_dump
    def _data(self, result, **kwargs):
        return result.to_dict() if hasattr(result, "to_dict") else result


class CheckResultSchema(_ToDict):
    """kb.targets.check.CheckResult: the review of a 绩效目标表."""
    version = fields.String(allow_none=True)
    grade = fields.String(required=True, metadata={"enum": ["优", "良", "中", "差"]})
    meaning = fields.String()
    score = fields.Integer()
    findings = fields.List(fields.Nested(FindingSchema), required=True)


class MonitorRowSchema(Schema):
    row = fields.Integer(required=True)
    name = fields.String(required=True)
    level1 = fields.String()
    level2 = fields.String()
    target = fields.String()
    actual = fields.String()
    kind = fields.String(metadata={"enum": ["定量", "时效", "定性"]})
    completion = fields.Float(allow_none=True, metadata={"description": "0–1；未填报为 null"})
    projected = fields.Float(allow_none=True, metadata={"description": "累计数量按目前进度推算的全年值"})
    reason = fields.String()


class AlertSchema(Schema):
    kind = fields.String(required=True, metadata={"enum": ["spending_ahead", "results_ahead", "execution_behind",
                                                          "late", "unreachable"]})
    title = fields.String()
    message = fields.String(required=True)
    explain = fields.String(metadata={"description": "要求单位说明的内容"})
    rows = fields.List(fields.Integer(), required=True)


class MonitorResultSchema(_ToDict):
    """kb.targets.monitoring.MonitorResult: 执行监控 of a table with its values so far."""
    as_of = fields.String(required=True)
    budget_wan_yuan = fields.Float()
    executed_wan_yuan = fields.Float()
    execution_rate = fields.Float(required=True)
    time_share = fields.Float(required=True)
    completion = fields.Float(allow_none=True, required=True)
    tolerance = fields.Float()
    rows = fields.List(fields.Nested(MonitorRowSchema), required=True)
    warnings = fields.List(fields.Nested(AlertSchema), required=True)


class ScoredRowSchema(Schema):
    row = fields.Integer(required=True)
    name = fields.String(required=True)
    level1 = fields.String()
    score = fields.Float(required=True)
    max = fields.Float(required=True)
    reason = fields.String()
    self_score = fields.Float(allow_none=True)


class SelfEvaluationFindingSchema(Schema):
    id = fields.String(required=True, metadata={"enum": ["C15"]})
    row = fields.Integer(allow_none=True, metadata={"description": "null 为全表合计"})
    message = fields.String(required=True)
    excess = fields.Float(required=True, metadata={"description": "多计的分数"})


class EvaluationResultSchema(_ToDict):
    """kb.targets.self_evaluation.Evaluation: 单位自评 scoring."""
    total = fields.Float(required=True)
    grade = fields.String(required=True, metadata={"enum": ["优", "良", "中", "差"]})
    execution_rate = fields.Float()
    weights = fields.Dict(keys=fields.String(), values=fields.Float())
    by_level1 = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    rows = fields.List(fields.Nested(ScoredRowSchema), required=True)
    findings = fields.List(fields.Nested(SelfEvaluationFindingSchema), required=True)
    notes = fields.List(fields.String())

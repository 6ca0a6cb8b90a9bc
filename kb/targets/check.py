"""Review a drafted 绩效目标表 the way the bureau's reviewers do (财预〔2015〕88号
criteria, domain-reference §7.3): rules with stable ids, each finding with a
severity, a Chinese message, the row (1-based position in `indicators`) and,
where one exists, a proposed fix; then a grade 优/良/中/差 with its meaning.

Rules that compare with the library (nearest indicator, reference values,
quota standards) run when a session is given; the others need only the table.
The 一级/二级 dimensions, operators, value bases and grades come from
kb.dimensions.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

from sqlmodel import Session

from kb.library import snapshot as snapshots
from kb.dimensions import Dimensions, dimensions
from kb.errors import KbError
from kb.models import IndicatorRecord
from kb.numerals import fmt
from kb.targets.project import Scope, scope as resolve_scope
from kb.targets.quotas import Quantity, QuotaMatch, applicable, estimate, parse_quantity
from kb.library.snapshot import IndicatorRow, Snapshot, name_key, sectors_related
from kb.library.versions import VersionRef
from kb.targets.table import TargetRow, TargetTable, normalise_row, numeric_value
from kb.targets.tokens import GENERIC_WORDS, words
from kb.targets.values import (
    END_OF_YEAR,
    cost_category,
    is_date_or_period,
    money_factor,
    quota_for,
    row_for,
    suggest,
    value_is_valid,
)

SEVERITIES = ("error", "warning", "info")
QUANTITATIVE_SHARE_MIN = 0.6  # C06: 定量为主、定性为辅
MIN_INDICATORS = 3  # C05
SATISFACTION_MIN = 80  # C08: 满意度 targets below this are unusual
BUDGET_OVER = 0.10  # C13: cost indicators may exceed the budget by at most this share
BUDGET_UNDER = 0.50  # C13: … and should account for at least this share of it
# score deductions per finding, and the most one rule can cost (C16)
PENALTY = {"error": 12, "warning": 4, "info": 0}
PENALTY_CAP = {"error": 30, "warning": 12, "info": 0}

# C07: words that make a target unmeasurable
VAGUE_WORDS = ("进一步", "有效", "明显", "显著", "大幅", "较好", "逐步", "加强", "提升", "持续", "不断", "稳步",
               "切实", "较大", "良好", "大力", "积极")
# C10: inputs are not results
INPUT_WORDS = ("资金", "经费", "投入", "预算", "投资", "拨付", "支出", "费用", "成本")
STAFF_INPUT_RE = re.compile(r"(投入|配备|安排|参与)?(工作|管理)?人员(数|数量|投入)")
PROCESS_RATE_RE = re.compile(r"(资金到位率|预算执行率|资金拨付率|资金使用率|资金执行率|支出进度)")
# C12: lower is better / higher is better; an inverting word ("死亡率下降率") turns a name around
DOWN_WORDS = ("死亡率", "病死率", "感染率", "并发症", "发生率", "费用增幅", "费用增长", "能耗", "事故", "投诉", "差错",
              "不良事件", "超标", "返修率", "故障率", "漏报率", "误诊率", "辍学率", "空置率", "流失率", "失败率", "逾期",
              "拖欠", "发案", "污染", "排放", "药占比", "耗材占比", "平均住院日", "等待时间", "候诊时间", "成本", "费用",
              "单价", "均次费用", "复发率", "再入院率", "退货率", "损耗率")
UP_WORDS = ("满意度", "满意率", "合格率", "达标率", "覆盖率", "完成率", "到位率", "执行率", "知晓率", "治愈率", "及时率",
            "使用率", "优良率", "接种率", "管理率", "就业率", "入学率", "巩固率", "成活率", "利用率", "好转率", "建档率",
            "参保率", "通过率", "验收率")
INVERTING_WORDS = ("下降", "降低", "减少", "减幅", "降幅", "控制", "压减", "节约", "节省", "减少率")
GROWTH_WORDS = ("增长", "增幅", "增速", "比上年", "同比", "环比", "提高", "增加")


@dataclass
class Fix:
    """What to change: a replacement row, a text (e.g. a 年度总体目标), or both; `source` is the
    library indicator or quota standard it comes from."""
    message: str
    row: TargetRow | None = None
    text: str = ""
    source: str = ""


@dataclass
class Finding:
    rule: str
    severity: str  # error | warning | info
    message: str
    row: int | None = None  # 1-based position in the table's indicators
    fix: Fix | None = None


@dataclass
class CheckResult:
    grade: str  # 优 | 良 | 中 | 差
    meaning: str
    score: int
    findings: list[Finding] = field(default_factory=list)
    version: str | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def rules(self, severity: str | None = None) -> set[str]:
        return {f.rule for f in self.findings if severity is None or f.severity == severity}

    def to_dict(self) -> dict:
        def finding(f: Finding) -> dict:
            d = {"rule": f.rule, "severity": f.severity, "message": f.message, "row": f.row}
            if f.fix:
                d["fix"] = {"message": f.fix.message, "row": asdict(f.fix.row) if f.fix.row else None,
                            "text": f.fix.text, "source": f.fix.source}
            return d
        return {"grade": self.grade, "meaning": self.meaning, "score": self.score, "version": self.version,
                "findings": [finding(f) for f in self.findings]}


@dataclass
class _Context:
    table: TargetTable
    rows: list[TargetRow]
    dims: Dimensions
    project_text: str
    quantity: Quantity
    snapshot: Snapshot | None = None
    scope: Scope | None = None
    quotas: list[QuotaMatch] = field(default_factory=list)
    scope_problems: list[str] = field(default_factory=list)
    memo: dict = field(default_factory=dict)

    @property
    def budget(self) -> float | None:
        return self.table.project.budget_wan_yuan

    def numbered(self) -> Iterable[tuple[int, TargetRow]]:
        return enumerate(self.rows, start=1)

    def quantitative(self, row: TargetRow) -> bool:
        """A 定量 row: a quantitative operator, or none written but a number for a value (C04 reports that)."""
        if row.operator in self.dims.quantitative_operators:
            return True
        return not row.operator and numeric_value(row.value) is not None

    # --- the library, when there is one ---

    def library_row(self, row: TargetRow) -> IndicatorRecord | None:
        """The library indicator a row is: by code, else by its name."""
        if not self.snapshot:
            return None
        if row.code and row.code in self.snapshot.by_code:
            return self.snapshot.by_code[row.code]
        hits = self.snapshot.by_name.get(name_key(row.name), [])
        return _prefer_in_scope(hits, self.scope)

    def nearest(self, name: str, level1: str = "", level2: str = "", relevant: bool = False,
                exclude: set[str] = frozenset()) -> IndicatorRecord | None:
        """The library indicator closest in name (character bigrams), within the dimension and the project's scope."""
        if not self.snapshot:
            return None
        target = _bigrams(name)
        project_words = set(words(self.project_text)) - GENERIC_WORDS if relevant else set()
        best, best_score = None, 0.0
        for rec in _pool(self.snapshot, level1, level2):  # light rows; the best one is made a record
            if rec.code in exclude or rec.name == name or not _in_scope(rec, self.scope):
                continue
            score = _dice(target, _bigram_cache(self.snapshot, rec))
            if relevant:
                overlap = sum(1 for w in project_words if w in rec.name)
                if not overlap and rec.kind == "specific":
                    continue
                score += 0.3 * overlap
            if rec.kind == "common" and self.scope and set(rec.project_types) & set(self.scope.type_codes):
                score += 0.2
            if score > best_score:
                best, best_score = rec, score
        return self.snapshot.record(best) if best_score > 0 else None

    def candidate(self, level1: str, level2: str = "") -> IndicatorRecord | None:
        """The library indicator to add for a missing dimension: a common one of the project's type,
        then a general common one, then a specific one of its scope sharing words with the project;
        among equals, one the project gives a value for."""
        if not self.snapshot:
            return None
        types = set(self.scope.type_codes) if self.scope else set()
        project_words = set(words(self.project_text)) - GENERIC_WORDS
        ranked = []
        for rec in _pool(self.snapshot, level1, level2):
            if not _in_scope(rec, self.scope):
                continue
            overlap = sum(1 for w in project_words if w in rec.name)
            if rec.kind == "common" and set(rec.project_types) & types:
                tier = 0
            elif rec.kind == "common" and not rec.project_types:
                tier = 1
            elif rec.kind == "specific" and overlap and self.scope and self.scope.sectors:
                tier = 2
            else:
                continue
            full = self.snapshot.record(rec)
            has_value = bool(self.fix_row(full).value)
            ranked.append((tier, not has_value, -overlap, rec.code, full))
        return min(ranked, key=lambda t: t[:4])[4] if ranked else None

    def fix_row(self, rec: IndicatorRecord) -> TargetRow:
        if "estimate" not in self.memo:
            self.memo["estimate"] = estimate(self.quotas, self.quantity) if self.quotas else None
        return row_for(rec, suggest(rec, self.quantity, self.quotas, self.budget, self.memo["estimate"], fallback=True))


def _prefer_in_scope(hits: list[IndicatorRecord], scope: Scope | None) -> IndicatorRecord | None:
    if not hits:
        return None
    in_scope = [h for h in hits if _in_scope(h, scope)]
    return (in_scope or hits)[0]


def _in_scope(rec: IndicatorRecord | IndicatorRow, scope: Scope | None) -> bool:
    if rec.status not in ("standard", "candidate"):
        return False
    if scope is None or rec.kind == "common" or not rec.sectors or not scope.sectors:
        return True
    return any(sectors_related(s, scope.sectors[0]) for s in rec.sectors)


def _pool(snap: Snapshot, level1: str, level2: str) -> list[IndicatorRow]:
    key = ("pool", level1, level2)
    if key not in snap.memo:
        dims = dimensions()
        snap.memo[key] = [
            r for r in snap.active_rows
            if r.target_dims[0] in dims.target_level1 and (not level1 or r.target_dims[0] == level1)
            and (not level2 or r.target_dims[1] == level2)
        ]
    return snap.memo[key]


def _bigrams(text: str) -> frozenset[str]:
    t = name_key(text)
    return frozenset(t[i:i + 2] for i in range(len(t) - 1)) or frozenset([t])


def _bigram_cache(snap: Snapshot, rec: IndicatorRow) -> frozenset[str]:
    cache = snap.memo.setdefault("bigrams", {})
    if rec.code not in cache:
        cache[rec.code] = _bigrams(rec.name)
    return cache[rec.code]


def _dice(a: frozenset, b: frozenset) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _label(row: TargetRow) -> str:
    return f"“{row.name}”" if row.name else "该行"


# --- the rules -------------------------------------------------------------------------

def c01_goal(ctx: _Context) -> Iterable[Finding]:
    """完整性: the 年度总体目标 is stated."""
    goal = (ctx.table.goal or "").strip()
    if len(goal) >= 10:
        return
    outputs = [r for r in ctx.rows if r.level1 == "产出指标" and r.name and ctx.quantitative(r) and money_factor(r.unit) is None
               and value_is_valid(r.operator, r.value, r.unit, r.level2)][:3]
    effects = [r for r in ctx.rows if r.level1 == "效益指标" and r.name][:1]
    parts = [f"{r.name}{'' if r.operator in ('=', '定性') else r.operator}{r.value}{r.unit}" for r in outputs]
    draft = f"年内完成{ctx.table.project.name}" + (f"，实现{'、'.join(parts)}" if parts else "") + \
        (f"，{effects[0].name}{effects[0].operator if effects[0].operator != '定性' else ''}{effects[0].value}{effects[0].unit}" if effects and effects[0].value else "") + "。"
    yield Finding("C01", "error", "未填写年度总体目标" if not goal else f"年度总体目标过于简略（“{goal}”）",
                  None, Fix("按产出和效益指标写明年度总体目标，例如：" + draft, text=draft))


def c02_level1(ctx: _Context) -> Iterable[Finding]:
    """完整性: every 一级 of the 101号 template is present (成本 may still sit under 产出 as a 二级)."""
    present = {r.level1 for r in ctx.rows if r.name}
    cost_under_output = any(r.level1 == "产出指标" and r.level2 == "成本指标" for r in ctx.rows)
    for level in ctx.dims.target_levels:
        if level.level1 in present or (level.level1 == "成本指标" and cost_under_output):
            continue
        level2 = level.required[0] if level.required else (level.level2[0] if level.level2 else "")
        rec = ctx.candidate(level.level1, "" if level.required_any else level2)
        fix = Fix(f"补充{level.level1}，如“{rec.name}”", ctx.fix_row(rec), source=rec.code) if rec else None
        yield Finding("C02", "error", f"缺少一级指标“{level.level1}”", None, fix)


def c03_level2(ctx: _Context) -> Iterable[Finding]:
    """完整性: the required 二级 of each 一级 present (产出: 数量, 质量, 时效); 二级 belong to their 一级."""
    present = {(r.level1, r.level2) for r in ctx.rows if r.name}
    level1s = {r.level1 for r in ctx.rows if r.name}
    for level in ctx.dims.target_levels:
        if level.level1 not in level1s:
            continue  # C02 says so
        for level2 in level.required:
            if (level.level1, level2) in present:
                continue
            rec = ctx.candidate(level.level1, level2)
            fix = Fix(f"补充{level2}，如“{rec.name}”", ctx.fix_row(rec), source=rec.code) if rec else None
            yield Finding("C03", "error", f"“{level.level1}”下缺少“{level2}”", None, fix)
        if level.required_any and not any(l1 == level.level1 and l2 in level.level2 for l1, l2 in present):
            yield Finding("C03", "error", f"“{level.level1}”下没有{'、'.join(level.level2)}中的任何一类", None)
    for i, row in ctx.numbered():
        if not row.name:
            continue
        if row.level1 and row.level1 not in ctx.dims.target_level1:
            yield Finding("C03", "error", f"第{i}行一级指标“{row.level1}”不是目标表的一级指标（应为{'、'.join(ctx.dims.target_level1)}）", i)
        elif not row.level1:
            yield Finding("C03", "error", f"第{i}行未填一级指标", i)
        elif row.level2 not in ctx.dims.level2_of(row.level1) and not (row.level1 == "产出指标" and row.level2 == "成本指标"):
            yield Finding("C03", "error", f"第{i}行二级指标“{row.level2 or '（空）'}”不属于“{row.level1}”（应为{'、'.join(ctx.dims.level2_of(row.level1))}）", i)


def c04_cells(ctx: _Context) -> Iterable[Finding]:
    """完整性: every row has a name, an operator, a value, and quantitative rows a unit."""
    for i, row in ctx.numbered():
        if not row.name:
            yield Finding("C04", "error", f"第{i}行未填三级指标名称", i)
            continue
        rec = ctx.library_row(row) or ctx.nearest(row.name, row.level1, row.level2)
        lib = ctx.fix_row(rec) if rec and _dice(_bigrams(row.name), _bigrams(rec.name)) >= 0.5 else None
        missing = []
        if row.operator and row.operator not in ctx.dims.operators:
            missing.append(f"有效的运算符（“{row.operator}”不在{'、'.join(ctx.dims.operators)}中）")
        elif not row.operator and not row.value:
            missing.append("指标性质（运算符）")
        if not row.value:
            missing.append("指标值")
        if ctx.quantitative(row) and not row.unit and not is_date_or_period(row.value):
            missing.append("计量单位")
        guessed = lib.operator if lib else (_guess_operator(row) or ("=" if numeric_value(row.value) is not None else "定性"))
        if not missing and not row.operator:
            # older forms have no 指标性质 column: the value is still there, the direction is not
            proposed = TargetRow(row.level1, row.level2, row.name, guessed, row.value, row.unit, row.code, row.basis)
            yield Finding("C04", "warning", f"{_label(row)}未填指标性质（运算符）", i,
                          Fix(f"补全为：{guessed} {row.value} {row.unit}".strip(), proposed, source=lib.code if lib else ""))
            continue
        if not missing:
            continue
        proposed = TargetRow(row.level1, row.level2, row.name,
                             row.operator if row.operator in ctx.dims.operators else guessed,
                             row.value or (lib.value if lib else ""), row.unit or (lib.unit if lib else _guess_unit(row)),
                             row.code or (lib.code if lib else ""), row.basis or (lib.basis if lib else ""))
        source = f"（参照库内指标“{rec.name}”）" if lib else ""
        yield Finding("C04", "error", f"{_label(row)}缺少{'、'.join(missing)}", i,
                      Fix(f"补全为：{proposed.operator} {proposed.value or '（请填写）'} {proposed.unit}{source}".strip(),
                          proposed, source=lib.code if lib else ""))


def _guess_operator(row: TargetRow) -> str:
    if any(w in row.name for w in DOWN_WORDS) and not any(w in row.name for w in INVERTING_WORDS):
        return "≤"
    return "≥" if re.search(r"(率|度|数|量|人次|次)$", row.name) else ""


def _guess_unit(row: TargetRow) -> str:
    if re.search(r"(率|度|占比|比例)$", row.name):
        return "%"
    if row.name.endswith("人次"):
        return "人次"
    if re.search(r"人数$", row.name):
        return "人"
    return ""


def c05_count(ctx: _Context) -> Iterable[Finding]:
    """完整性: at least three indicators, no name twice."""
    named = [r for r in ctx.rows if r.name]
    if len(named) < MIN_INDICATORS:
        yield Finding("C05", "error", f"三级指标只有{len(named)}个，至少应有{MIN_INDICATORS}个", None)
    seen: dict[str, int] = {}
    for i, row in ctx.numbered():
        key = name_key(row.name)
        if not key:
            continue
        if key in seen:
            yield Finding("C05", "warning", f"第{i}行指标{_label(row)}与第{seen[key]}行重复", i,
                          Fix(f"删除第{i}行或改为另一项指标"))
        else:
            seen[key] = i


def c06_quantified(ctx: _Context) -> Iterable[Finding]:
    """科学性: mostly quantitative indicators, whose values are numbers (or dates/periods for time)."""
    named = [r for r in ctx.rows if r.name]
    if named:
        share = sum(1 for r in named if ctx.quantitative(r)) / len(named)
        if share < QUANTITATIVE_SHARE_MIN:
            yield Finding("C06", "warning", f"定量指标占比{share:.0%}，低于{QUANTITATIVE_SHARE_MIN:.0%}（定量为主、定性为辅）", None,
                          Fix("把能计量的定性指标改为定量表述（数量、比率、时限）"))
    for i, row in ctx.numbered():
        if not row.name or not row.value or not ctx.quantitative(row):
            continue
        if value_is_valid(row.operator, row.value, row.unit, row.level2):
            continue
        rec = ctx.library_row(row) or ctx.nearest(row.name, row.level1, row.level2)
        proposed = ctx.fix_row(rec) if rec else None
        if row.operator == "区间":
            message = f"{_label(row)}为区间指标，指标值“{row.value}”应写成“下限-上限”"
        else:
            message = f"{_label(row)}是定量指标，指标值“{row.value}”不是数字" + ("或日期/时限" if row.level2 == "时效指标" else "")
        if proposed and proposed.value:
            fix = Fix(f"量化为：{proposed.name} {proposed.operator} {proposed.value} {proposed.unit}".strip(), proposed, source=rec.code)
        elif row.level2 == "时效指标":
            fix = Fix(f"写明完成时限，如“{END_OF_YEAR}”", TargetRow(row.level1, row.level2, row.name, "≤", END_OF_YEAR, "日期", row.code))
        else:
            fix = Fix("改为可计量的数值，或将运算符改为“定性”")
        yield Finding("C06", "error", message, i, fix)


def c07_vague(ctx: _Context) -> Iterable[Finding]:
    """科学性: no vague words (进一步, 有效, 明显 …) where a measurable target is expected."""
    for i, row in ctx.numbered():
        if not row.name:
            continue
        in_value = [w for w in VAGUE_WORDS if w in row.value]
        in_name = [w for w in VAGUE_WORDS if w in row.name]
        quantitative = ctx.quantitative(row)
        if quantitative and (in_value or (in_name and numeric_value(row.value) is None)):
            vague = in_value or in_name
            rec = ctx.library_row(row) or ctx.nearest(_strip_vague(row.name), row.level1, row.level2)
            proposed = ctx.fix_row(rec) if rec else None
            fix = Fix(f"量化为：{proposed.name} {proposed.operator} {proposed.value} {proposed.unit}".strip(), proposed, source=rec.code) \
                if proposed and proposed.value else Fix(f"去掉“{'、'.join(vague)}”，写明可考核的数值，如“{_strip_vague(row.name)} ≥ 目标值”")
            yield Finding("C07", "warning", f"{_label(row)}含模糊表述“{'、'.join(vague)}”，难以考核", i, fix)
        elif not quantitative and in_value and row.value not in ctx.dims.qualitative_values:
            yield Finding("C07", "info", f"定性指标{_label(row)}的指标值“{row.value}”含“{'、'.join(in_value)}”，宜写成可判断的等级", i,
                          Fix(f"指标值写为“{ctx.dims.qualitative_values[0]}”等可判断的等级，并说明评判标准",
                              TargetRow(row.level1, row.level2, row.name, "定性", ctx.dims.qualitative_values[0], "", row.code)))


def _strip_vague(name: str) -> str:
    for w in VAGUE_WORDS:
        name = name.replace(w, "")
    return name or "指标"


def c08_units(ctx: _Context) -> Iterable[Finding]:
    """科学性: percentages within 0–100, 满意度 at a usual level, time targets that are dates or periods."""
    for i, row in ctx.numbered():
        if not row.name or not ctx.quantitative(row):
            continue
        number = numeric_value(row.value)
        percent = row.unit in ("%", "％") or row.value.endswith(("%", "％"))
        if percent and number is not None:
            growth = any(w in row.name for w in GROWTH_WORDS)
            if number < 0 or (number > 100 and not growth):
                yield Finding("C08", "error", f"{_label(row)}的百分比“{row.value}”超出0–100", i,
                              Fix("百分比应在0–100之间", TargetRow(row.level1, row.level2, row.name, row.operator, "100", row.unit, row.code)))
            elif any(w in row.name for w in ("满意度", "满意率")) and number < SATISFACTION_MIN and row.operator in ("≥", ">", "="):
                yield Finding("C08", "warning", f"{_label(row)}目标{fmt(number)}%偏低（一般不低于{SATISFACTION_MIN}%）", i,
                              Fix(f"满意度目标一般设为≥{SATISFACTION_MIN}%–95%", TargetRow(row.level1, row.level2, row.name, "≥", "90", "%", row.code)))
        if row.level2 == "时效指标" and row.value and not percent and not is_date_or_period(row.value) \
                and not (number is not None and row.unit in ("天", "日", "月", "周", "工作日", "小时", "分钟", "年")):
            yield Finding("C08", "warning", f"时效指标{_label(row)}的指标值“{row.value}{row.unit}”不是日期或时限", i,
                          Fix(f"写成日期或时限，如“{END_OF_YEAR}”或“≤30天”",
                              TargetRow(row.level1, row.level2, row.name, "≤", END_OF_YEAR, "日期", row.code)))


UNRELATED_LIMIT = 3  # C09: a table with this many unrelated rows is not 优, whatever its score


def _case_names(ctx: _Context) -> list[str]:
    """The row names of the published cases most similar to this project (C09's case evidence)."""
    if "case_names" not in ctx.memo:
        names: list[str] = []
        if ctx.snapshot is not None and ctx.snapshot.cases:
            from kb.targets import cases as case_library

            p = ctx.table.project
            similar = case_library.similar_cases(ctx.snapshot, p.name, p.description, ctx.scope.sector if ctx.scope else None,
                                                 ctx.scope.type_codes if ctx.scope else [], p.budget_wan_yuan)
            names = [r.get("name", "") for c in similar for r in c.case.rows]
        ctx.memo["case_names"] = names
    return ctx.memo["case_names"]


def _used_by_similar_cases(ctx: _Context, name: str) -> bool:
    from kb.targets.cases import names_match

    return any(names_match(name, other) for other in _case_names(ctx))


def c09_relevance(ctx: _Context) -> Iterable[Finding]:
    """相关性: each indicator is tied to the project's content, is a library indicator of its scope,
    or was used by published projects like it (the case library); anything else is a warning."""
    for problem in ctx.scope_problems:
        yield Finding("C09", "warning", problem, None)
    project_words = set(words(ctx.project_text)) - GENERIC_WORDS
    for i, row in ctx.numbered():
        if not row.name or row.level1 in ("满意度指标", "成本指标"):
            continue  # satisfaction and cost are asked of every project
        row_words = set(words(row.name)) - GENERIC_WORDS
        if not row_words:
            continue  # a generic indicator (计划任务完成率, 项目完成时间 …)
        if any(w in ctx.project_text for w in row_words) or row_words & project_words:
            continue
        if _used_by_similar_cases(ctx, row.name):
            continue
        rec = ctx.library_row(row)
        if rec is not None:
            if rec.kind == "common" and (not rec.project_types or not ctx.scope or set(rec.project_types) & set(ctx.scope.type_codes)):
                continue
            if rec.kind == "specific" and ctx.scope and ctx.scope.sectors and any(
                    sectors_related(s, ctx.scope.sectors[0]) for s in rec.sectors):
                continue
            if rec.kind == "specific" and ctx.scope and ctx.scope.sectors:
                names = "、".join(ctx.snapshot.sectors[s].name for s in rec.sectors if s in ctx.snapshot.sectors)
                yield Finding("C09", "warning", f"{_label(row)}是{names or '其他行业'}的指标，与本项目的行业和内容都不相关", i)
                continue
        alt = ctx.nearest(row.name, row.level1, row.level2, relevant=True)
        fix = Fix(f"改用与项目内容相关的指标，如“{alt.name}”", ctx.fix_row(alt), source=alt.code) if alt else \
            Fix("选用直接反映本项目产出和效果的指标")
        yield Finding("C09", "warning", f"{_label(row)}与项目名称和内容关联不明显", i, fix)


def c10_inputs(ctx: _Context) -> Iterable[Finding]:
    """相关性: inputs (money, staff) are not outputs (“投入不能作为绩效目标”)."""
    for i, row in ctx.numbered():
        if not row.name or row.level1 not in ("产出指标", "效益指标") or row.level2 == "成本指标":
            continue
        money = money_factor(row.unit) is not None
        staff = bool(STAFF_INPUT_RE.search(row.name))
        input_named = any(w in row.name for w in INPUT_WORDS)
        if (money and input_named) or staff:
            what = "资金投入" if money else "人员投入"
            moved = TargetRow("成本指标", "经济成本指标", row.name, "≤", row.value, row.unit, row.code)
            alt = ctx.nearest(ctx.table.project.name, "产出指标", "数量指标", relevant=True)
            fix = Fix("把金额列入成本指标（经济成本指标），产出指标写实际完成的工作量", moved) if money else \
                Fix(f"改为反映产出的指标，如“{alt.name}”" if alt else "改为反映产出的指标（完成的工作量、服务人次等）",
                    ctx.fix_row(alt) if alt else None, source=alt.code if alt else "")
            yield Finding("C10", "error", f"{_label(row)}是{what}，投入不能作为{row.level1}", i, fix)
        elif money:
            moved = TargetRow("成本指标", "经济成本指标", row.name, "≤", row.value, row.unit, row.code)
            yield Finding("C10", "warning", f"{_label(row)}以金额计量，宜作为成本指标", i, Fix("列入成本指标（经济成本指标）", moved))
        elif PROCESS_RATE_RE.search(row.name):
            alt = ctx.nearest(ctx.table.project.name, row.level1, row.level2, relevant=True)
            yield Finding("C10", "warning", f"{_label(row)}是预算执行（过程）指标，不宜作为{row.level1}", i,
                          Fix(f"改为反映产出的指标，如“{alt.name}”", ctx.fix_row(alt), source=alt.code) if alt else
                          Fix("改为反映产出的指标（完成的工作量、服务人次等）"))


def c11_reference(ctx: _Context) -> Iterable[Finding]:
    """合理性: values not below the library's 行业/历史标准; 取值依据 one of the four bases."""
    for i, row in ctx.numbered():
        if not row.name:
            continue
        if row.basis and row.basis not in ctx.dims.value_bases:
            yield Finding("C11", "warning", f"{_label(row)}的取值依据“{row.basis}”不规范（应为{'、'.join(ctx.dims.value_bases)}）", i,
                          Fix("取值依据填写：" + "、".join(ctx.dims.value_bases)))
        rec = ctx.library_row(row)
        value = numeric_value(row.value)
        if rec is None or value is None or not ctx.quantitative(row):
            continue
        for ref in rec.reference_values or []:
            if ref.get("basis") not in ("行业标准", "历史标准"):
                continue
            ref_value = numeric_value(str(ref.get("value", "")))
            if ref_value is None:
                continue
            down = rec.direction == "down"
            too_weak = value > ref_value if down else value < ref_value
            if too_weak and rec.direction in ("up", "down"):
                better = TargetRow(row.level1, row.level2, row.name, row.operator, fmt(ref_value), row.unit, rec.code, ref["basis"])
                yield Finding("C11", "warning",
                              f"{_label(row)}目标{row.operator}{row.value}{row.unit}{'高于' if down else '低于'}{ref['basis']}{fmt(ref_value)}{rec.unit}",
                              i, Fix(f"按{ref['basis']}取值：{row.operator}{fmt(ref_value)}{rec.unit}" + (f"（{ref.get('note')}）" if ref.get("note") else ""),
                                     better, source=rec.code))
                break


def c12_direction(ctx: _Context) -> Iterable[Finding]:
    """合理性: lower-is-better indicators use ≤, higher-is-better ones ≥."""
    for i, row in ctx.numbered():
        if not row.name or row.operator not in ("≥", ">", "≤", "<"):
            continue
        rec = ctx.library_row(row)
        inverted = any(w in row.name for w in INVERTING_WORDS)
        if rec is not None and rec.direction in ("up", "down"):
            direction = rec.direction
        elif inverted:
            continue
        elif any(w in row.name for w in DOWN_WORDS):
            direction = "down"
        elif any(row.name.endswith(w) or w in row.name for w in UP_WORDS):
            direction = "up"
        else:
            continue
        if direction == "down" and row.operator in ("≥", ">"):
            flipped = TargetRow(row.level1, row.level2, row.name, "≤", row.value, row.unit, row.code, row.basis)
            yield Finding("C12", "error", f"{_label(row)}越低越好，运算符应为“≤”而不是“{row.operator}”", i, Fix("运算符改为“≤”", flipped))
        elif direction == "up" and row.operator in ("≤", "<") and row.level2 != "时效指标":
            flipped = TargetRow(row.level1, row.level2, row.name, "≥", row.value, row.unit, row.code, row.basis)
            yield Finding("C12", "warning", f"{_label(row)}越高越好，运算符一般应为“≥”而不是“{row.operator}”", i, Fix("运算符改为“≥”", flipped))


def _cost_rows(ctx: _Context) -> list[tuple[int, TargetRow]]:
    return [(i, r) for i, r in ctx.numbered() if r.name and (r.level1 == "成本指标" or r.level2 == "成本指标")]


def _is_total(row: TargetRow) -> bool:
    return money_factor(row.unit) is not None and not re.search(r"(人均|户均|生均|次均|亩均|单位|每|单价|标准|/)", row.name)


def c13_budget(ctx: _Context) -> Iterable[Finding]:
    """预算匹配性: the funds adding up, cost indicators broken down into amounts, and their total matching the budget."""
    p = ctx.table.project
    if p.fiscal_wan_yuan is not None or p.other_wan_yuan is not None:
        parts = (p.fiscal_wan_yuan or 0) + (p.other_wan_yuan or 0)
        if p.budget_wan_yuan is None:
            yield Finding("C13", "error", f"填写了财政拨款和其他资金（合计{fmt(parts)}万元），未填年度资金总额", None,
                          Fix(f"年度资金总额填写{fmt(parts)}万元"))
        elif abs(parts - p.budget_wan_yuan) > 0.005:
            yield Finding("C13", "error", f"财政拨款{fmt(p.fiscal_wan_yuan or 0)}万元与其他资金{fmt(p.other_wan_yuan or 0)}万元之和为"
                                          f"{fmt(parts)}万元，不等于年度资金总额{fmt(p.budget_wan_yuan)}万元", None,
                          Fix("核对资金情况：年度资金总额 = 财政拨款 + 其他资金"))
    costs = _cost_rows(ctx)
    if not costs:
        return  # C02 reports the missing 成本指标
    totals = [(i, r, numeric_value(r.value) * money_factor(r.unit)) for i, r in costs
              if _is_total(r) and numeric_value(r.value) is not None]
    money_rows = [r for _, r in costs if money_factor(r.unit) is not None or (r.unit or "").startswith("元")]
    if not money_rows:
        yield Finding("C13", "warning", "成本指标未细化到金额（如项目总成本、人均成本、单位成本）", None,
                      Fix("补充以元或万元计量的成本指标",
                          TargetRow("成本指标", "经济成本指标", "项目总成本", "≤", fmt(ctx.budget) if ctx.budget else "", "万元")))
        return
    budget = ctx.budget
    if not budget:
        yield Finding("C13", "info", "未填写项目预算金额，未核对成本指标与预算是否匹配", None)
        return
    if totals:
        total = sum(t for _, _, t in totals)
        first_row = totals[0][0]
        if total > budget * (1 + BUDGET_OVER):
            yield Finding("C13", "error", f"成本指标合计{fmt(total)}万元，超过项目预算{fmt(budget)}万元", first_row,
                          Fix(f"成本指标合计不应超过预算{fmt(budget)}万元"))
        elif total < budget * BUDGET_UNDER:
            yield Finding("C13", "warning", f"成本指标合计{fmt(total)}万元，仅为项目预算{fmt(budget)}万元的{total / budget:.0%}，成本与预算不匹配或未细化",
                          first_row, Fix(f"补全分项成本，使其与预算{fmt(budget)}万元相符"))
    # a unit cost times the quantity it is for should fit in the budget
    heads = [numeric_value(r.value) for r in ctx.rows if r.level2 == "数量指标" and r.unit in ("人", "人次", "名")
             and numeric_value(r.value)]
    for i, row in costs:
        unit_cost = numeric_value(row.value)
        if unit_cost is None or not heads or not re.search(r"人均", row.name) or row.unit not in ("元", "元/人"):
            continue
        product = unit_cost * max(heads) / 10000
        if product > budget * (1 + BUDGET_OVER):
            yield Finding("C13", "warning", f"{_label(row)}{fmt(unit_cost)}元 × {fmt(max(heads))}人 = {fmt(product)}万元，超过预算{fmt(budget)}万元", i,
                          Fix(f"人均成本不宜超过{fmt(budget * 10000 / max(heads))}元", TargetRow(
                              row.level1, row.level2, row.name, "≤", fmt(budget * 10000 / max(heads)), row.unit, row.code)))


def c14_quotas(ctx: _Context) -> Iterable[Finding]:
    """预算匹配性: cost indicators within the applicable 支出标准; meeting length within the rules."""
    if not ctx.quotas:
        return
    q = ctx.quantity
    meeting = quota_for("会议费", ctx.quotas)
    if meeting and q.days and q.days > 2 and "一类" not in meeting.quota.tier:
        yield Finding("C14", "warning", f"会期{fmt(q.days)}天，超过二、三、四类会议会期不得超过2天的规定", None,
                      Fix("会期压缩至2天以内", text="会期2天", source=meeting.quota.code))
    for i, row in _cost_rows(ctx) + [(i, r) for i, r in ctx.numbered() if r.name in ("会期", "会议天数") and r.level1 != "成本指标"]:
        value = numeric_value(row.value)
        if value is None:
            continue
        if row.name in ("会期", "会议天数"):
            if meeting and "一类" not in meeting.quota.tier and value > 2:
                yield Finding("C14", "error", f"{_label(row)}{fmt(value)}天，超过会期不得超过2天的规定", i,
                              Fix("会期不超过2天", TargetRow(row.level1, row.level2, row.name, "≤", "2", row.unit, row.code), source=meeting.quota.code))
            continue
        named = cost_category(row.name, [])
        match = quota_for(named or cost_category(row.name, ctx.quotas), ctx.quotas)
        if match is None:
            continue
        quota = match.quota
        unit = row.unit.replace(" ", "")
        per_day = bool(re.search(r"(每天|每日|人天|人·天|日均)", row.name) or unit.endswith(("人·天", "人天", "/天")))
        per_person = not per_day and bool(re.search(r"(人均|每人)", row.name) or unit == "元/人")
        if per_day and quota.unit.startswith("元/人"):
            cap, how = quota.amount, f"{fmt(quota.amount)}{quota.unit}"
        elif per_person and quota.unit == "元/人·天":
            if not q.days:
                yield Finding("C14", "info", f"{_label(row)}适用{quota.name}（{fmt(quota.amount)}{quota.unit}），项目内容未写明天数，无法核对", i)
                continue
            cap, how = quota.amount * q.days, f"{fmt(quota.amount)}{quota.unit} × {fmt(q.days)}天"
        elif _is_total(row) and named:
            est = estimate([m for m in ctx.quotas if m.quota.category == quota.category], q)
            if est is None:
                continue
            cap, how = est.total_yuan, est.formula.split(" = ")[0]
        else:
            continue
        if _yuan(value, unit) > cap * 1.0001:
            capped = fmt(cap / _yuan(1, unit))
            yield Finding("C14", "error", f"{_label(row)}{row.value}{row.unit}超过{quota.name}（{how}）", i,
                          Fix(f"不超过 {how}{'' if how.endswith(quota.unit) else f' = {fmt(cap)}元'}（{match.source}）",
                              TargetRow(row.level1, row.level2, row.name, "≤", capped, row.unit, row.code, "计划标准"), source=quota.code))


def _yuan(value: float, unit: str) -> float:
    """An amount in 元, whatever money unit it is written in (元/人 and 元/人·天 are 元)."""
    factor = money_factor(unit)
    return value * factor * 10000 if factor else value


def c15_self_evaluation(ctx: _Context) -> Iterable[Finding]:
    """A table whose rows claim self-evaluation scores: every row claiming more than its actual value earns
    (财预〔2020〕10号 scoring, kb/targets/self_evaluation.py), and the total inflation."""
    from kb.targets.self_evaluation import evaluate

    if not any(r.self_score is not None for r in ctx.rows):
        return
    try:
        result = evaluate(ctx.table)
    except KbError as exc:
        yield Finding("C15", "warning", f"填了自评得分，但无法核对：{exc.message}")
        return
    for f in result.findings:
        yield Finding("C15", "warning" if f.row is not None else "info", f.message, f.row)


RULES: list[tuple[str, Callable[[_Context], Iterable[Finding]]]] = [
    ("C01", c01_goal), ("C02", c02_level1), ("C03", c03_level2), ("C04", c04_cells), ("C05", c05_count),
    ("C06", c06_quantified), ("C07", c07_vague), ("C08", c08_units), ("C09", c09_relevance), ("C10", c10_inputs),
    ("C11", c11_reference), ("C12", c12_direction), ("C13", c13_budget), ("C14", c14_quotas),
    ("C15", c15_self_evaluation),
]


def grade(findings: list[Finding]) -> tuple[str, str, int]:
    """C16: 100 less capped deductions per rule; any error, or UNRELATED_LIMIT rows C09 finds unrelated,
    keeps a table from 优."""
    score = 100
    for rule in {f.rule for f in findings}:
        for severity in SEVERITIES:
            n = sum(1 for f in findings if f.rule == rule and f.severity == severity)
            score -= min(PENALTY_CAP[severity], n * PENALTY[severity])
    bands = dimensions().grades
    unrelated = sum(1 for f in findings if f.rule == "C09" and f.severity == "warning" and f.row is not None)
    if any(f.severity == "error" for f in findings) or unrelated >= UNRELATED_LIMIT:
        score = min(score, bands[0][1] - 1)  # 相关性 comes first: unrelated rows keep a table from 优
    score = max(0, score)
    for name, minimum, meaning in bands:
        if score >= minimum:
            return name, meaning, score
    name, _, meaning = bands[-1]
    return name, meaning, score


def check(table: TargetTable, session: Session | None = None, version: str | VersionRef | None = None) -> CheckResult:
    """Review a target table; with a session, also against the library version (default: current)."""
    rows = [normalise_row(r) for r in table.indicators]
    p = table.project
    ctx = _Context(table, rows, dimensions(), "\n".join(t for t in (p.name, p.description, p.department, table.goal) if t),
                   parse_quantity("\n".join(t for t in (p.name, p.description) if t)))
    if session is not None:
        ctx.snapshot = snapshots.load(session, version)
        ctx.scope = resolve_scope(ctx.snapshot, p, strict=False)
        for what, resolver in (("行业/领域", ctx.snapshot.resolve_sector), ("项目类别", ctx.snapshot.resolve_project_type)):
            try:
                resolver(p.sector if what == "行业/领域" else p.project_type)
            except Exception as exc:  # reported as a finding: the table is still worth checking
                ctx.scope_problems.append(getattr(exc, "message", str(exc)))
        ctx.quotas = applicable(ctx.snapshot, p.text, ctx.scope.type_codes, ctx.scope.sector, ctx.quantity)
    findings: list[Finding] = []
    for _, rule in RULES:
        findings.extend(rule(ctx))
    name, meaning, score = grade(findings)
    errors, warnings = sum(f.severity == "error" for f in findings), sum(f.severity == "warning" for f in findings)
    findings.append(Finding("C16", "info", f"审核结论：{name}（{meaning}）；{errors}项错误，{warnings}项提醒", None))
    return CheckResult(name, meaning, score, findings, ctx.snapshot.version.label if ctx.snapshot else None)

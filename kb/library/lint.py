"""A content lint of the library's indicators: what a reviewer would send
back about an indicator itself, before any drafter uses it.

Errors are contradictions (a count in %, an output count that should fall,
satisfaction filed outside 满意度 or something else filed under it, budget
execution as an output); warnings are things to look at (a rate without %,
a numeric operator with a text value, several measures fused in one
indicator, the same name twice, a placement moved from the source's while
the item still says verbatim). Each finding says what is wrong and how to
put it right. `zhibiao lint` and /curator/lint list them; publishing
refuses errors (kb.library.gates).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from kb.dimensions import dimensions
from kb.errors import InvalidInput
from kb.models import IndicatorRecord
from kb.library.snapshot import name_key
from kb.targets.table import numeric_value, range_value
from kb.targets.values import is_date_or_period

RATE_RE = re.compile(r"(率|比例|比率|占比|比重|覆盖面)$")
# "…学生数", "…对象数" count as much as "…人数"; 指数/系数/倍数/分数/参数 are measures, not counts
COUNT_RE = re.compile(r"(数量|人数|次数|个数|户数|件数|场次|人次|天数|项数|家数|台数|(?<![指系倍分函参基])[生象员口户所校]数)$")
COUNT_UNITS_NOT = ("%", "‰", "％")
HARM_RE = re.compile(r"(事故|投诉|差错|死亡|发病|超标|违规|违法|逾期|损失|失误|漏报|误报)")
# the share of harms dealt with rises as work gets done: 违法案件查处率, 违法整改率 are higher-is-better
REMEDY_RE = re.compile(r"(查处|整改|处置|办结|处理|纠正|破案|追回|挽回|化解|销号|结案)")
# a rate on another base (每十万人口死亡率 1/10万, 事故死亡率 人/万标台, 周转率 次, 千分率 ‰) says so in its unit
PER_BASE_UNIT_RE = re.compile(r"(/|‰|^次$)")
# a ratio written as 10:1 (生机比, 师生比) is a number
RATIO_VALUE_RE = re.compile(r"^\s*\d+(?:\.\d+)?\s*[:：]\s*\d+(?:\.\d+)?\s*$")
FUSED_RE = re.compile(r"率[、，,及和与]\S*率")
VAGUE_RE = re.compile(r"(提升|提高|改善|增强|加强|明显|有效)|(情况|状况)$")
SATISFACTION = "满意"
# what may stand under 满意度指标 besides 满意度/满意率: the served's judgement in other words
JUDGEMENT_RE = re.compile(r"(满意|认可|好评|评价|投诉|信任|获得感|幸福感|安全感|口碑|赞誉)")
# budget execution in its usual names (the process measure of 财预〔2020〕10号, not an output)
BUDGET_EXEC_RE = re.compile(r"(预算执行|资金支出率|资金执行率|资金使用率|支出进度|资金支付率)")
# a compliance or execution rate is how rules were kept, not what the output cost
COMPLIANCE_RE = re.compile(r"(执行率|达标率|合格率|合规率|核算率)$")
# a name that is an activity ("林木采伐监管") with the unit of a physical quantity: the quantity is unnamed
ACTIVITY_RE = re.compile(r"(监管|管理|建设|开展|保障|整治|治理|督查|检查|防控|防治|保护|养护|工作)$")
QUANTITY_UNIT_RE = re.compile(r"(立方米|吨|公顷|亩|公里|千米|平方米|米|千瓦|斤)$")
# the note of an item whose placement was moved from the source's: 原表列在“效益指标/经济效益指标”…
SOURCE_PLACEMENT_RE = re.compile(r"原表(?:中)?列(?:在|于)?[“\"]?([^”\"，。；、（(]*指标)")
UNREAD_RE = re.compile(r"(凭记忆|未核实|未核对)")

RULES = {
    "L01": "名称与单位",
    "L02": "运算符与方向",
    "L03": "维度归属",
    "L04": "一指标一度量、可衡量",
    "L05": "重复与同名",
    "L06": "来源性质与归类",
    "L07": "可靠程度",
}
SEVERITIES = {"error": "错误", "warning": "提醒"}


@dataclass(frozen=True)
class LintFinding:
    rule: str
    severity: str  # error | warning
    code: str
    message: str
    fix: str = ""  # how to put it right, in the curator's words
    codes: tuple[str, ...] = ()  # every indicator the finding is about (a duplicate names several)

    @property
    def title(self) -> str:
        return RULES.get(self.rule, self.rule)

    @property
    def all_codes(self) -> tuple[str, ...]:
        return self.codes or (self.code,)

    def to_dict(self) -> dict:
        return {"rule": self.rule, "title": self.title, "severity": self.severity, "code": self.code,
                "codes": list(self.all_codes), "message": self.message, "fix": self.fix}


def _label(rec: IndicatorRecord) -> str:
    return f"“{rec.code} {rec.name}”"


def _moved_from_source(rec: IndicatorRecord) -> str | None:
    """The source's placement a note names (原表列在…), when it is not where the item now stands."""
    match = SOURCE_PLACEMENT_RE.search(rec.note or "")
    if not match:
        return None
    said = match.group(1).strip()
    last = re.split(r"[/／]", said)[-1].strip()
    return None if last in rec.target_dims else said


def _framework(rec: IndicatorRecord) -> str:
    """The evaluation framework an indicator belongs to ("" for a 目标表 indicator): the same name in two
    frameworks (部门整体 53号 and 项目 10号, 三级 and 二级 hospital assessment) is two indicators, each in its
    framework's own levels, not a duplicate."""
    if rec.level1 in dimensions().target_level1:
        return ""
    src = rec.source or {}
    return src.get("doc_number") or src.get("document") or ""


def _qualifier(name: str) -> str:
    """What a name's brackets say (the key of duplicates leaves them out)."""
    return "".join(re.findall(r"[（(]([^）)]*)[）)]", name or "")).strip()


def lint_indicator(rec: IndicatorRecord) -> list[LintFinding]:
    out: list[LintFinding] = []
    name, unit = rec.name.strip(), (rec.unit or "").strip()
    level1, level2 = rec.target_dims

    def add(rule: str, severity: str, message: str, fix: str) -> None:
        out.append(LintFinding(rule, severity, rec.code, f"{_label(rec)}{message}", fix))

    # L01 name and unit agree
    if COUNT_RE.search(name) and unit in COUNT_UNITS_NOT:
        add("L01", "error", f"是计数，单位却是“{unit}”",
            "计数用人、个、次等计数单位；若来源给的是比例，把名称改为“…率”（如“受助率”）并说明改编")
    elif (RATE_RE.search(name) and unit and unit not in COUNT_UNITS_NOT and not rec.qualitative
          and not PER_BASE_UNIT_RE.search(unit)):
        add("L01", "warning", f"是比率，单位却是“{unit}”（应为 %）",
            "比率用 %；千分率、每十万人口率等另有口径的，在指标解释中写明并保留原单位")
    if ACTIVITY_RE.search(name) and QUANTITY_UNIT_RE.search(unit) and not rec.qualitative:
        add("L01", "warning", f"名称是一项工作，单位却是数量单位“{unit}”",
            "在名称中写明计量的对象（如“林木采伐监管量”），或改为定性指标；改名时来源性质标为改编，原名写入备注")
    # L02 operator and direction
    if (level2 == "数量指标" and rec.operator in ("≤", "<") and COUNT_RE.search(name) and not HARM_RE.search(name)
            and rec.direction not in ("down", "monitor")):  # a count held down on purpose says so in its direction
        add("L02", "error", "是产出数量，运算符不应为“≤”（有意控制的数量请把方向设为“越低越好”或“监测”）",
            "产出数量用“≥”或“=”；确需控制上限的，把方向设为“越低越好”或“监测”")
    if (rec.operator in ("≥", ">") and HARM_RE.search(name) and not REMEDY_RE.search(name)
            and (RATE_RE.search(name) or COUNT_RE.search(name))):
        add("L02", "warning", f"越低越好，运算符却是“{rec.operator}”",
            "事故、违规、投诉等越低越好的指标用“≤”")
    if rec.operator in ("≥", "≤", ">", "<", "="):
        texts = [str(r.get("value", "")) for r in rec.reference_values or []]
        bad = [t for t in texts if t and numeric_value(t) is None and range_value(t) is None
               and not is_date_or_period(t) and not RATIO_VALUE_RE.match(t) and "×" not in t and "批复" not in t]
        if bad:
            add("L02", "warning", f"运算符“{rec.operator}”配的是文字取值“{bad[0]}”",
                "参考值写数值；来源只有“较上年提高”之类文字的，去掉参考值，把原文写入备注，或改为定性指标并写明分档")
    # L03 placement
    # (an evaluation framework's own levels — 满意度评价 of the hospital assessment — are its business)
    if SATISFACTION in name and level1 in dimensions().target_level1 and level1 != "满意度指标":
        add("L03", "error", f"是满意度，却放在“{level1}/{level2}”",
            "满意度放在“满意度指标/服务对象满意度指标”")
    if level1 == "满意度指标" and not JUDGEMENT_RE.search(name):
        add("L03", "error", f"不是服务对象的评价，却放在“{level1}/{level2}”",
            "满意度指标只放服务对象的满意、认可、投诉等评价；事件、事故的发生数放在效益指标/社会效益指标或产出指标/质量指标，来源性质标为改编")
    if BUDGET_EXEC_RE.search(name) and level1 == "产出指标":
        add("L03", "error", "是预算执行（过程）指标，不应放在产出指标",
            "预算执行、资金支出进度是过程指标：放在评价框架的过程/资金管理（财预〔2020〕10号），自评时按预算执行率单独计分，不作产出；来源性质标为改编")
    if level1 == "成本指标" and COMPLIANCE_RE.search(name) and not BUDGET_EXEC_RE.search(name):
        add("L03", "warning", f"是执行、达标或合规情况，却放在“{level1}/{level2}”",
            "成本指标写金额、单价或成本控制（如“单位成本”“成本控制率”）；执行、达标、合规的比例放在产出指标/质量指标，来源性质标为改编")
    # L04 one measure, measurable
    if FUSED_RE.search(name):
        add("L04", "warning", "把几个比率并在一个指标里，宜拆开",
            "来源分别列出的比率各建一条指标；来源本来就合在一起的，在备注中说明")
    if unit in ("%", "％") and rec.operator == "=" and VAGUE_RE.search(name) and not RATE_RE.search(name):
        add("L04", "warning", "名称是笼统的“提升/改善”，却以“= 100%”考核",
            "改为定性指标并写明分档（如“显著改善/有所改善/未改善”），或换成可计量的比率")
    # L06 provenance follows placement
    moved = _moved_from_source(rec)
    if moved and rec.provenance == "verbatim":
        add("L06", "warning", f"的归类已改（原表列在“{moved}”），来源性质却是“照录”",
            "来源性质改为“改编”（adapted），备注保留原表的归类")
    # L07 certainty
    blob = " ".join([rec.note or ""] + [str(r.get("note", "")) for r in rec.reference_values or []])
    if rec.certainty == "verified" and (UNREAD_RE.search(blob) or not (rec.source or {}).get("url")):
        why = "未给来源网址" if not (rec.source or {}).get("url") else f"备注说“{UNREAD_RE.search(blob).group(1)}”"
        add("L07", "warning", f"标为“已核实”，但{why}",
            "只有读过来源原文（给出网址）的条目标为已核实；凭记忆或未核对的部分降为“较可靠”或“待核实”，并在备注中说明")
    return out


def lint(indicators: list[IndicatorRecord]) -> list[LintFinding]:
    """Every finding about the active indicators, duplicates (L05) included."""
    live = [r for r in indicators if r.status in ("standard", "candidate")]
    findings = [f for r in live for f in lint_indicator(r)]
    by_name: dict[tuple[str, str], list[IndicatorRecord]] = defaultdict(list)
    for r in live:
        by_name[(name_key(r.name), _framework(r))].append(r)
    for group in by_name.values():
        if len(group) < 2:
            continue
        group = sorted(group, key=lambda r: r.code)
        qualifiers = [_qualifier(r.name) for r in group]
        if all(qualifiers) and len(set(qualifiers)) == len(qualifiers):
            continue  # 亮灯率（快速路、主干路）and 亮灯率（支路）: the bracket says which, so they are two indicators
        codes = tuple(r.code for r in group)
        placements = {r.target_dims for r in group}
        scopes = {(tuple(sorted(r.sectors)), tuple(sorted(r.departments)), tuple(sorted(r.project_types))) for r in group}
        if len(placements) > 1:
            where = "、".join(f"{r.code}（{'/'.join(r.target_dims)}）" for r in group)
            findings.append(LintFinding(
                "L05", "warning", group[0].code, f"同名指标“{group[0].name}”放在不同的二级：{where}",
                "同一指标在各处放在同一个一级/二级下（评价体系自己的层级除外）；确实不同的，改名区分", codes))
        elif len(scopes) < len(group):
            findings.append(LintFinding(
                "L05", "warning", group[0].code, f"同名同范围的指标“{group[0].name}”有 {len(group)} 条：{'、'.join(codes)}，宜合并",
                "在“重复指标”页合并，保留一条，其余标为被它替代", codes))
    return sorted(findings, key=lambda f: (f.severity != "error", f.rule, f.code))


@dataclass(frozen=True)
class LintReport:
    """The findings a curator asked to see (by rule and severity), grouped by rule, with the counts of all."""
    findings: list[LintFinding]
    groups: list[tuple[str, list[LintFinding]]]  # (rule, its findings), in rule order
    counts: dict[str, dict[str, int]]  # rule → {"error": n, "warning": n}, over every finding
    errors: int
    warnings: int
    rule: str | None = None
    severity: str | None = None

    def to_dict(self) -> dict:
        return {"errors": self.errors, "warnings": self.warnings,
                "filters": {"rule": self.rule, "severity": self.severity},
                "rules": [{"rule": r, "title": RULES[r], **self.counts.get(r, {"error": 0, "warning": 0})} for r in RULES],
                "total": len(self.findings), "findings": [f.to_dict() for f in self.findings]}


def report(indicators: list[IndicatorRecord], rule: str | None = None, severity: str | None = None) -> LintReport:
    """lint() for a page: filtered by rule and severity (unknown ones are refused), the counts unfiltered."""
    if rule and rule not in RULES:
        raise InvalidInput(f"没有内容检查规则“{rule}”（可选：{'、'.join(RULES)}）")
    if severity and severity not in SEVERITIES:
        raise InvalidInput(f"没有“{severity}”这一级别（可选：error 错误、warning 提醒）")
    every = lint(indicators)
    counts: dict[str, dict[str, int]] = {r: {"error": 0, "warning": 0} for r in RULES}
    for f in every:
        counts.setdefault(f.rule, {"error": 0, "warning": 0})[f.severity] += 1
    chosen = [f for f in every if (not rule or f.rule == rule) and (not severity or f.severity == severity)]
    groups = [(r, [f for f in chosen if f.rule == r]) for r in counts]
    errors = sum(f.severity == "error" for f in every)
    return LintReport(chosen, [g for g in groups if g[1]], counts, errors, len(every) - errors, rule or None, severity or None)

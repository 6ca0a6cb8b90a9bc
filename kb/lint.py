"""A content lint of the library's indicators: what a reviewer would send
back about an indicator itself, before any drafter uses it.

Errors are contradictions (a count in %, an output count that should fall,
satisfaction filed outside 满意度, budget execution as an output); warnings
are things to look at (a rate without %, a numeric operator with a text
value, several measures fused in one indicator, the same name twice).
`zhibiao lint` lists them; publishing refuses errors (kb.gates).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from kb.dimensions import dimensions
from kb.models import IndicatorRecord
from kb.snapshot import name_key
from kb.targets import numeric_value, range_value
from kb.values import is_date_or_period

RATE_RE = re.compile(r"(率|比例|比率|占比|比重|覆盖面)$")
COUNT_RE = re.compile(r"(数量|人数|次数|个数|户数|件数|场次|人次|天数|项数|家数|台数)$")
COUNT_UNITS_NOT = ("%", "‰", "％")
HARM_RE = re.compile(r"(事故|投诉|差错|死亡|发病|超标|违规|违法|逾期|损失|失误|漏报|误报)")
FUSED_RE = re.compile(r"率[、，,及和与]\S*率")
VAGUE_RE = re.compile(r"(提升|提高|改善|增强|加强|明显|有效)")
SATISFACTION = "满意"


@dataclass(frozen=True)
class LintFinding:
    rule: str
    severity: str  # error | warning
    code: str
    message: str

    def to_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "code": self.code, "message": self.message}


def _label(rec: IndicatorRecord) -> str:
    return f"“{rec.code} {rec.name}”"


def lint_indicator(rec: IndicatorRecord) -> list[LintFinding]:
    out: list[LintFinding] = []
    name, unit = rec.name.strip(), (rec.unit or "").strip()
    level1, level2 = rec.target_dims

    def add(rule: str, severity: str, message: str) -> None:
        out.append(LintFinding(rule, severity, rec.code, f"{_label(rec)}{message}"))

    # L01 name and unit agree
    if COUNT_RE.search(name) and unit in COUNT_UNITS_NOT:
        add("L01", "error", f"是计数，单位却是“{unit}”")
    elif RATE_RE.search(name) and unit and unit not in COUNT_UNITS_NOT and not rec.qualitative:
        add("L01", "warning", f"是比率，单位却是“{unit}”（应为 %）")
    # L02 operator and direction
    if (level2 == "数量指标" and rec.operator in ("≤", "<") and COUNT_RE.search(name) and not HARM_RE.search(name)
            and rec.direction not in ("down", "monitor")):  # a count held down on purpose says so in its direction
        add("L02", "error", "是产出数量，运算符不应为“≤”（有意控制的数量请把方向设为“越低越好”或“监测”）")
    if rec.operator in ("≥", ">") and HARM_RE.search(name) and (RATE_RE.search(name) or COUNT_RE.search(name)):
        add("L02", "warning", f"越低越好，运算符却是“{rec.operator}”")
    if rec.operator in ("≥", "≤", ">", "<", "="):
        texts = [str(r.get("value", "")) for r in rec.reference_values or []]
        bad = [t for t in texts if t and numeric_value(t) is None and range_value(t) is None
               and not is_date_or_period(t) and "×" not in t and "批复" not in t]
        if bad:
            add("L02", "warning", f"运算符“{rec.operator}”配的是文字取值“{bad[0]}”")
    # L03 placement
    # (an evaluation framework's own levels — 满意度评价 of the hospital assessment — are its business)
    if SATISFACTION in name and level1 in dimensions().target_level1 and level1 != "满意度指标":
        add("L03", "error", f"是满意度，却放在“{level1}/{level2}”")
    if "预算执行率" in name and level1 == "产出指标":
        add("L03", "error", "是预算执行（过程）指标，不应放在产出指标")
    # L04 one measure, measurable
    if FUSED_RE.search(name):
        add("L04", "warning", "把几个比率并在一个指标里，宜拆开")
    if unit in ("%", "％") and rec.operator == "=" and VAGUE_RE.search(name) and not RATE_RE.search(name):
        add("L04", "warning", "名称是笼统的“提升/改善”，却以“= 100%”考核")
    return out


def lint(indicators: list[IndicatorRecord]) -> list[LintFinding]:
    """Every finding about the active indicators, duplicates (L05) included."""
    live = [r for r in indicators if r.status in ("standard", "candidate")]
    findings = [f for r in live for f in lint_indicator(r)]
    by_name: dict[str, list[IndicatorRecord]] = defaultdict(list)
    for r in live:
        by_name[name_key(r.name)].append(r)
    for group in by_name.values():
        if len(group) < 2:
            continue
        placements = {r.target_dims for r in group}
        scopes = {(tuple(sorted(r.sectors)), tuple(sorted(r.departments)), tuple(sorted(r.project_types))) for r in group}
        if len(placements) > 1:
            where = "、".join(f"{r.code}（{'/'.join(r.target_dims)}）" for r in sorted(group, key=lambda r: r.code))
            findings.append(LintFinding("L05", "warning", group[0].code, f"同名指标“{group[0].name}”放在不同的二级：{where}"))
        elif len(scopes) < len(group):
            codes = "、".join(sorted(r.code for r in group))
            findings.append(LintFinding("L05", "warning", group[0].code, f"同名同范围的指标“{group[0].name}”有 {len(group)} 条：{codes}，宜合并"))
    return sorted(findings, key=lambda f: (f.severity != "error", f.rule, f.code))

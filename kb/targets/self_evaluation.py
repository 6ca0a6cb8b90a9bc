"""单位自评 scoring (财预〔2020〕10号) and the self-evaluation consistency
check (C15): what each row's actual value earns, the total and its grade,
and every row where the unit claims more than that.

Weights come from indicators/framework/dimensions.yaml (data, not code): 预算执行率
10, 产出 50, 效益 30, 满意度 10; 成本 20 / 产出 40 / 效益 20 when the table has 成本
as its own 一级. A 一级's points are shared equally by its rows; when a table has
no row of a 一级, that 一级's points go to the others in proportion, as
self-evaluation tables that set no 满意度 indicator do.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kb.targets.achievement import QUALITATIVE, Achievement, assess
from kb.dates import parse_day
from kb.dimensions import dimensions
from kb.errors import InvalidInput
from kb.numerals import fmt
from kb.targets.table import TargetTable, normalise_row

EXECUTION = "预算执行率"
# over-achievement beyond this share suggests a target set too low (10号: deduct by judgement)
FAR_ABOVE = 1.5


def weights(has_cost: bool) -> dict[str, float]:
    raw = dimensions().raw["self_evaluation_weights"]
    chosen = raw["with_cost"]["weights"] if has_cost else raw["without_cost"]
    return {k: float(v) for k, v in chosen.items()}


def grade_of(total: float) -> str:
    for name, minimum in dimensions().evaluation_grades:
        if total >= minimum:
            return name
    return dimensions().evaluation_grades[-1][0]


@dataclass
class ScoredRow:
    row: int
    name: str
    level1: str
    max: float
    score: float
    achievement: Achievement
    claimed: float | None = None
    note: str = ""

    def to_dict(self) -> dict:
        reason = self.achievement.reason + (f"；{self.note}" if self.note else "")
        return {"row": self.row, "name": self.name, "level1": self.level1, "score": self.score, "max": self.max,
                "reason": reason, "self_score": self.claimed}


@dataclass
class Finding:
    row: int | None
    message: str
    excess: float

    def to_dict(self) -> dict:
        return {"id": "C15", "row": self.row, "message": self.message, "excess": self.excess}


@dataclass
class Evaluation:
    execution_rate: float
    weights: dict[str, float]
    rows: list[ScoredRow]
    by_level1: dict[str, float]
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(self.by_level1.values()), 2)

    @property
    def grade(self) -> str:
        return grade_of(self.total)

    def to_dict(self) -> dict:
        return {"total": self.total, "grade": self.grade, "execution_rate": round(self.execution_rate, 4),
                "weights": self.weights, "by_level1": self.by_level1, "rows": [r.to_dict() for r in self.rows],
                "findings": [f.to_dict() for f in self.findings], "notes": self.notes}


def _year(table: TargetTable) -> int:
    day = parse_day(table.project.as_of) if table.project.as_of else None
    return day.year if day else 0


def evaluate(table: TargetTable) -> Evaluation:
    """Score a self-evaluation table: every row needs its actual value; the project its budget and the amount spent."""
    p = table.project
    rows = [normalise_row(r) for r in table.indicators]
    problems = []
    if not p.budget_wan_yuan:
        problems.append("没有预算金额（project.budget_wan_yuan，万元）")
    if p.budget_executed_wan_yuan is None:
        problems.append("没有全年执行数（project.budget_executed_wan_yuan，万元）")
    if not rows:
        problems.append("没有绩效指标")
    missing = [n for n, r in enumerate(rows, start=1) if not r.actual]
    if missing:
        problems.append(f"第{'、'.join(map(str, missing))}行没有填写实际完成值（actual）")
    w = weights(any(r.level1 == "成本指标" for r in rows))
    unknown = [f"第{n}行“{r.level1 or '（空）'}”" for n, r in enumerate(rows, start=1) if r.level1 not in w]
    if unknown:
        problems.append("一级指标不是" + "、".join(k for k in w if k != EXECUTION) + "之一：" + "、".join(unknown))
    if problems:
        raise InvalidInput("无法自评打分：" + "；".join(problems))

    year = _year(table) or 2000  # a deadline that names no year is read in the year of as_of when given
    assessed = [assess(r, year) for r in rows]
    unreadable = [f"第{n}行{r.name}：{a.problem}" for n, (r, a) in enumerate(zip(rows, assessed), start=1) if a.problem]
    if unreadable:
        raise InvalidInput("实际完成值无法识别：" + "；".join(unreadable))

    counts = {level: sum(1 for r in rows if r.level1 == level) for level in w if level != EXECUTION}
    present = {level: points for level, points in w.items() if level == EXECUTION or counts.get(level)}
    notes = []
    absent = [level for level in w if level not in present]
    if absent:
        spare = sum(w[level] for level in absent)
        share = sum(v for k, v in present.items() if k != EXECUTION)
        present = {k: (v if k == EXECUTION else v + spare * v / share) for k, v in present.items()}
        notes.append(f"未设置{'、'.join(absent)}，其{fmt(spare)}分按比例并入" + "、".join(k for k in present if k != EXECUTION))

    rate = float(p.budget_executed_wan_yuan) / float(p.budget_wan_yuan)
    by_level1 = {EXECUTION: round(min(1.0, rate) * present[EXECUTION], 2)}
    scored = []
    for n, (r, a) in enumerate(zip(rows, assessed), start=1):
        points = present[r.level1] / counts[r.level1]
        note = ""
        if a.ratio is not None and a.ratio > FAR_ABOVE and r.operator in ("≥", ">", ""):
            note = f"超额完成{fmt((a.ratio - 1) * 100)}%，如因目标值设定偏低，评价时应按偏离程度扣分"
        scored.append(ScoredRow(n, r.name, r.level1, round(points, 2), round(points * a.completion, 2), a,
                                r.self_score, note))
    for level in present:
        if level != EXECUTION:
            by_level1[level] = round(sum(s.score for s in scored if s.level1 == level), 2)
    result = Evaluation(rate, {k: round(v, 2) for k, v in present.items()}, scored, by_level1, notes=notes)
    result.findings = consistency(result)
    return result


def consistency(ev: Evaluation) -> list[Finding]:
    """C15: every row whose claimed score exceeds what its actual value earns, and the table's inflation."""
    findings = []
    for s in ev.rows:
        if s.claimed is None or s.claimed <= s.score + 0.005:
            continue
        excess = round(s.claimed - s.score, 2)
        what = "定性指标按档次最多" if s.achievement.kind == QUALITATIVE else "按实际完成值应得"
        over_max = f"，且超过该项满分{fmt(s.max)}分" if s.claimed > s.max + 0.005 else ""
        findings.append(Finding(s.row, f"第{s.row}行{s.name}：自评{fmt(s.claimed)}分，{what}{fmt(s.score)}分"
                                       f"（{s.achievement.reason}），多计{fmt(excess)}分{over_max}", excess))
    if findings:
        excess = round(sum(f.excess for f in findings), 2)
        claimed_rows = [s for s in ev.rows if s.claimed is not None]
        claimed = sum(s.claimed for s in claimed_rows)
        earned = sum(s.score for s in claimed_rows)
        findings.append(Finding(None, f"自评分数偏高：{len(findings)}项指标多计{fmt(excess)}分（填了自评得分的"
                                      f"{len(claimed_rows)}项指标自评合计{fmt(claimed)}分，按实际完成值计{fmt(earned)}分）",
                                excess))
    return findings

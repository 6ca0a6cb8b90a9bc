"""执行监控: a target table with the values achieved so far and the budget
spent by a date, checked the way the bureau's system does it
(绩效目标完成度与预算执行进度匹配预警).

Completion is measured on the 产出·数量 rows, which say how much of the
year's work is done (progress_rows); it is compared with the budget
execution rate, and the execution rate with the share of the year elapsed.
Every warning names the rows behind it and what the unit is asked to explain.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from kb.targets.achievement import QUANTITATIVE, TIME, Achievement, assess
from kb.dates import parse_day, year_share
from kb.dimensions import dimensions
from kb.errors import InvalidInput
from kb.numerals import fmt
from kb.targets.table import TargetRow, TargetTable, normalise_row

OUTPUT = "产出指标"
COST_LEVEL2 = ("成本指标", "经济成本指标", "社会成本指标", "生态环境成本指标")
# kinds of warning, in the order a reviewer reads them
SPENDING_AHEAD = "spending_ahead"
RESULTS_AHEAD = "results_ahead"
EXECUTION_BEHIND = "execution_behind"
LATE = "late"
UNREACHABLE = "unreachable"
KIND_NAMES = {
    SPENDING_AHEAD: "支出快于产出", RESULTS_AHEAD: "产出快于支出", EXECUTION_BEHIND: "预算执行慢于时间进度",
    LATE: "时效指标逾期", UNREACHABLE: "全年目标难以实现",
}


def settings() -> dict:
    return dimensions().raw["monitoring"]


@dataclass
class MonitorRow:
    row: int
    name: str
    level1: str
    level2: str
    target: str
    actual: str
    achievement: Achievement
    projected: float | None = None  # a count's year-end value at the present pace

    @property
    def completion(self) -> float | None:
        return self.achievement.completion

    def to_dict(self) -> dict:
        a = self.achievement
        return {"row": self.row, "name": self.name, "level1": self.level1, "level2": self.level2,
                "target": self.target, "actual": self.actual, "kind": a.kind,
                "completion": None if a.completion is None else round(a.completion, 4),
                "projected": None if self.projected is None else round(self.projected, 2),
                "reason": a.problem or a.reason}


@dataclass
class Alert:
    kind: str
    message: str
    explain: str  # what the unit is asked to explain
    rows: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": KIND_NAMES[self.kind], "message": self.message,
                "explain": self.explain, "rows": self.rows}


@dataclass
class MonitorResult:
    as_of: date
    budget: float
    executed: float
    tolerance: float
    rows: list[MonitorRow]
    warnings: list[Alert]

    @property
    def execution_rate(self) -> float:
        return self.executed / self.budget if self.budget else 0.0

    @property
    def time_share(self) -> float:
        return year_share(self.as_of)

    @property
    def completion(self) -> float | None:
        return progress(self.rows)

    def to_dict(self) -> dict:
        c = self.completion
        return {"as_of": self.as_of.isoformat(), "budget_wan_yuan": self.budget, "executed_wan_yuan": self.executed,
                "execution_rate": round(self.execution_rate, 4), "time_share": round(self.time_share, 4),
                "completion": None if c is None else round(c, 4), "tolerance": self.tolerance,
                "rows": [r.to_dict() for r in self.rows], "warnings": [w.to_dict() for w in self.warnings]}


def progress_rows(rows: list[MonitorRow]) -> list[MonitorRow]:
    """The rows whose completion is set against spending: the 产出·数量 rows, which say how much of the year's
    work is done (quality and time rows say whether it is done well and on time, which the late and
    unreachable warnings cover); the other 产出 rows but cost when there are none; all assessed rows last."""
    measured = [r for r in rows if r.completion is not None]
    quantity = [r for r in measured if r.level1 == OUTPUT and r.level2 == "数量指标"]
    output = [r for r in measured if r.level1 == OUTPUT and r.level2 not in COST_LEVEL2]
    return quantity or output or measured


def progress(rows: list[MonitorRow]) -> float | None:
    use = progress_rows(rows)
    return sum(r.completion for r in use) / len(use) if use else None


def _pct(share: float) -> str:
    return f"{fmt(share * 100)}%"


def _inputs(table: TargetTable, as_of: str | None) -> tuple[date, float, float]:
    p = table.project
    problems = []
    day = parse_day(as_of) if as_of else (parse_day(p.as_of) if p.as_of else None)
    if as_of and day is None:
        problems.append(f"截至日期“{as_of}”无法识别，请写成 YYYY-MM-DD")
    elif day is None:
        problems.append("没有截至日期（project.as_of，如 2024-06-30）")
    if not p.budget_wan_yuan:
        problems.append("没有预算金额（project.budget_wan_yuan，万元）")
    if p.budget_executed_wan_yuan is None:
        problems.append("没有已执行资金（project.budget_executed_wan_yuan，万元）")
    if not table.indicators:
        problems.append("没有绩效指标")
    elif not table.has_actuals:
        problems.append("没有一行填写了实际完成值（actual）")
    if problems:
        raise InvalidInput("无法监控：" + "；".join(problems))
    return day, float(p.budget_wan_yuan), float(p.budget_executed_wan_yuan)


def _row(n: int, row: TargetRow, as_of: date, share: float) -> MonitorRow:
    a = assess(row, as_of.year, as_of)
    r = MonitorRow(n, row.name, row.level1, row.level2, row.target_text, row.actual, a)
    if a.kind == QUANTITATIVE and a.actual_number is not None and row.operator in ("≥", ">", "") \
            and row.unit not in ("%", "％") and share > 0:
        r.projected = a.actual_number / share  # counts accumulate over the year; rates do not
    return r


def monitor(table: TargetTable, as_of: str | None = None, tolerance: float | None = None) -> MonitorResult:
    """Monitor a table whose rows carry `actual` and whose project carries the budget spent by a date."""
    day, budget, executed = _inputs(table, as_of)
    tol = float(settings()["tolerance"] if tolerance is None else tolerance)
    if not 0 <= tol < 1:
        raise InvalidInput("容差应在0–1之间（如 0.2 表示20个百分点）")
    share = year_share(day)
    rows = [_row(n, normalise_row(r), day, share) for n, r in enumerate(table.indicators, start=1)]
    result = MonitorResult(day, budget, executed, tol, rows, [])
    unreadable = [r for r in rows if r.achievement.problem]
    if unreadable:
        raise InvalidInput("实际完成值无法识别：" + "；".join(f"第{r.row}行{r.name}：{r.achievement.problem}" for r in unreadable))
    result.warnings = _warnings(result, share)
    return result


def _warnings(res: MonitorResult, share: float) -> list[Alert]:
    tol, rate, done = res.tolerance, res.execution_rate, res.completion
    alerts = []
    counted = progress_rows(res.rows)
    if done is not None and rate - done > tol:
        behind = [r.row for r in counted if r.completion < rate - tol]
        alerts.append(Alert(SPENDING_AHEAD, f"预算已执行{_pct(rate)}，产出完成度只有{_pct(done)}，资金支出快于产出进度"
                                            f"（相差{fmt((rate - done) * 100)}个百分点）",
                            "请说明资金已支出而产出未相应完成的原因，以及剩余产出能否在年底前完成", behind))
    if done is not None and done - rate > tol:
        ahead = [r.row for r in counted if r.completion > rate + tol]
        alerts.append(Alert(RESULTS_AHEAD, f"产出完成度{_pct(done)}，预算只执行了{_pct(rate)}，产出快于资金支出"
                                           f"（相差{fmt((done - rate) * 100)}个百分点）",
                            "请说明产出已完成而资金未支付的原因（如未结算、资金滞留），以及预算是否需要调减", ahead))
    if share - rate > tol:
        alerts.append(Alert(EXECUTION_BEHIND, f"截至{res.as_of.isoformat()}时间已过{_pct(share)}，预算只执行了{_pct(rate)}"
                                              f"（慢{fmt((share - rate) * 100)}个百分点）",
                            "请说明支出进度慢的原因和加快执行的措施；确实用不完的资金应及时申请调整"))
    late = [r for r in res.rows if r.achievement.kind == TIME and r.achievement.due and r.achievement.due < res.as_of
            and r.achievement.done is not True]
    if late:
        alerts.append(Alert(LATE, "已过期限而未完成：" + "；".join(f"第{r.row}行{r.name}（期限{r.achievement.due.isoformat()}）"
                                                            for r in late),
                            "请说明未按期完成的原因和预计完成时间", [r.row for r in late]))
    unreachable = []
    for r in res.rows:
        a = r.achievement
        if a.kind != QUANTITATIVE or a.actual_number is None or r.level2 == "时效指标" and "%" in r.target:
            continue
        over_ceiling = a.completion is not None and a.completion < 1 and "≤" in r.target and "%" not in r.target
        short = (r.projected is not None and share >= float(settings()["projection_from"])
                 and r.projected < a.target_number * (1 - tol))
        if over_ceiling:
            unreachable.append((r, f"第{r.row}行{r.name}已达{fmt(a.actual_number)}，超过上限{r.target}"))
        elif short:
            unreachable.append((r, f"第{r.row}行{r.name}按目前进度全年约{fmt(r.projected)}，低于目标{r.target}"))
    if unreachable:
        alerts.append(Alert(UNREACHABLE, "；".join(text for _, text in unreachable),
                            "请说明原因，以及是否需要按程序调整绩效目标", [r.row for r, _ in unreachable]))
    return alerts

"""Figures of the plan dashboard derived from kb.plan.progress: coverage of
each planned scope (a sector, or a department / project type) per year
against the targets its milestones set.

Milestones count what the library holds now, so a scope's `actual` is one
number, compared with each year's target; targets of one scope in one year
add up (e.g. 三级 and 二级 hospital indicators are two milestones of 21002).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kb.plan.progress import PlanProgress

OTHER_SECTORS = "其余行业"


@dataclass
class Cell:
    target: int = 0
    actual: int = 0

    @property
    def ratio(self) -> float:
        return min(self.actual / self.target, 1.0) if self.target else 1.0


@dataclass
class ScopeCoverage:
    key: str  # a sector code, "D:<department>", "T:<project type>", or "" for the other sectors
    label: str
    actual: int
    years: dict[int, Cell] = field(default_factory=dict)

    @property
    def target(self) -> int:
        """The largest yearly target: what the scope should hold by the end of its last year."""
        return max((c.target for c in self.years.values()), default=0)

    @property
    def ratio(self) -> float:
        return min(self.actual / self.target, 1.0) if self.target else 1.0


def scope_key(milestone) -> str:
    if milestone.sector:
        return milestone.sector
    if milestone.department:
        return f"D:{milestone.department}"
    if milestone.project_type:
        return f"T:{milestone.project_type}"
    return ""


def specific_coverage(progress: PlanProgress, names: dict[str, str]) -> list[ScopeCoverage]:
    """One row per scope that specific-indicator milestones plan, in sector-code order.

    `names` maps sector codes, "D:…" and "T:…" keys to names for the labels.
    """
    rows: dict[str, ScopeCoverage] = {}
    for year in progress.years:
        for mp in year.milestones:
            m = mp.milestone
            if m.measure != "specific":
                continue
            key = scope_key(m)
            label = names.get(key, key) if key else OTHER_SECTORS
            row = rows.setdefault(key, ScopeCoverage(key, label, mp.held))
            row.actual = max(row.actual, mp.held)
            cell = row.years.setdefault(year.year, Cell())
            cell.target += m.target_count
    for row in rows.values():
        for cell in row.years.values():
            cell.actual = row.actual
    return sorted(rows.values(), key=lambda r: (r.key == "", r.key))

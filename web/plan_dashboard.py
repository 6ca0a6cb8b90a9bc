"""What the plan dashboard shows, for the curators' page and the public one:
kb.plan.progress, the coverage per planned scope and year, the charts, and
the demand signals grouped by sector."""
from __future__ import annotations

from dataclasses import dataclass

from kb.plan import progress as plan
from kb.library import snapshot, versions
from kb.plan.coverage import ScopeCoverage, specific_coverage
from web.charts import BarChart, bar_chart


@dataclass
class Dashboard:
    version: versions.VersionRef
    progress: plan.PlanProgress
    coverage: list[ScopeCoverage]
    years: list[int]
    sector_names: dict[str, str]
    coverage_chart: BarChart
    year_chart: BarChart
    sector_chart: BarChart
    proposals_by_sector: list[tuple[str, list[tuple[str, int]]]]  # (sector label, [(name, times)])


def build(session, snap: snapshot.Snapshot) -> Dashboard:
    progress = plan.progress(session, snap)
    sector_names = {s.code: s.name for s in snap.sectors.values()}
    names = {**sector_names}
    names.update({f"D:{d.code}": d.name for d in snap.departments.values()})
    names.update({f"T:{p.code}": p.name for p in snap.project_types.values()})
    labelled = {k: (f"{k} {v}" if not k.startswith(("D:", "T:")) else v) for k, v in names.items()}
    coverage = specific_coverage(progress, labelled)
    years = [y.year for y in progress.years]
    return Dashboard(
        version=snap.version,
        progress=progress,
        coverage=coverage,
        years=years,
        sector_names=sector_names,
        coverage_chart=bar_chart("规划范围内的个性指标：现有数量 / 规划目标",
                                 [(c.label, c.actual, c.target) for c in coverage]),
        year_chart=bar_chart("各年度里程碑完成量 / 目标量",
                             [(f"{y.year}年", y.done, y.target) for y in progress.years]),
        sector_chart=bar_chart("各行业（功能分类“类”）个性指标数量",
                               [(f"{code} {sector_names.get(code, '')}".strip(), n, 0) for code, n in progress.sector_counts.items()]),
        proposals_by_sector=_proposals_by_sector(progress.proposals, sector_names),
    )


def _proposals_by_sector(rows, sector_names) -> list[tuple[str, list[tuple[str, int]]]]:
    grouped: dict[str, list[tuple[str, int]]] = {}
    for sector, name, count in rows:
        label = f"{sector} {sector_names.get(sector, '')}".strip() if sector else "未指明行业"
        grouped.setdefault(label, []).append((name, count))
    return sorted(grouped.items(), key=lambda item: -sum(n for _, n in item[1]))

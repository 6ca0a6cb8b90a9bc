"""Counts of a library version, by sector, kind, level1 and provenance."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session

from kb.library import versions


@dataclass
class LibraryStats:
    version: str
    totals: dict[str, int]
    by_kind: dict[str, int]
    by_level1: dict[str, int]
    by_provenance: dict[str, int]
    by_certainty: dict[str, int]
    by_sector: dict[str, int]  # top-level 类 → specific indicators
    national_monitoring: int
    cases: "CaseStats | None" = None


@dataclass
class CaseStats:
    total: int
    rows: int
    by_sector: dict[str, int]  # 类 → cases
    by_province: dict[str, int]
    by_year: dict[str, int]
    by_table_kind: dict[str, int]
    incomplete: int


def library_stats(session: Session, version: versions.VersionRef) -> LibraryStats:
    indicators = versions.records(session, "indicator", version)
    sector_names = {s.code: s.name for s in versions.records(session, "sector", version)}
    by_sector: Counter = Counter()
    for i in indicators:
        for top in sorted({code[:3] for code in i.sectors}):
            by_sector[f"{top} {sector_names.get(top, '')}".strip()] += 1
    totals = {kind: len(versions.records(session, kind, version)) for kind in ("indicator", "system", "quota", "sector", "department", "project_type", "case")}
    return LibraryStats(
        version=version.label,
        totals=totals,
        by_kind=dict(Counter(i.kind for i in indicators)),
        by_level1=dict(Counter(i.level1 for i in indicators).most_common()),
        by_provenance=dict(Counter(i.provenance for i in indicators)),
        by_certainty=dict(Counter(i.certainty for i in indicators)),
        by_sector=dict(sorted(by_sector.items())),
        national_monitoring=sum(1 for i in indicators if i.national_monitoring),
        cases=case_stats(versions.records(session, "case", version), sector_names),
    )


def case_stats(cases, sector_names: dict[str, str]) -> CaseStats:
    def sector(code: str) -> str:
        top = code[:3]
        return f"{top} {sector_names.get(top, '')}".strip() if top else "未注明"

    return CaseStats(
        total=len(cases),
        rows=sum(len(c.rows) for c in cases),
        by_sector=dict(sorted(Counter(sector(c.sector) for c in cases).items())),
        by_province=dict(Counter(c.province or "未注明" for c in cases).most_common()),
        by_year=dict(sorted(Counter(str(c.year or "未注明") for c in cases).items())),
        by_table_kind=dict(Counter(c.table_kind for c in cases).most_common()),
        incomplete=sum(1 for c in cases if c.incomplete),
    )

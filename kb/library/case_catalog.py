"""Finding cases in a version: by words in the name, summary, region or rows, by
sector (a code finds its descendants), province and year."""
from __future__ import annotations

from dataclasses import dataclass

from kb.models import CaseRecord
from kb.text import normalize


@dataclass(frozen=True)
class CaseFilters:
    sector: str = ""
    province: str = ""
    year: int | None = None


def _text(case: CaseRecord) -> str:
    rows = " ".join(r.get("name", "") for r in case.rows)
    return normalize(" ".join((case.code, case.name, case.summary, case.goal, case.region, case.department, case.unit, rows)))


def find(cases: list[CaseRecord], query: str = "", filters: CaseFilters | None = None) -> list[CaseRecord]:
    """Cases matching every word of `query` and the filters; those with the words in their name first."""
    f = filters or CaseFilters()
    words = [w for w in normalize(query or "").split() if w]
    out = []
    for c in cases:
        if f.sector and not c.sector.startswith(f.sector):
            continue
        if f.province and f.province not in (c.province, c.region) and not c.region.startswith(f.province):
            continue
        if f.year and c.year != f.year:
            continue
        if words and not all(w in _text(c) for w in words):
            continue
        out.append(c)
    name_hits = lambda c: sum(w in normalize(c.name) for w in words)  # noqa: E731
    return sorted(out, key=lambda c: (-name_hits(c), c.code))

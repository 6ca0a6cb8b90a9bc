"""What of a version goes into its search index, and in which form."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from sqlmodel import Session

from kb.library import versions
from kb.models import IndicatorRecord
from kb.schemas import KIND_LABELS
from kb.search.completion import NameEntry
from kb.search.model import IndexDoc
from kb.text import Analyzer, normalize

DEFINITION_CHARS = 300  # a hit list shows the start of a definition, no more


@dataclass
class Taxonomy:
    """code → name of sectors, departments and project types."""
    sectors: dict[str, str] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)
    project_types: dict[str, str] = field(default_factory=dict)

    def sector_path(self, codes: list[str]) -> list[str]:
        """The sectors and every ancestor in the classification tree (the
        parent of a code is its longest proper prefix that is a sector)."""
        out: dict[str, None] = {}
        for code in codes:
            for n in range(1, len(code)):
                if code[:n] in self.sectors:
                    out[code[:n]] = None
            out[code] = None
        return list(out)


@dataclass
class LibraryText:
    """Everything an index of one version is built from."""
    indicators: list[IndicatorRecord]
    taxonomy: Taxonomy
    synonyms: dict  # {"groups": [...], "related": [...]}


def read_library(session: Session, version: versions.VersionRef) -> LibraryText:
    taxonomy = Taxonomy(
        {r.code: r.name for r in versions.records(session, "sector", version)},
        {r.code: r.name for r in versions.records(session, "department", version)},
        {r.code: r.name for r in versions.records(session, "project_type", version)},
    )
    synonyms: dict = {}
    for record in versions.records(session, "text", version):
        if record.code == "synonyms":
            synonyms = dict(record.data or {})
    return LibraryText(versions.records(session, "indicator", version), taxonomy, synonyms)


def user_words(library: LibraryText) -> list[str]:
    """The words the tokenizer must know to cut this library well: its
    indicator names and keywords, and the names in its taxonomy."""
    words: dict[str, None] = {}
    for ind in library.indicators:
        words[ind.name] = None
        for kw in ind.keywords or []:
            words[kw] = None
    for names in (library.taxonomy.sectors, library.taxonomy.departments, library.taxonomy.project_types):
        for name in names.values():
            words[name] = None
    return list(words)


def stored_fields(ind: IndicatorRecord) -> dict:
    return {
        "code": ind.code,
        "name": ind.name,
        "level1": ind.level1,
        "level2": ind.level2,
        "kind": ind.kind,
        "sectors": list(ind.sectors or []),
        "unit": ind.unit,
        "direction": ind.direction,
        "operator": ind.operator,
        "definition": (ind.definition or "")[:DEFINITION_CHARS],
        "status": ind.status,
    }


def index_docs(library: LibraryText, analyzer: Analyzer) -> Iterator[IndexDoc]:
    tax = library.taxonomy
    tokens = analyzer.tokens
    for n, ind in enumerate(sorted(library.indicators, key=lambda r: r.code)):
        body_parts = [
            ind.definition, ind.formula, ind.level1, ind.level2, ind.target_level1, ind.target_level2,
            " ".join(ind.keywords or []), ind.data_source, ind.scoring_rule, KIND_LABELS.get(ind.kind, ""),
            " ".join(tax.sectors.get(c, "") for c in ind.sectors or []),
            " ".join(tax.departments.get(c, "") for c in ind.departments or []),
            " ".join(tax.project_types.get(c, "") for c in ind.project_types or []),
            (ind.source or {}).get("document", ""), (ind.source or {}).get("doc_number", ""),
        ]
        body = tokens("\n".join(p for p in body_parts if p))
        body.append(normalize(ind.code))
        yield IndexDoc(
            ord=n,
            code=ind.code,
            name_tokens=tokens(ind.name),
            text_tokens=body,
            stored=stored_fields(ind),
            sector_path=tax.sector_path(list(ind.sectors or [])),
            sectors=list(ind.sectors or []),
            departments=list(ind.departments or []),
            project_types=list(ind.project_types or []),
            level1=ind.level1,
            level2=ind.level2,
            kind=ind.kind,
            status=ind.status or "standard",
        )


def name_entries(library: LibraryText) -> list[NameEntry]:
    """One completion entry per distinct name (retired indicators left out)."""
    seen: dict[str, NameEntry] = {}
    for ind in sorted(library.indicators, key=lambda r: r.code):
        if ind.status != "retired" and ind.name not in seen:
            seen[ind.name] = NameEntry(ind.name, ind.code, ind.kind)
    return list(seen.values())


def code_entries(library: LibraryText) -> list[NameEntry]:
    """The indicators `name_entries` leaves out because another has their name: reached by their code only."""
    named = {e.code for e in name_entries(library)}
    return [NameEntry(ind.name, ind.code, ind.kind) for ind in sorted(library.indicators, key=lambda r: r.code)
            if ind.status != "retired" and ind.code not in named]


def facet_labels(library: LibraryText) -> dict[str, dict[str, str]]:
    tax = library.taxonomy
    return {
        "sector": dict(tax.sectors),
        "department": dict(tax.departments),
        "project_type": dict(tax.project_types),
        "kind": dict(KIND_LABELS),
    }

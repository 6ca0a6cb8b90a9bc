"""The data classes that cross the search package's boundary."""
from __future__ import annotations

from dataclasses import dataclass, field

# "sector" counts the sectors indicators name; "sector_path" counts each sector with everything below it, an
# indicator once however many of its 项 fall under one 类 — what the `sector` filter, which takes the subtree, finds
FACET_FIELDS = ("sector", "sector_path", "level1", "kind", "department", "project_type")


@dataclass(frozen=True)
class SearchFilters:
    """Narrow a search. `sector` includes its descendants in the classification
    tree (21002 finds 2100201). `status=None` means every status but retired."""
    sector: str | None = None
    department: str | None = None
    project_type: str | None = None
    level1: str | None = None
    level2: str | None = None
    kind: str | None = None  # common | specific
    status: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class SearchHit:
    code: str
    name: str
    level1: str
    level2: str
    kind: str
    sectors: list[str]
    unit: str
    direction: str
    operator: str
    definition: str
    status: str
    score: float
    highlight: str  # the name, HTML-escaped, matches in <mark>
    snippet: str = ""  # a piece of the definition around a match, same escaping

    @property
    def sector(self) -> str:
        return self.sectors[0] if self.sectors else ""


@dataclass(slots=True)
class FacetCount:
    value: str
    label: str
    count: int


@dataclass
class SearchResult:
    query: str
    version: str
    total: int
    page: int
    per_page: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    mode: str = "all"  # code | all | any | browse | none
    did_you_mean: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # near terms from the synonym list, never merged
    duration_ms: float = 0.0


@dataclass(frozen=True)
class Completion:
    text: str
    code: str
    kind: str = ""


@dataclass(frozen=True)
class IndexDoc:
    """One indicator as an engine receives it: tokens already made."""
    ord: int  # position in the build, 0 … n-1
    code: str
    name_tokens: list[str]
    text_tokens: list[str]
    stored: dict  # trimmed display fields
    sector_path: list[str]  # its sectors and all their ancestors (filters)
    sectors: list[str]
    departments: list[str]
    project_types: list[str]
    level1: str
    level2: str
    kind: str
    status: str


@dataclass(frozen=True)
class IndexInfo:
    engine: str
    label: str
    key: str
    path: str
    count: int
    built: bool  # False when an up-to-date index was already there
    seconds: float = 0.0

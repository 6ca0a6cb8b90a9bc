"""The small interface every search engine implements.

The rest of the package (analysis, query plans, ranking tweaks, facets'
labels, highlighting, completion) is engine-neutral; an engine only stores
pre-made tokens and answers boolean queries of them with scores.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

from kb.search.model import IndexDoc

# Field boosts: a word in the name counts this many times one in the body.
NAME_BOOST = 4.0
DEFAULT_ENGINE = "whoosh"
ENGINES = ("whoosh", "tantivy")


@dataclass(frozen=True)
class Alt:
    """One way to match a query word: every slot matched, a slot by any of its
    tokens (a token or its synonyms). Usually one slot of one token."""
    slots: tuple[tuple[str, ...], ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Group:
    """A query word: any of its alternatives (itself, its synonyms, its parts)."""
    alts: tuple[Alt, ...]


@dataclass(frozen=True)
class QueryPlan:
    """`all`: every group must match. `any`: any of `tokens` may match."""
    mode: str
    groups: tuple[Group, ...] = ()
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True)
class EngineFilter:
    sector_path: str | None = None
    department: str | None = None
    project_type: str | None = None
    level1: str | None = None
    level2: str | None = None
    kind: str | None = None
    status: str | None = None  # None: all but retired

    def key(self) -> tuple:
        return tuple(self.__dict__.values())


@dataclass
class EngineHits:
    hits: list[tuple[object, float]]  # (engine handle, score), best first
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class EngineReader(Protocol):
    def search(self, plan: QueryPlan | None, filt: EngineFilter, limit: int, facets: bool) -> EngineHits:
        """`plan=None` matches every document (browsing by filters)."""

    def lookup(self, code: str, filt: EngineFilter) -> object | None:
        """The handle of the document with this exact code, if it passes the filter."""

    def fetch(self, handles: list[object]) -> list[dict]:
        """The stored fields of these documents."""

    def doc_freq(self, token: str) -> int:
        """In how many documents the token occurs (name or body)."""

    def doc_count(self) -> int: ...

    def close(self) -> None: ...


class Engine(Protocol):
    name: str

    def build(self, path: Path, docs: Iterable[IndexDoc], progress: Callable[[int], None] | None = None) -> int:
        """Write a new index of `docs` into the empty folder `path`; returns the count."""

    def open(self, path: Path) -> EngineReader: ...


def engine_name(name: str | None = None) -> str:
    name = (name or os.environ.get("ZHIBIAO_SEARCH_ENGINE") or DEFAULT_ENGINE).strip().lower()
    if name not in ENGINES:
        from kb.errors import InvalidInput

        raise InvalidInput(f"未知的检索引擎“{name}”，可选：{'、'.join(ENGINES)}")
    return name


def get_engine(name: str | None = None) -> Engine:
    name = engine_name(name)
    if name == "tantivy":
        try:
            from kb.search.tantivy_engine import TantivyEngine
        except ImportError as exc:  # the optional extra is not installed
            from kb.errors import KbError

            raise KbError("未安装 tantivy 检索引擎（pip install 'zhibiao[tantivy]'）") from exc
        return TantivyEngine()
    from kb.search.whoosh_engine import WhooshEngine

    return WhooshEngine()

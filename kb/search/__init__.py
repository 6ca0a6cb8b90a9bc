"""Searching the library: the functions pages, the API and the command line call.

    search(session, index_dir, "病人满意", SearchFilters(sector="21002"))
    complete(session, index_dir, "mzhz")
    build_index(session, index_dir, versions.resolve(session, "2025.1"))

`index_dir` is DATA_DIR/index. The engine is Whoosh unless
ZHIBIAO_SEARCH_ENGINE=tantivy (or `engine=` is given).
"""
from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from kb.library import versions
from kb.search.engine import DEFAULT_ENGINE, ENGINES, engine_name
from kb.search.index import build_index, ensure_index, forget_open_indexes, open_index, publish_hook
from kb.search.model import Completion, FacetCount, IndexInfo, SearchFilters, SearchHit, SearchResult
from kb.search.query import clean_query
from kb.search.querylog import ZeroResultQuery, flush as flush_query_log, zero_result_report

__all__ = [
    "Completion", "FacetCount", "IndexInfo", "SearchFilters", "SearchHit", "SearchResult", "ZeroResultQuery",
    "DEFAULT_ENGINE", "ENGINES", "build_index", "complete", "engine_name", "ensure_index", "flush_query_log",
    "forget_open_indexes", "open_index", "publish_hook", "search", "warm_up", "zero_result_report",
]


def search(session: Session, index_dir: Path | str, query: str, filters: SearchFilters | None = None,
           version: str | versions.VersionRef | None = None, page: int = 1, per_page: int = 20, log: bool = True,
           source: str = "", engine: str | None = None, facets: bool = True) -> SearchResult:
    """Search a version (default: the current one; "draft" for the draft; a
    VersionRef already resolved costs no query).

    Any text is a valid query: it is searched as plain words. A query that is
    an indicator's code puts that indicator first; an empty query lists the
    indicators that pass the filters. Retired indicators are left out unless
    `filters.status` asks for them.
    """
    opened = open_index(session, index_dir, version, engine)
    result = opened.search(query, filters, page, per_page, facets)
    if log:
        from kb.search import querylog

        querylog.record(session, query, clean_query(query), (filters or SearchFilters()).as_dict(), result.version,
                        result.total, result.duration_ms, source)
    return result


def complete(session: Session, index_dir: Path | str, prefix: str, version: str | versions.VersionRef | None = None,
             limit: int = 10, engine: str | None = None) -> list[Completion]:
    """Indicator names for a typeahead: by the characters' prefix, by full
    pinyin (menzhen → 门诊…) or by pinyin initials (mzhz → 门诊患者…)."""
    return open_index(session, index_dir, version, engine).complete(prefix, limit)


def warm_up(session: Session, index_dir: Path | str, engine: str | None = None):
    """At process start: load the tokenizer and open the current version's
    index, so the first user does not wait. Returns the opened index; does
    nothing (None) before `init`."""
    try:
        versions.resolve(session, None)
    except Exception:
        return None
    return open_index(session, index_dir, None, engine)

"""Searching one opened index (one version on one engine)."""
from __future__ import annotations

import heapq
import json
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from kb.search.completion import CompletionTable
from kb.search.engine import EngineFilter, EngineHits, EngineReader
from kb.search.model import FACET_FIELDS, Completion, FacetCount, SearchFilters, SearchHit, SearchResult
from kb.search.query import Synonyms, as_code, clean_query, highlight, plan
from kb.text import Analyzer

META_FILE = "zb-meta.json"
LABELS_FILE = "zb-labels.json"
SYNONYMS_FILE = "zb-synonyms.json"
USERDICT_FILE = "zb-userdict.txt"
MAX_PER_PAGE = 100
MAX_PAGE = 500
LRU_SIZE = 512
SNIPPET_CHARS = 60
FACET_VALUES = 50  # per facet, the most frequent


class OpenIndex:
    """A loaded index with everything searching it needs in memory: the
    engine's reader, facet labels, the version's synonyms, document
    frequencies seen so far, an LRU of recent answers, and (on first use) the
    completion table. Safe to share between threads."""

    def __init__(self, path: Path, reader: EngineReader, analyzer: Analyzer):
        self.path = path
        self.meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        self.label: str = self.meta["label"]
        self.key: str = self.meta["key"]
        self.engine: str = self.meta["engine"]
        self._labels = json.loads((path / LABELS_FILE).read_text(encoding="utf-8"))
        self.synonyms = Synonyms.from_data(json.loads((path / SYNONYMS_FILE).read_text(encoding="utf-8")))
        analyzer.add_words((path / USERDICT_FILE).read_text(encoding="utf-8").splitlines())
        self.analyzer = analyzer
        self.reader = reader
        self.count = reader.doc_count()
        self._df: dict[str, int] = {}
        self._lru: OrderedDict[tuple, SearchResult] = OrderedDict()
        self._lock = threading.Lock()
        self._completion: CompletionTable | None = None
        self.use_cache = True

    # --- helpers -------------------------------------------------------------------

    def doc_freq(self, token: str) -> int:
        df = self._df.get(token)
        if df is None:
            df = self.reader.doc_freq(token)
            if len(self._df) < 200_000:
                self._df[token] = df
        return df

    @property
    def completion(self) -> CompletionTable:
        if self._completion is None:
            with self._lock:
                if self._completion is None:
                    self._completion = CompletionTable(self.path)
        return self._completion

    # --- searching -----------------------------------------------------------------

    def search(self, query: str, filters: SearchFilters | None = None, page: int = 1, per_page: int = 20,
               facets: bool = True) -> SearchResult:
        started = time.perf_counter()
        filters = filters or SearchFilters()
        page = min(max(int(page or 1), 1), MAX_PAGE)
        per_page = min(max(int(per_page or 20), 1), MAX_PER_PAGE)
        q = clean_query(query)
        key = (q, filters, page, per_page, facets)
        if self.use_cache:
            with self._lock:
                cached = self._lru.get(key)
                if cached is not None:
                    self._lru.move_to_end(key)
            if cached is not None:
                return replace(cached, query=query or "", duration_ms=(time.perf_counter() - started) * 1000)
        result = self._search(query or "", q, filters, page, per_page, facets)
        result.duration_ms = (time.perf_counter() - started) * 1000
        if self.use_cache:
            with self._lock:
                self._lru[key] = result
                if len(self._lru) > LRU_SIZE:
                    self._lru.popitem(last=False)
        return result

    def _search(self, raw: str, q: str, filters: SearchFilters, page: int, per_page: int, facets: bool) -> SearchResult:
        filt = EngineFilter(filters.sector, filters.department, filters.project_type, filters.level1,
                            filters.level2, filters.kind, filters.status)
        limit = page * per_page
        code = as_code(raw)
        pinned = self.reader.lookup(code, filt) if code else None
        marks: list[str] = []
        related: list[str] = []
        mode = "none"
        res = EngineHits([], 0, {})
        planned = plan(q, self.analyzer, self.synonyms, self.doc_freq, self.count) if q else None
        if planned is None or not planned.words:
            if not q:
                res, mode = self.reader.search(None, filt, limit, facets), "browse"
        else:
            marks, related = planned.marks, planned.related
            if planned.all_words is not None:
                res, mode = self.reader.search(planned.all_words, filt, limit, facets), "all"
            if res.total == 0 and planned.any_word is not None:
                res, mode = self.reader.search(planned.any_word, filt, limit, facets), "any"
        hits = res.hits
        total = res.total
        if pinned is not None:
            mode = "code"
            rest = [h for h in hits if h[0] != pinned]
            if len(rest) == len(hits):
                total += 1
            top = hits[0][1] if hits else 1.0
            hits = [(pinned, top + 1.0)] + rest
            marks = [code.lower()] + marks
        window = hits[(page - 1) * per_page: page * per_page]
        stored = self.reader.fetch([h for h, _ in window])
        result_hits = [self._hit(doc, score, marks) for doc, (_, score) in zip(stored, window)]
        if total == 0 and mode in ("all", "any"):
            mode = "none"
        did_you_mean: list[str] = []
        if q and (total == 0 or mode == "any"):
            did_you_mean = self._did_you_mean(q)
        return SearchResult(
            query=raw, version=self.label, total=total, page=page, per_page=per_page, hits=result_hits,
            facets=self._facets(res.facets) if facets else {}, mode=mode, did_you_mean=did_you_mean, related=related,
        )

    def _hit(self, doc: dict, score: float, marks: list[str]) -> SearchHit:
        return SearchHit(
            code=doc["code"], name=doc["name"], level1=doc["level1"], level2=doc["level2"], kind=doc["kind"],
            sectors=list(doc.get("sectors") or []), unit=doc.get("unit", ""), direction=doc.get("direction", ""),
            operator=doc.get("operator", ""), definition=doc.get("definition", ""), status=doc.get("status", ""),
            score=round(float(score), 4),
            highlight=highlight(doc["name"], marks),
            snippet=highlight(doc.get("definition", ""), marks, window=SNIPPET_CHARS),
        )

    def _facets(self, counts: dict[str, dict[str, int]]) -> dict[str, list[FacetCount]]:
        """The most frequent values of each facet, with labels."""
        out = {}
        for name in FACET_FIELDS:
            labels = self._labels.get("sector" if name == "sector_path" else name, {})
            values = counts.get(name, {})
            limit = FACET_VALUES * 4 if name == "sector_path" else FACET_VALUES  # the search page's whole sector tree
            top = heapq.nsmallest(limit, ((-n, v) for v, n in values.items() if v)) if len(values) > limit \
                else sorted((-n, v) for v, n in values.items() if v)
            out[name] = [FacetCount(v, labels.get(v, v), -n) for n, v in top]
        return out

    def _did_you_mean(self, q: str) -> list[str]:
        """Names that sound like the query (pinyin), for a query that found nothing."""
        try:
            return self.completion.names_by_pinyin(q, limit=5)
        except Exception:  # a suggestion is never worth an error
            return []

    # --- completion ----------------------------------------------------------------

    def complete(self, prefix: str, limit: int = 10) -> list[Completion]:
        return self.completion.complete(prefix or "", min(max(int(limit or 10), 1), 50))

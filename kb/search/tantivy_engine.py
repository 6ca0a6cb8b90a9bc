"""tantivy-py behind our engine interface, for large libraries
(ZHIBIAO_SEARCH_ENGINE=tantivy; the optional extra `zhibiao[tantivy]`).

The tokens come from kb.text like Whoosh's, indexed with tantivy's whitespace
tokenizer; scoring (BM25), filtering and facet counting (terms aggregations
on fast fields) all happen in Rust.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

import tantivy
from tantivy import Occur, Query

from kb.search.engine import NAME_BOOST, EngineFilter, EngineHits, QueryPlan
from kb.search.model import FACET_FIELDS, IndexDoc

TOKENIZER = "zhibiao_ws"
_FILTER_FIELDS = ("sector_path", "department", "project_type", "level1", "level2", "kind", "status")
_FACET_SIZE = 500


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("code", stored=False, tokenizer_name="raw", index_option="basic")
    b.add_text_field("name", stored=False, tokenizer_name=TOKENIZER, index_option="position")
    b.add_text_field("body", stored=False, tokenizer_name=TOKENIZER, index_option="freq")
    for name in ("sector_path", "sector", "department", "project_type", "level1", "level2", "kind", "status"):
        b.add_text_field(name, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_unsigned_field("ord", stored=False, indexed=False, fast=True)
    b.add_bytes_field("doc", stored=True, indexed=False)
    return b.build()


def _register(ix: tantivy.Index) -> None:
    ix.register_tokenizer(TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())


class TantivyEngine:
    name = "tantivy"

    def build(self, path: Path, docs: Iterable[IndexDoc], progress: Callable[[int], None] | None = None) -> int:
        schema = _schema()
        ix = tantivy.Index(schema, path=str(path), reuse=False)
        _register(ix)
        # One thread, one segment: document order is build order, so ties in
        # score break by code like Whoosh's do.
        writer = ix.writer(heap_size=400_000_000, num_threads=1)
        n = 0
        for doc in docs:
            d = tantivy.Document()
            d.add_text("code", doc.code.lower())
            d.add_text("name", " ".join(doc.name_tokens))
            d.add_text("body", " ".join(doc.text_tokens))
            for field, values in (("sector_path", doc.sector_path), ("sector", doc.sectors), ("department", doc.departments),
                                  ("project_type", doc.project_types)):
                for value in values:
                    d.add_text(field, value)
            for field, value in (("level1", doc.level1), ("level2", doc.level2), ("kind", doc.kind), ("status", doc.status)):
                d.add_text(field, value)
            d.add_unsigned("ord", doc.ord)
            d.add_bytes("doc", json.dumps(doc.stored, ensure_ascii=False, separators=(",", ":")).encode())
            writer.add_document(d)
            n += 1
            if progress is not None:
                progress(n)
        writer.commit()
        writer.wait_merging_threads()
        return n

    def open(self, path: Path) -> "TantivyReader":
        return TantivyReader(path)


class TantivyReader:
    def __init__(self, path: Path):
        self._ix = tantivy.Index.open(str(path))
        _register(self._ix)
        self._schema = self._ix.schema
        self._searcher = self._ix.searcher()  # never written again: one searcher for good
        self._count = self._searcher.num_docs
        self._aggs = {name: {"terms": {"field": name, "size": _FACET_SIZE}} for name in FACET_FIELDS}

    def _term(self, field: str, value: str) -> Query:
        return Query.term_query(self._schema, field, value)

    def _token(self, token: str, boost: float = 1.0) -> Query:
        return Query.boolean_query([
            (Occur.Should, Query.boost_query(self._term("name", token), NAME_BOOST * boost)),
            (Occur.Should, Query.boost_query(self._term("body", token), boost) if boost != 1.0 else self._term("body", token)),
        ])

    def _slot(self, tokens: tuple[str, ...], boost: float) -> Query:
        if len(tokens) == 1:
            return self._token(tokens[0], boost)
        return Query.boolean_query([(Occur.Should, self._token(t, boost)) for t in tokens])

    def _to_query(self, plan: QueryPlan) -> Query:
        if plan.mode == "any":
            return Query.boolean_query([(Occur.Should, self._token(t)) for t in plan.tokens])
        groups = []
        for group in plan.groups:
            alts = []
            for alt in group.alts:
                parts = [self._slot(slot, alt.boost) for slot in alt.slots]
                alts.append(parts[0] if len(parts) == 1 else Query.boolean_query([(Occur.Must, p) for p in parts]))
            groups.append(alts[0] if len(alts) == 1 else Query.boolean_query([(Occur.Should, a) for a in alts]))
        return groups[0] if len(groups) == 1 else Query.boolean_query([(Occur.Must, g) for g in groups])

    def _filtered(self, q: Query | None, filt: EngineFilter) -> Query:
        clauses = [(Occur.Must, q if q is not None else Query.all_query())]
        for name in _FILTER_FIELDS:
            value = getattr(filt, name)
            if value:
                # filters must not change scores
                clauses.append((Occur.Must, Query.const_score_query(self._term(name, value), 0.0)))
        if filt.status is None:
            clauses.append((Occur.MustNot, self._term("status", "retired")))
        return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)

    def search(self, plan: QueryPlan | None, filt: EngineFilter, limit: int, facets: bool) -> EngineHits:
        q = self._filtered(self._to_query(plan) if plan is not None else None, filt)
        s = self._searcher
        if plan is None:
            result = s.search(q, limit=max(limit, 1), count=True, order_by_field="ord", order=tantivy.Order.Asc)
            hits = [(addr, 0.0) for _key, addr in result.hits]
        else:
            result = s.search(q, limit=max(limit, 1), count=True)
            hits = [(addr, score) for score, addr in result.hits]
        counts = {}
        if facets and result.count:
            agg = s.aggregate(q, self._aggs)
            counts = {name: {b["key"]: b["doc_count"] for b in agg.get(name, {}).get("buckets", [])} for name in FACET_FIELDS}
        return EngineHits(hits, result.count, counts)

    def lookup(self, code: str, filt: EngineFilter):
        result = self._searcher.search(self._filtered(self._term("code", code.lower()), filt), limit=1, count=False)
        return result.hits[0][1] if result.hits else None

    def fetch(self, handles: list) -> list[dict]:
        s = self._searcher
        return [json.loads(bytes(s.doc(addr)["doc"][0])) for addr in handles]

    def doc_freq(self, token: str) -> int:
        s = self._searcher
        return max(s.doc_freq("name", token), s.doc_freq("body", token))

    def doc_count(self) -> int:
        return self._count

    def close(self) -> None:
        self._searcher = None
        self._ix = None

"""Whoosh (the whoosh-reloaded 2.7.5 fork, pinned) behind our engine interface.

Whoosh stores the index (term dictionary, postings, stored fields); the
evaluation is tuned, because Whoosh's own matchers and collectors score every
match in pure Python (40 ms p95 at 10k indicators, 190 ms for broad queries):
- the tokens are made once by kb.text and indexed as space-separated words,
  so opening the index never imports jieba (the pickled schema names only
  Whoosh's own whitespace tokenizer);
- stored fields are trimmed to what a hit list shows, in one stored column;
  the body keeps no positions;
- the documents of a token, a filter term or a facet value are bitmaps held
  in Python ints: which documents match a query plan, how many, and the facet
  counts are a few big-integer operations (in C), not loops over postings;
- ranking is BM25 with the name boosted, summed over the plan's tokens as
  Whoosh's And/Or of Term queries would; each token's scores are read from
  the postings once, a block at a time, and kept (bounded), and only matched
  documents are scored.

Whoosh allows one writer at a time; kb.search.index makes sure only one
process builds, into a fresh folder, and readers never write.
"""
from __future__ import annotations

import heapq
import json
import math
import threading
from array import array
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Callable, Iterable

from whoosh import fields, formats, index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.scoring import BM25F
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

from kb.search.engine import NAME_BOOST, EngineFilter, EngineHits, QueryPlan
from kb.search.model import FACET_FIELDS, IndexDoc

FACETS_FILE = "zb-facets.json"
K1, B = 1.2, 0.75  # BM25, as Whoosh's BM25F defaults
MAX_CACHED_POSTINGS = 1_500_000  # token scores kept in memory (about 100 MB at most)
_SPACE = SpaceSeparatedTokenizer()
_UNIQUE_FIELDS = {"code"}  # a value per document: nothing to remember
_PACKED = [pack_uint(n) for n in range(64)]


def _packed(n: int) -> bytes:
    return _PACKED[n] if n < 64 else pack_uint(n)


def _schema() -> fields.Schema:
    keyword = dict(stored=False, lowercase=False, commas=False, scorable=False)
    return fields.Schema(
        code=fields.ID(stored=False),
        name=fields.TEXT(analyzer=_SPACE, phrase=True, stored=False),
        body=fields.TEXT(analyzer=_SPACE, phrase=False, stored=False),
        sector_path=fields.KEYWORD(**keyword),
        department=fields.KEYWORD(**keyword),
        project_type=fields.KEYWORD(**keyword),
        level1=fields.ID(),
        level2=fields.ID(),
        kind=fields.ID(),
        status=fields.ID(),
        doc=fields.STORED(),
    )


def field_values(doc: IndexDoc) -> dict:
    """One document's fields, as Whoosh's `add_document` would take them."""
    return {
        "code": doc.code.lower(),
        "name": " ".join(doc.name_tokens),
        "body": " ".join(doc.text_tokens),
        "sector_path": " ".join(doc.sector_path),
        "department": " ".join(doc.departments),
        "project_type": " ".join(doc.project_types),
        "level1": doc.level1,
        "level2": doc.level2,
        "kind": doc.kind,
        "status": doc.status,
        "doc": doc.stored,
    }


class WhooshEngine:
    name = "whoosh"

    def build(self, path: Path, docs: Iterable[IndexDoc], progress: Callable[[int], None] | None = None) -> int:
        ix = index.create_in(str(path), _schema())
        writer = ix.writer(procs=1)
        schema = writer.schema
        pdw = writer.perdocwriter
        postings = _Postings(schema)
        facet_rows = []
        facet_codes = []
        n = 0
        try:
            for doc in docs:
                postings.add_document(pdw, n, field_values(doc))
                facet_rows.append([doc.sectors, doc.sector_path, doc.level1, doc.kind, doc.departments,
                                   doc.project_types, len(doc.name_tokens), len(doc.text_tokens)])
                facet_codes.append(doc.code)
                n += 1
                if progress is not None:
                    progress(n)
            postings.commit(writer, n)
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
        _check_order(ix, facet_codes)
        (path / FACETS_FILE).write_text(json.dumps(facet_rows, ensure_ascii=False), encoding="utf-8")
        return n

    def open(self, path: Path) -> "WhooshReader":
        return WhooshReader(path)


class _Postings:
    """What Whoosh's `add_document` and `commit` do for our schema, written
    for one fresh segment of many documents (publishing 50,000 indicators
    spent most of its time in them, 61 s of CPU): the same terms, weights and
    encoded values per field, but postings go to compact per-term arrays in
    memory instead of Whoosh's pool of tuples (which pickled runs of 256 MB to
    disk and merged them back), and are handed to the posting writer a block
    at a time with field lengths from those arrays, instead of one call and
    one column look-up per posting. The index read back is the same, posting
    for posting (tests/test_search.py compares the two writers)."""

    def __init__(self, schema: fields.Schema):
        for name in schema.names():
            field = schema[name]
            # what this writer leaves out: none of it is in our schema
            if field.vector or field.column_type or field.separate_spelling():
                raise RuntimeError(f"whoosh field {name} needs the general writer")
        self._schema = schema
        self._names = sorted(schema.names())
        self._terms: dict[str, dict[bytes, tuple[array, array, list]]] = {name: {} for name in self._names}
        self._lengths: dict[str, array] = {name: array("B") for name in self._names if schema[name].scorable}
        self._values: dict[bytes, bytes] = {}  # one object per distinct encoded value
        self._split = _SPACE.expression.findall
        self._plan = []
        for name in self._names:
            field = schema[name]
            counted = (type(field.format) is formats.Frequency and field.format.field_boost == 1.0
                       and getattr(field, "analyzer", None) == _SPACE)
            cache = None if counted or name in _UNIQUE_FIELDS else {}
            self._plan.append((name, field, field.indexed, field.scorable, field.stored, counted, cache))
        self._counted = {name: counted for name, _, _, _, _, counted, _ in self._plan}

    def add_document(self, pdw, docnum: int, values: dict) -> None:
        pdw.start_doc(docnum)
        intern = self._values.setdefault
        for name, field, indexed, scorable, stored, counted, cache in self._plan:  # sorted by name, as Whoosh does
            value = values.get(name)
            if value is None:
                if scorable:
                    self._lengths[name].append(0)
                continue
            length = 0
            if indexed:
                terms = self._terms[name]
                if counted:
                    # Frequency over space-separated words: only each word's count is kept (its weight is the
                    # count, its value the packed count: made when the block is written)
                    for word, n in Counter(self._split(value)).items():
                        tbytes = word.encode("utf-8")
                        slot = terms.get(tbytes)
                        if slot is None:
                            slot = terms[tbytes] = (array("l"), array("l"))
                        slot[0].append(docnum)
                        slot[1].append(n)
                        length += n
                else:
                    if cache is not None:  # values that repeat (levels, kinds, names)
                        items = cache.get(value)
                        if items is None:
                            items = cache[value] = list(field.index(value))
                    else:
                        items = field.index(value)
                    for tbytes, freq, weight, vbytes in items:
                        length += freq
                        slot = terms.get(tbytes)
                        if slot is None:
                            slot = terms[tbytes] = (array("l"), array("d"), [])
                        slot[0].append(docnum)
                        slot[1].append(weight)
                        slot[2].append(intern(vbytes, vbytes))
                if not scorable:
                    length = 0
            if scorable:
                self._lengths[name].append(length_to_byte(length) if length else 0)
            if stored or length:  # add_field does nothing else
                pdw.add_field(name, field, value if stored else None, length)
        pdw.finish_doc()

    def _write_postings(self, fw) -> None:
        """What FieldWriter.add_postings does with the sorted postings, a block at a
        time: the posting writer's block buffer and statistics are filled as its
        `add_posting` would fill them one posting after another (ids, float32
        weights, non-empty values, the highest weight, the shortest and longest
        non-zero field length), and each full block is written when the next
        posting arrives, the last one by `finish_postings` (or inlined)."""
        for name in self._names:
            terms = self._terms[name]
            if not terms:
                continue
            fw.start_field(name, self._schema[name])
            lengths = self._lengths.get(name)
            counted = self._counted[name]
            for tbytes in sorted(terms):
                slot = terms.pop(tbytes)
                ids = slot[0]
                fw.start_term(tbytes)
                pw = fw._postwriter
                limit = pw._blocklimit
                for at in range(0, len(ids), limit):
                    if at:
                        pw._write_block()
                    block_ids = ids[at:at + limit]
                    pw._ids = array("I", block_ids)
                    if counted:  # weight = count, value = packed count
                        freqs = slot[1][at:at + limit]
                        pw._weights = array("f", freqs)
                        pw._values = [_packed(n) for n in freqs]
                        top = float(max(freqs))
                    else:
                        block_weights = slot[1][at:at + limit]
                        pw._weights = array("f", block_weights)
                        pw._values = [v for v in slot[2][at:at + limit] if v]
                        top = max(block_weights)
                    pw._maxweight = top if top > 0 else 0
                    if lengths is not None:
                        found = [byte_to_length(b) for b in (lengths[d] for d in block_ids) if b]
                        pw._minlength = min(found) if found else None
                        pw._maxlength = max(found) if found else 0
                fw.finish_term()
            fw.finish_field()

    def commit(self, writer, count: int) -> None:
        """SegmentWriter.commit(optimize=True) of a new index, with our postings."""
        writer.docnum = count
        writer._added = count > 0
        segments = writer._merge_segments(None, True, None)
        if writer._added:
            writer.perdocwriter.close()
            self._write_postings(writer.fieldwriter)
            writer.fieldwriter.close()
            writer._close_segment()
            writer._assemble_segment()
            segments.append(writer.get_segment())
        else:
            writer._close_segment()
        writer._commit_toc(segments)
        writer._finish()


def _check_order(ix, codes: list[str]) -> None:
    """The side file is by build order; Whoosh must have kept that order as
    document numbers (one writer, one segment)."""
    with ix.searcher() as s:
        if s.doc_count_all() != len(codes):
            raise RuntimeError("whoosh index has a different number of documents than were added")
        for d in {0, len(codes) // 2, len(codes) - 1} if codes else ():
            if s.stored_fields(d)["doc"]["code"] != codes[d]:
                raise RuntimeError("whoosh did not keep the documents in build order")


def _bits(ids: Iterable[int], n: int) -> int:
    """Document numbers as a bitmap in a Python int: &, | and bit_count() run in C."""
    buf = bytearray((n + 7) // 8)
    for i in ids:
        buf[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buf, "little")


_BYTE_BITS = [tuple(i for i in range(8) if b >> i & 1) for b in range(256)]


def _bit_list(mask: int, nbytes: int) -> list[int]:
    out: list[int] = []
    for i, byte in enumerate(mask.to_bytes(nbytes, "little")):
        if byte:
            base = i << 3
            out.extend(base + o for o in _BYTE_BITS[byte])
    return out


def _postings(matcher) -> tuple[list[int], list[float]]:
    """(document numbers, term frequencies) of a term, a block at a time
    where Whoosh's codec allows (whoosh-reloaded 2.7.5 is pinned for this)."""
    ids: list[int] = []
    tfs: list[float] = []
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids[matcher._i:])
            tfs.extend(matcher._weights[matcher._i:])
            matcher._next_block()
        return ids, tfs
    while matcher.is_active():
        ids.append(matcher.id())
        tfs.append(matcher.weight())
        matcher.next()
    return ids, tfs


def _first_bits(mask: int, limit: int) -> list[int]:
    out, pos = [], 0
    while mask and len(out) < limit:
        low = mask & -mask
        i = low.bit_length() - 1
        out.append(pos + i)
        mask >>= i + 1
        pos += i + 1
    return out


class WhooshReader:
    def __init__(self, path: Path):
        self._ix = index.open_dir(str(path))
        # One long-lived searcher per process and index: opening one costs
        # far more than a query. Whoosh searchers are not thread-safe, hence the lock.
        self._searcher = self._ix.searcher(weighting=BM25F())
        self._reader = self._searcher.reader()
        self._lock = threading.Lock()
        self._n = self._searcher.doc_count_all()
        rows = json.loads((path / FACETS_FILE).read_text(encoding="utf-8"))
        if len(rows) != self._n:
            raise RuntimeError(f"whoosh index {path} and its facet file disagree")
        self._facet_masks = self._facet_bitmaps(rows)
        # BM25's length part per document and field, computed once
        self._norms = {}
        for name, col in (("name", 6), ("body", 7)):
            lengths = [r[col] for r in rows]
            avg = (sum(lengths) / len(lengths) if lengths else 1.0) or 1.0
            self._norms[name] = array("d", (K1 * (1 - B) + K1 * B * length / avg for length in lengths))
        self._nbytes = (self._n + 7) // 8
        self._tokens: OrderedDict[str, tuple[int, dict]] = OrderedDict()  # token → (bitmap, scores)
        self._token_entries = 0
        self._all = (1 << self._n) - 1
        # bitmaps of filter terms (sector_path:21002, status:retired …), bounded to about 32 MB
        self._masks: OrderedDict[tuple, int] = OrderedDict()
        self._max_masks = max(256, 32_000_000 // max(1, self._n // 8))

    def _facet_bitmaps(self, rows: list) -> dict[str, list[tuple[str, int]]]:
        docs: dict[str, dict[str, list[int]]] = {name: {} for name in FACET_FIELDS}
        for d, (sectors, sector_path, level1, kind, departments, project_types, *_lengths) in enumerate(rows):
            for name, values in (("sector", sectors), ("sector_path", sector_path), ("level1", [level1]), ("kind", [kind]),
                                 ("department", departments), ("project_type", project_types)):
                for value in values:
                    docs[name].setdefault(value, []).append(d)
        return {name: [(v, _bits(ids, self._n)) for v, ids in values.items()] for name, values in docs.items()}

    # --- bitmaps -----------------------------------------------------------------------

    def _term_mask(self, fields_: tuple[str, ...], text: str) -> int:
        key = (fields_, text)
        mask = self._masks.get(key)
        if mask is not None:
            self._masks.move_to_end(key)
            return mask
        mask = 0
        for name in fields_:
            if (name, text) in self._reader:
                mask |= _bits(self._reader.postings(name, text).all_ids(), self._n)
        self._masks[key] = mask
        if len(self._masks) > self._max_masks:
            self._masks.popitem(last=False)
        return mask

    def _token_mask(self, token: str) -> int:
        return self._token(token)[0]

    def _plan_mask(self, plan: QueryPlan) -> int:
        tm = self._token_mask
        if plan.mode == "any":
            mask = 0
            for t in plan.tokens:
                mask |= tm(t)
            return mask
        mask = self._all
        for group in plan.groups:
            g = 0
            for alt in group.alts:
                a = self._all
                for slot in alt.slots:
                    s_ = 0
                    for t in slot:
                        s_ |= tm(t)
                    a &= s_
                g |= a
            mask &= g
            if not mask:
                break
        return mask

    def _filter_mask(self, filt: EngineFilter) -> int:
        mask = self._all
        for name, value in (("sector_path", filt.sector_path), ("department", filt.department),
                            ("project_type", filt.project_type), ("level1", filt.level1), ("level2", filt.level2),
                            ("kind", filt.kind), ("status", filt.status)):
            if value:
                mask &= self._term_mask((name,), value)
        if filt.status is None:
            mask &= ~self._term_mask(("status",), "retired")
        return mask

    def search(self, plan: QueryPlan | None, filt: EngineFilter, limit: int, facets: bool) -> EngineHits:
        with self._lock:
            allowed = self._filter_mask(filt)
            matched = allowed if plan is None else self._plan_mask(plan) & allowed
            total = matched.bit_count()
            counts = self._count(matched) if facets and total else {}
            if not total:
                return EngineHits([], 0, counts)
            if plan is None:  # browse: in code order
                return EngineHits([(d, 0.0) for d in _first_bits(matched, limit)], total, counts)
            return EngineHits(self._rank(plan, matched, total, limit), total, counts)

    # --- ranking -------------------------------------------------------------------

    def _token(self, token: str) -> tuple[int, dict[int, float]]:
        """A token's documents (bitmap) and BM25 scores (name boosted), read
        from Whoosh's postings once, a block at a time, then kept (bounded)."""
        cached = self._tokens.get(token)
        if cached is not None:
            self._tokens.move_to_end(token)
            return cached
        scores: dict[int, float] = {}
        n = self._n
        for name, boost in (("body", 1.0), ("name", NAME_BOOST)):
            if (name, token) not in self._reader:
                continue
            ids, tfs = _postings(self._reader.postings(name, token))
            df = len(ids)
            c = math.log(1.0 + (n - df + 0.5) / (df + 0.5)) * boost * (K1 + 1)
            norm = self._norms[name]
            values = [c * tf / (tf + norm[d]) for d, tf in zip(ids, tfs)]
            if not scores:
                scores = dict(zip(ids, values))
            else:
                get = scores.get
                for d, v in zip(ids, values):
                    scores[d] = get(d, 0.0) + v
        entry = (_bits(scores, n), scores)
        self._tokens[token] = entry
        self._token_entries += len(scores) + 1
        while self._token_entries > MAX_CACHED_POSTINGS and len(self._tokens) > 1:
            _, (_, dropped) = self._tokens.popitem(last=False)
            self._token_entries -= len(dropped) + 1
        return entry

    def _rank(self, plan: QueryPlan, matched: int, total: int, limit: int) -> list[tuple[int, float]]:
        """The top `limit` matched documents by the sum of their tokens' BM25,
        as Whoosh's And/Or of Term queries would score them."""
        boosts: dict[str, float] = {}
        if plan.mode == "any":
            boosts = dict.fromkeys(plan.tokens, 1.0)
        else:
            for group in plan.groups:
                for alt in group.alts:
                    for slot in alt.slots:
                        for t in slot:
                            boosts[t] = max(boosts.get(t, 0.0), alt.boost)
        maps = [(self._token(t)[1], b) for t, b in boosts.items()]
        postings = sum(len(m) for m, _ in maps)
        if total * len(maps) <= postings:
            docs = _bit_list(matched, self._nbytes)
            scored = [(sum(m.get(d, 0.0) * b for m, b in maps), d) for d in docs]
        else:
            acc: dict[int, float] = {}
            get = acc.get
            for m, b in maps:
                for d, w in m.items():
                    acc[d] = get(d, 0.0) + w * b
            bits = matched.to_bytes(self._nbytes, "little")
            scored = [(sc, d) for d, sc in acc.items() if bits[d >> 3] >> (d & 7) & 1]
        top = heapq.nlargest(limit, scored, key=lambda x: (x[0], -x[1]))
        return [(d, sc) for sc, d in top]

    def _count(self, matched: int) -> dict[str, dict[str, int]]:
        out = {}
        for name, values in self._facet_masks.items():
            counts = {}
            for value, mask in values:
                n = (matched & mask).bit_count()
                if n:
                    counts[value] = n
            out[name] = counts
        return out

    def lookup(self, code: str, filt: EngineFilter):
        with self._lock:
            docnum = self._searcher.document_number(code=code.lower())
            if docnum is None or not (self._filter_mask(filt) >> docnum) & 1:
                return None
        return docnum

    def fetch(self, handles: list) -> list[dict]:
        with self._lock:
            return [self._searcher.stored_fields(d)["doc"] for d in handles]

    def doc_freq(self, token: str) -> int:
        with self._lock:
            r = self._reader
            return max(r.doc_frequency("name", token), r.doc_frequency("body", token))

    def doc_count(self) -> int:
        return self._n

    def close(self) -> None:
        with self._lock:
            self._searcher.close()
            self._ix.close()

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

import hashlib
import heapq
import json
import math
import os
import random
import threading
import zlib
from array import array
from collections import OrderedDict, _count_elements, deque
from itertools import filterfalse, repeat
from pathlib import Path
from typing import Callable, Iterable

import whoosh.util
from whoosh import fields, formats, index
from whoosh.analysis import IDTokenizer, SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.compat import dumps
from whoosh.filedb.filetables import _lengths as _KEY_LENGTHS
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import md5_hash
from whoosh.scoring import BM25F
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util import random_name
from whoosh.util.numeric import byte_to_length, length_to_byte

from kb.search.engine import NAME_BOOST, EngineFilter, EngineHits, QueryPlan
from kb.search.model import FACET_FIELDS, IndexDoc

FACETS_FILE = "zb-facets.json"
K1, B = 1.2, 0.75  # BM25, as Whoosh's BM25F defaults
MAX_CACHED_POSTINGS = 1_500_000  # token scores kept in memory (about 100 MB at most)
_SPACE = SpaceSeparatedTokenizer()
_TERMINFO = W3TermInfo._struct
_ID, _COUNTED, _POSITIONS, _GENERAL = range(4)  # how _Postings indexes a field
COMPRESS_FROM = 256  # a posting block's pickle shorter than this is stored uncompressed
_FLUSH_BYTES = 8 << 20  # postings and term table are written in pieces of this size
_PACKED = [pack_uint(n) for n in range(64)]

# whoosh names its segment and temporary files with the process's shared `random` generator. An index is built in
# a publish job's thread while the process's other threads run on, and moved their random state underneath them
# (tests/test_search.py). A SystemRandom draws from the OS: no state shared with anyone, and a forked worker
# never repeats its parent's names.
whoosh.util.random = random.SystemRandom()


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
        ix = index.FileIndex.create(_Storage(str(path)), _schema(), index._DEF_INDEX_NAME)  # index.create_in
        writer = ix.writer(procs=1)
        postings = _Postings(writer.schema, writer.perdocwriter)
        facet_rows = []
        facet_codes = []
        n = 0
        try:
            for doc in docs:
                postings.add_document(n, field_values(doc))
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


class _Storage(FileStorage):
    """Whoosh's FileStorage, making its folders with `exist_ok`. Whoosh's own
    `create` catches the error of a folder that is there and keeps it in a
    local (`e = sys.exc_info()[1]`): a reference cycle through the frames
    above it. A writer makes its temporary folder twice, so every build left
    one, holding the frame of whoever built (a publish: the whole draft, the
    postings, 1.5 million objects at 50,000 indicators) until the garbage
    collector walked it all: 1.3 s of CPU after every big publish, and the
    memory until then."""

    def create(self) -> "_Storage":
        os.makedirs(os.path.abspath(self.folder), exist_ok=True)  # a file in the way still raises
        return self

    def temp_storage(self, name: str | None = None) -> "_Storage":
        return _Storage(os.path.join(self.folder, name or f"{random_name()}.tmp")).create()


class _Postings:
    """What Whoosh's `add_document` and `commit` do for our schema, written
    for one fresh segment of many documents (publishing 50,000 indicators
    spent 61 s of CPU in Whoosh's writer, then 11 s feeding its posting
    writer a block at a time). The index read back is the same, term for
    term and posting for posting, with the same statistics, field lengths
    and stored fields (tests/test_search.py compares it with what Whoosh's
    own writer makes), but:
    - postings go to per-term arrays keyed by the term's text (encoded once
      per term, not once per posting; arrays, unlike lists, are nothing for
      the garbage collector to walk), appended to by C-level loops
      (`map(array.append, …)`), with fast paths for the three kinds of field
      our schema has: whole-value IDs, counted words (Frequency) and words
      with positions; any other field goes through its own `index`;
    - the field lengths go to their columns once every document is in, not
      one call per document and field; the stored fields go to theirs one
      call per document, not deflated (zlib level 0, which every reader reads: a
      deflate stream set up per document cost a second at 50,000 documents,
      to save a fifth of a column only `fetch` reads, a page of hits at a time);
    - posting blocks and the term table are encoded here, into buffers
      written in large pieces, as Whoosh's W3PostingsWriter, W3TermInfo and
      OrderedHashWriter would encode them one method call at a time. A block
      whose pickle is short is stored uncompressed (its header says so, and
      the reader decompresses only what is compressed): deflating a 60-byte
      pickle saved nothing and cost a zlib stream per term."""

    def __init__(self, schema: fields.Schema, pdw):
        for name in schema.names():
            field = schema[name]
            # what this writer leaves out: none of it is in our schema
            if field.vector or field.column_type or field.separate_spelling():
                raise RuntimeError(f"whoosh field {name} needs the general writer")
        self._schema = schema
        self._names = sorted(schema.names())
        self._split = _SPACE.expression.findall
        self._modes = {name: _mode(schema[name]) for name in self._names}
        # per field, per term: the documents, and per mode the counts, or the weights and values
        self._ids: dict[str, dict] = {name: {} for name in self._names}
        self._counts: dict[str, dict] = {name: {} for name in self._names}
        self._weights: dict[str, dict] = {name: {} for name in self._names}
        self._values: dict[str, dict] = {name: {} for name in self._names}
        # per scorable field: each document's length as Whoosh stores it (a byte), and the total
        self._lengths: dict[str, array] = {name: array("B") for name in self._names if schema[name].scorable}
        self._totals: dict[str, int] = dict.fromkeys(self._lengths, 0)
        # the stored fields go to their column document by document, as finish_doc writes them
        self._stored_column = pdw._get_column("_stored")
        self._stored_column._child._level = 0  # see the class's notes
        self._plan = [(name, self._modes[name], schema[name], schema[name].scorable, schema[name].stored)
                      for name in self._names]
        self._positions: dict[tuple, bytes] = {}  # positions → the field format's encoding of them
        self._count = 0

    def add_document(self, docnum: int, values: dict) -> None:
        if docnum != self._count:
            raise RuntimeError(f"documents must come in order: {docnum}, expected {self._count}")
        self._count += 1
        stored = {}
        for name, mode, field, scorable, is_stored in self._plan:  # sorted by name, as Whoosh does
            value = values.get(name)
            if value is None:
                if scorable:
                    self._lengths[name].append(0)
                continue
            length = 0
            if mode == _COUNTED:
                # Frequency over space-separated words: weight = count, value = packed count (made when written)
                words = self._split(value)
                counts: dict[str, int] = {}
                _count_elements(counts, words)
                ids_of, counts_of = self._ids[name], self._counts[name]
                if len(counts) > 4:
                    # new terms first (a C-level filter: the `-` of dict views walks the whole dict)
                    for word in filterfalse(ids_of.__contains__, counts):
                        ids_of[word] = array("l")
                        counts_of[word] = array("l")
                    _consume(map(array.append, map(ids_of.__getitem__, counts), repeat(docnum)))
                    _consume(map(array.append, map(counts_of.__getitem__, counts), counts.values()))
                else:  # a few facet values: a plain loop costs less than setting up the C-level ones
                    for word, n in counts.items():
                        ids = ids_of.get(word)
                        if ids is None:
                            ids_of[word] = array("l", (docnum,))
                            counts_of[word] = array("l", (n,))
                        else:
                            ids.append(docnum)
                            counts_of[word].append(n)
                length = len(words)
            elif mode == _ID:  # the whole value is the one term; weight 1.0, no value
                ids = self._ids[name].get(value)
                if ids is None:
                    self._ids[name][value] = array("l", (docnum,))
                else:
                    ids.append(docnum)
                length = 1
            elif mode == _POSITIONS:  # weight = count, value = the positions encoded
                words = self._split(value)
                length = len(words)
                poses: dict[str, list[int]] = {}
                for pos, word in enumerate(words):
                    at = poses.get(word)
                    if at is None:
                        poses[word] = [pos]
                    else:
                        at.append(pos)
                ids_of, weights_of, values_of = self._ids[name], self._weights[name], self._values[name]
                for word in filterfalse(ids_of.__contains__, poses):
                    ids_of[word] = array("l")
                    weights_of[word] = array("d")
                    values_of[word] = []
                encoded = self._positions
                vbytes = []
                for at in poses.values():
                    key = tuple(at)
                    v = encoded.get(key)
                    if v is None:
                        v = encoded[key] = field.format.encode(at)
                    vbytes.append(v)
                _consume(map(array.append, map(ids_of.__getitem__, poses), repeat(docnum)))
                _consume(map(array.append, map(weights_of.__getitem__, poses), [float(len(at)) for at in poses.values()]))
                _consume(map(list.append, map(values_of.__getitem__, poses), vbytes))
            elif mode == _GENERAL:  # keyed by the term's bytes
                ids_of, weights_of, values_of = self._ids[name], self._weights[name], self._values[name]
                for tbytes, freq, weight, vbytes in field.index(value):
                    length += freq
                    if tbytes not in ids_of:
                        ids_of[tbytes], weights_of[tbytes], values_of[tbytes] = [], [], []
                    ids_of[tbytes].append(docnum)
                    weights_of[tbytes].append(weight)
                    values_of[tbytes].append(vbytes)
            if scorable:
                self._lengths[name].append(length_to_byte(length) if length else 0)
                self._totals[name] += length
            if is_stored:
                stored[name] = value
        if stored:
            self._stored_column.add(docnum, stored)

    def _write_columns(self, pdw, count: int) -> None:
        """The field lengths, as the per-document writer's `add_field` would have
        added them document by document, and its count of documents."""
        pdw._doccount = count
        for name in self._names:
            lengths = self._lengths.get(name)
            if lengths is None or not self._totals[name]:
                continue
            pdw._fieldlengths[name] += self._totals[name]
            lenfield = f"_{name}_len"
            if not pdw._has_column(lenfield):
                pdw._create_column(lenfield, LENGTHS_COLUMN)
            add = pdw._get_column(lenfield).add
            for docnum, b in enumerate(lengths):
                if b:
                    add(docnum, b)

    def _write_postings(self, fw) -> None:
        """Every field's terms in order, each posting list in blocks, and the term table: what
        FieldWriter.add_postings writes through W3PostingsWriter and the OrderedHashWriter."""
        proto = fw._codec.postings_writer(fw._postfile)
        limit, level = proto._blocklimit, proto._compression
        if proto._inlinelimit > 1:
            raise RuntimeError("whoosh codec inlines postings: needs the general writer")
        postfile, tindex = fw._postfile, fw._tindex
        post, post_base = bytearray(), postfile.tell()
        table, table_base = bytearray(), tindex.dbfile.tell()
        index_append, buckets, last_key = tindex.index.append, tindex.buckets, tindex.lastkey
        hashfn = _md5_low32 if tindex.hashfn is md5_hash else tindex.hashfn
        for name in self._names:
            ids_of = self._ids[name]
            if not ids_of:
                continue
            field = self._schema[name]
            fw.start_field(name, field)
            prefix = pack_ushort(fw._fieldid)
            mode = self._modes[name]
            fixed = field.format.fixed_value_size()
            lengths = self._lengths.get(name)
            doclen = [byte_to_length(b) if b else 0 for b in lengths] if lengths is not None else None
            counts_of, weights_of, values_of = self._counts[name], self._weights[name], self._values[name]
            for term in sorted(ids_of):
                ids = ids_of.pop(term)
                if len(ids) == 1 and mode != _GENERAL:
                    # most terms (a code, a rare word): one posting, written as _blocks would write it
                    d = ids[0]
                    if mode == _ID:
                        weight, values = 1.0, None
                    elif mode == _COUNTED:
                        count = counts_of.pop(term)[0]
                        weight, values = float(count), _packed(count)  # a fixed size: the values joined
                    else:
                        weight, v = weights_of.pop(term)[0], values_of.pop(term)[0]
                        values = (v,) if v else ()
                    length = (doclen[d] or None) if doclen is not None else None
                    block, stats = _one_posting(d, weight, values, length, level)
                else:
                    if mode == _ID:
                        weights = values = None
                    elif mode == _COUNTED:
                        weights = counts_of.pop(term)
                        values = (list(map(_PACKED.__getitem__, weights)) if max(weights) < len(_PACKED)
                                  else list(map(_packed, weights)))
                    else:
                        weights, values = weights_of.pop(term), values_of.pop(term)
                    block, stats = _blocks(ids, weights, values, mode == _COUNTED, fixed, doclen, limit, level)
                info = _TERMINFO.pack(0, *stats) + pack_long(post_base + len(post)) + pack_int(len(block))
                post += block
                key = prefix + (term if mode == _GENERAL else term.encode("utf-8"))
                if key <= last_key:
                    raise ValueError(f"Keys must increase: {last_key!r}..{key!r}")
                last_key = key
                pos = table_base + len(table)
                index_append(pos)
                table += _KEY_LENGTHS.pack(len(key), len(info))
                table += key
                table += info
                h = hashfn(key)
                buckets[h & 255].append((h, pos))
                if len(post) > _FLUSH_BYTES:
                    postfile.write(bytes(post))
                    post_base += len(post)
                    post.clear()
                if len(table) > _FLUSH_BYTES:
                    tindex.dbfile.write(bytes(table))
                    table_base += len(table)
                    table.clear()
            fw.finish_field()
        postfile.write(bytes(post))
        tindex.dbfile.write(bytes(table))
        tindex.lastkey = last_key

    def commit(self, writer, count: int) -> None:
        """SegmentWriter.commit(optimize=True) of a new index, with our postings."""
        if count != self._count:
            raise RuntimeError("whoosh commit: document count differs from the documents added")
        writer.docnum = count
        writer._added = count > 0
        segments = writer._merge_segments(None, True, None)
        if writer._added:
            self._write_columns(writer.perdocwriter, count)
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


def _one_posting(d: int, weight: float, values, length: int | None, level: int) -> tuple[bytes, tuple]:
    """`_blocks` for a posting list of one posting whose weight a float32 holds exactly (a count): its bytes,
    and the term's statistics as W3TermInfo packs them."""
    data = dumps(((d,), None if weight == 1.0 else weight, values), 2)
    comp = level if level and len(data) >= COMPRESS_FROM else 0
    if comp:
        data = zlib.compress(data, comp)
    lb = length_to_byte(length)
    head = dumps((1, d, weight, comp, lb, lb), 2)
    return (WHOOSH3_HEADER_MAGIC + pack_int(-(len(head) + len(data))) + head + data,
            (weight, 1, lb, lb, weight, d, d))


def _blocks(ids, weights, values, counted: bool, fixed: int | None, doclen: list[int] | None, limit: int,
            level: int) -> tuple[bytes, tuple]:
    """A term's postings as W3PostingsWriter writes them, `limit` to a block (`weights` None: every weight 1.0;
    `values` None: none), and the term's statistics, summed block by block as W3TermInfo.add_block does, in
    the order W3TermInfo packs them: (weight, doc frequency, shortest and longest field length as bytes,
    highest weight, first and last document)."""
    out = bytearray(WHOOSH3_HEADER_MAGIC)
    total = len(ids)
    t_weight, t_minlength, t_maxlength, t_maxweight = 0, None, 0, 0
    for at in range(0, total, limit):
        if total > limit:
            block_ids = ids[at:at + limit]
            block_weights = weights[at:at + limit] if weights is not None else None
            block_values = values[at:at + limit] if values is not None else None
        else:
            block_ids, block_weights, block_values = ids, weights, values
        n = len(block_ids)
        if block_weights is None:
            wsum, top, mini_weights = float(n), 1.0, None
        else:
            f32 = array("f", block_weights)  # as the posting writer keeps them
            wsum = sum(f32)
            top = max(block_weights)
            if counted:
                top = float(top)
            if not top > 0:
                top = 0
            first = f32[0]
            if f32.count(first) == n:
                mini_weights = None if first == 1.0 else first
            else:
                mini_weights = tuple(f32)
        if block_values is None or fixed == 0:
            mini_values = None
        else:
            kept = [v for v in block_values if v]
            mini_values = tuple(kept) if fixed is None or fixed < 0 else b"".join(kept)
        if doclen is None:
            minlength, maxlength = None, 0
        else:
            found = [doclen[d] for d in block_ids]
            if 0 in found:
                found = [x for x in found if x]
            minlength = min(found) if found else None
            maxlength = max(found) if found else 0
        mini_ids = (block_ids[0], *[b - a for a, b in zip(block_ids, block_ids[1:])])
        data = dumps((mini_ids, mini_weights, mini_values), 2)
        comp = level if level and len(data) >= COMPRESS_FROM else 0
        if comp:
            data = zlib.compress(data, comp)
        head = dumps((n, block_ids[-1], top, comp, length_to_byte(minlength), length_to_byte(maxlength)), 2)
        size = len(head) + len(data)
        out += pack_int(-size if at + limit >= total else size)
        out += head
        out += data
        t_weight += wsum
        if minlength is not None:
            t_minlength = minlength if t_minlength is None else min(t_minlength, minlength)
        t_maxlength = max(t_maxlength, maxlength)
        t_maxweight = max(t_maxweight, top)
    return bytes(out), (t_weight, total, 0 if t_minlength is None else length_to_byte(t_minlength),
                        length_to_byte(t_maxlength), t_maxweight, ids[0], ids[-1])


def _consume(iterator) -> None:
    """Run an iterator of calls to the end, in C."""
    deque(iterator, maxlen=0)


def _md5_low32(key: bytes) -> int:
    """whoosh.filedb.filetables.md5_hash without the hex round trip: the digest's last four bytes."""
    return int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest()[-4:], "big")


def _mode(field) -> int | None:
    """How `_Postings` indexes a field: a fast path that gives what `field.index` gives, or the general one."""
    if not field.indexed:
        return None
    fmt, analyzer = field.format, getattr(field, "analyzer", None)
    if fmt.field_boost != 1.0:
        return _GENERAL
    if type(fmt) is formats.Existence and analyzer == IDTokenizer():
        return _ID
    if analyzer == _SPACE and type(fmt) is formats.Frequency:
        return _COUNTED
    if analyzer == _SPACE and type(fmt) is formats.Positions:
        return _POSITIONS
    return _GENERAL


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

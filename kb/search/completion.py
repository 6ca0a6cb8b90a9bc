"""Typeahead from an in-memory prefix table, not from the index.

Each indicator name is reachable by the prefix of its characters, of its full
pinyin (menzhen → 门诊…) and of its pinyin initials (mzhz → 门诊患者…), by
its characters and their pinyin from the start of any word in it (满意 and
manyidu → 门诊患者满意度), and each indicator by its code (GX-XM-00 →
GX-XM-001…). The keys are
computed with pypinyin when the index is built and saved beside it, sorted,
in one binary file (COMPLETION_FILE) that a reader memory-maps and answers from
with a binary search. Loaded as Python lists, the table of 100k indicators took
120 MB of every worker (823k keys); mapped, the workers share one copy in the
page cache, and a worker holds only the pages it has read.
"""
from __future__ import annotations

import json
import mmap
import re
import sys
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

from kb.search.model import Completion
from kb.text import Analyzer, CachedTokens, normalize

COMPLETION_FILE = "zb-completion.bin"
MAGIC = b"ZBCOMPL\n"
WHOLE, PINYIN, INITIALS, INNER, INNER_PINYIN, CODE = range(6)
KEY_TYPES = 8  # a ref is entry number × KEY_TYPES + key type
_HAN_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([a-z0-9]+)")
_SCAN = 400  # keys looked at per prefix, at most


@dataclass(frozen=True)
class NameEntry:
    name: str
    code: str
    kind: str


def key_text(text: str) -> str:
    """Letters, digits and Chinese characters only, normalised."""
    return "".join(a or b for a, b in _HAN_RUN.findall(normalize(text)))


class _Pinyin:
    """pypinyin's `lazy_pinyin`, remembering each word's syllables.

    `lazy_pinyin(run)` cuts the run into words (mmseg over pypinyin's phrase
    list) and converts each word on its own, so a word's syllables never
    depend on its neighbours: cut with the same function and convert each
    distinct word once, the answer is the same. Building the completion
    table of 50,000 names converts a few thousand distinct words instead of
    half a million (38 s of a publish)."""

    def __init__(self):
        from pypinyin import Style  # heavy: imported only when needed
        from pypinyin.converter import UltimateConverter
        from pypinyin.core import Pinyin

        # what lazy_pinyin(text) builds on every call, with its defaults
        self._pinyin = Pinyin(UltimateConverter(v_to_u=False, neutral_tone_with_five=False, tone_sandhi=False))
        self._style = Style.NORMAL
        self._words: dict[str, list[str]] = {}

    def __call__(self, run: str) -> list[str]:
        out: list[str] = []
        for word in self._pinyin.seg(run):
            syllables = self._words.get(word)
            if syllables is None:
                syllables = [s for choices in self._pinyin.pinyin([word], style=self._style, heteronym=False,
                                                                  errors="default", strict=True) for s in choices]
                self._words[word] = syllables
            out.extend(syllables)
        return out


_pinyin: _Pinyin | None = None


def lazy_pinyin(run: str) -> list[str]:
    global _pinyin
    if _pinyin is None:
        _pinyin = _Pinyin()
    return _pinyin(run)


def pinyin_keys(name: str, cache: dict | None = None) -> tuple[str, str]:
    """(full pinyin, initials) of a name: 门诊患者 → (menzhenhuanzhe, mzhz)."""
    full, initials = [], []
    for han, other in _HAN_RUN.findall(normalize(name)):
        if han:
            syllables = cache.get(han) if cache is not None else None
            if syllables is None:
                syllables = lazy_pinyin(han)
                if cache is not None:
                    cache[han] = syllables
            full.extend(syllables)
            initials.extend(s[:1] for s in syllables)
        else:
            full.append(other)
            initials.append(other)
    return "".join(full), "".join(initials)


def build_keys(entries: list[NameEntry], analyzer: Analyzer | CachedTokens, cache: dict | None = None,
               codes: list[NameEntry] = ()) -> list[tuple[str, int]]:
    """(key, entry number × KEY_TYPES + key type), sorted. `entries` are reached by name; `codes` (numbered
    after them) only by code: indicators whose name an entry already has keep their own code."""
    keys: list[tuple[str, int]] = []
    cache = {} if cache is None else cache
    inner_pinyin: dict[str, str] = {}  # the same inner parts recur across names (50,000 names: 167,000, 34,000 distinct)
    for i, entry in enumerate(entries):
        ref = i * KEY_TYPES
        code = key_text(entry.code)
        if code:
            keys.append((code, ref + CODE))
        whole = key_text(entry.name)
        if not whole:
            continue
        full, initials = pinyin_keys(entry.name, cache)
        keys.append((whole, ref + WHOLE))
        if full and full != whole:
            keys.append((full, ref + PINYIN))
        if initials and initials not in (whole, full):
            keys.append((initials, ref + INITIALS))
        starts = {whole.find(token) for token in analyzer.tokens(entry.name)}
        for at in sorted(starts):
            if 0 < at and len(whole) - at >= 2:
                keys.append((whole[at:], ref + INNER))
                # "manyidu" should reach 服务对象满意度 as "满意" does, not only the name that starts with it
                inner_full = inner_pinyin.get(whole[at:])
                if inner_full is None:
                    inner_full = inner_pinyin[whole[at:]] = pinyin_keys(whole[at:], cache)[0]
                if inner_full and inner_full != whole[at:]:
                    keys.append((inner_full, ref + INNER_PINYIN))
    for i, entry in enumerate(codes, start=len(entries)):
        code = key_text(entry.code)
        if code:
            keys.append((code, i * KEY_TYPES + CODE))
    keys.sort()
    return keys


def char_readings(cache: dict) -> dict[str, str]:
    """The reading of each character as it occurred in the library's names:
    enough to spell a query in pinyin without loading pypinyin (~55 MB) in
    every worker."""
    readings: dict[str, str] = {}
    for run, syllables in cache.items():
        if len(syllables) == len(run):
            for ch, syl in zip(run, syllables):
                readings.setdefault(ch, syl)
    return readings


# The file: MAGIC, the head's length (8 bytes, little-endian), the head (JSON: the readings, the counts and where
# each part is), then the parts, each at a multiple of 8 from the end of the head. A column of strings is its UTF-8
# bytes one after the other ("keys", "names", "codes", "kinds") and where each starts and ends ("…_at": count + 1
# native 4-byte integers). UTF-8 sorts as the characters do, so the sorted keys stay sorted as bytes.
PARTS = ("keys", "keys_at", "refs", "names", "names_at", "codes", "codes_at", "kinds", "kinds_at")


def _align(n: int) -> int:
    return (n + 7) // 8 * 8


def _column(texts) -> tuple[bytes, bytes]:
    data, ends = bytearray(), array("I", [0])
    for text in texts:
        data += text.encode()
        ends.append(len(data))
    return bytes(data), ends.tobytes()


def write(path: Path, entries: list[NameEntry], analyzer: Analyzer | CachedTokens, codes: list[NameEntry] = ()) -> None:
    cache: dict = {}
    keys = build_keys(entries, analyzer, cache, codes)
    everything = [*entries, *codes]
    parts: dict[str, bytes] = {}
    parts["keys"], parts["keys_at"] = _column(k for k, _ in keys)
    parts["refs"] = array("I", (r for _, r in keys)).tobytes()
    for column in ("names", "codes", "kinds"):
        parts[column], parts[f"{column}_at"] = _column(getattr(e, column[:-1]) for e in everything)
    places, at = {}, 0
    for name in PARTS:
        places[name] = [at, at + len(parts[name])]
        at = _align(at + len(parts[name]))
    head = json.dumps({"byteorder": sys.byteorder, "keys": len(keys), "parts": places,
                       "readings": char_readings(cache)}, ensure_ascii=False).encode()
    with open(path / COMPLETION_FILE, "wb") as fh:
        fh.write(MAGIC + len(head).to_bytes(8, "little") + head)
        fh.write(b"\0" * (_align(16 + len(head)) - 16 - len(head)))
        for name in PARTS:
            fh.write(parts[name] + b"\0" * (_align(len(parts[name])) - len(parts[name])))


class _Column:
    """One column of strings in the mapped file: item j as bytes (`raw`) or as text."""

    def __init__(self, data: mmap.mmap, start: int, ends: memoryview):
        self._data, self._start, self._ends = data, start, ends

    def __len__(self) -> int:
        return len(self._ends) - 1

    def parts(self) -> tuple[mmap.mmap, int, memoryview]:
        """The file, where the column starts in it and each item's end: item j is data[at + ends[j]:at + ends[j + 1]]."""
        return self._data, self._start, self._ends

    def raw(self, j: int) -> bytes:
        start = self._start
        return self._data[start + self._ends[j]:start + self._ends[j + 1]]

    def __getitem__(self, j: int) -> str:
        start = self._start
        return self._data[start + self._ends[j]:start + self._ends[j + 1]].decode()


class _Raw:
    """A column's items as bytes, for bisect."""

    def __init__(self, column: _Column):
        self._column = column

    def __len__(self) -> int:
        return len(self._column)

    def __getitem__(self, j: int) -> bytes:
        return self._column.raw(j)


class CompletionTable:
    def __init__(self, path: Path):
        with open(path / COMPLETION_FILE, "rb") as fh:
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        if data[:8] != MAGIC:
            raise ValueError(f"{path / COMPLETION_FILE}: not a completion table")
        size = int.from_bytes(data[8:16], "little")
        head = json.loads(data[16:16 + size])
        if head["byteorder"] != sys.byteorder:
            raise ValueError(f"{path / COMPLETION_FILE}: written on a machine of another byte order")
        base, view = _align(16 + size), memoryview(data)

        def ints(name: str) -> memoryview:
            start, end = head["parts"][name]
            return view[base + start:base + end].cast("I")

        def column(name: str) -> _Column:
            return _Column(data, base + head["parts"][name][0], ints(f"{name}_at"))

        self._keys = column("keys")
        self._refs = ints("refs")
        self._names, self._codes, self._kinds = column("names"), column("codes"), column("kinds")
        self._readings: dict[str, str] = head["readings"]

    def complete(self, prefix: str, limit: int = 10) -> list[Completion]:
        prefix = key_text(prefix)
        if not prefix or limit <= 0:
            return []
        wanted = prefix.encode()
        keys = _Raw(self._keys)
        start = bisect_left(keys, wanted)
        # UTF-8 has no byte 0xff: the keys that start with the prefix are those below prefix + 0xff
        end = min(bisect_left(keys, wanted + b"\xff", start), start + _SCAN)
        names, codes = self._names, self._codes
        data, at, ends = names.parts()  # read inline: a call per key doubled the cost of a completion
        best: dict[int, tuple] = {}
        for ref in self._refs[start:end].tolist():
            entry_no, kind = divmod(ref, KEY_TYPES)
            if kind == CODE:  # codes in code order, then names from their start, then from a word inside; shorter names first
                rank = (0, codes[entry_no])
            else:
                name = data[at + ends[entry_no]:at + ends[entry_no + 1]].decode()
                rank = (1 + (kind in (INNER, INNER_PINYIN)), len(name), name)
            if entry_no not in best or rank < best[entry_no]:
                best[entry_no] = rank
        ordered = sorted(best, key=best.__getitem__)[:limit]
        return [Completion(names[n], codes[n], self._kinds[n]) for n in ordered]

    def spell(self, text: str) -> str:
        """`text` in pinyin, by the readings the library's names use, as far
        as the first character that no name contains (资金到为率 → zijindao)."""
        out = []
        for ch in key_text(text):
            if ch.isascii():
                out.append(ch)
            elif ch in self._readings:
                out.append(self._readings[ch])
            else:
                break
        return "".join(out) if len(out) >= 2 else ""

    def names_by_pinyin(self, text: str, limit: int = 5) -> list[str]:
        """Names whose pinyin starts like the pinyin of `text` (did you mean)."""
        full = self.spell(text)
        return [c.text for c in self.complete(full, limit)] if full else []

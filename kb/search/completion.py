"""Typeahead from an in-memory prefix table, not from the index.

Each indicator name is reachable by the prefix of its characters, of its full
pinyin (menzhen → 门诊…) and of its pinyin initials (mzhz → 门诊患者…), by
its characters and their pinyin from the start of any word in it (满意 and
manyidu → 门诊患者满意度), and each indicator by its code (GX-XM-00 →
GX-XM-001…). The keys are
computed with pypinyin when the index is built and saved beside it; a reader
loads one sorted list and answers with a binary search.
"""
from __future__ import annotations

import json
import re
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

from kb.search.model import Completion
from kb.text import Analyzer, CachedTokens, normalize

COMPLETION_FILE = "zb-completion.json"
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


def write(path: Path, entries: list[NameEntry], analyzer: Analyzer | CachedTokens, codes: list[NameEntry] = ()) -> None:
    cache: dict = {}
    keys = build_keys(entries, analyzer, cache, codes)
    doc = {"names": [[e.name, e.code, e.kind] for e in [*entries, *codes]], "keys": [k for k, _ in keys],
           "refs": [r for _, r in keys],
           "readings": char_readings(cache)}
    (path / COMPLETION_FILE).write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


class CompletionTable:
    def __init__(self, path: Path):
        doc = json.loads((path / COMPLETION_FILE).read_text(encoding="utf-8"))
        self._names = [NameEntry(*row) for row in doc["names"]]
        self._keys: list[str] = doc["keys"]
        self._refs = array("l", doc["refs"])
        self._readings: dict[str, str] = doc.get("readings", {})

    def complete(self, prefix: str, limit: int = 10) -> list[Completion]:
        prefix = key_text(prefix)
        if not prefix or limit <= 0:
            return []
        keys, refs = self._keys, self._refs
        i = bisect_left(keys, prefix)
        best: dict[int, tuple] = {}
        for j in range(i, min(i + _SCAN, len(keys))):
            if not keys[j].startswith(prefix):
                break
            entry_no, kind = divmod(refs[j], KEY_TYPES)
            entry = self._names[entry_no]
            # codes in code order, then names from their start, then from a word inside; shorter names first
            rank = (0, entry.code) if kind == CODE else (1 + (kind in (INNER, INNER_PINYIN)), len(entry.name), entry.name)
            if entry_no not in best or rank < best[entry_no]:
                best[entry_no] = rank
        ordered = sorted(best, key=best.__getitem__)[:limit]
        return [Completion(self._names[n].name, self._names[n].code, self._names[n].kind) for n in ordered]

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

"""Place names in a project's text (乌海市, 湖北省, 宁晋县, 内蒙古自治区 …): they say where a
project is, not what it does, and their pieces make junk search terms (海市 from 乌海市).

The gazetteer is jieba's own dictionary (a dependency already): the words it tags as place
names (ns) that end in an administrative suffix, three characters or more ("海市" alone is
also tagged ns, but two characters are too often part of other words to strip).
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

SUFFIXES = "省市县区旗镇乡州盟"
MIN_CHARS = 3
MAX_CHARS = 10  # 新疆维吾尔自治区, 上海市浦东新区
_SUFFIX_RE = re.compile(f"[{SUFFIXES}]")


# jieba tags some counties as person names (宁晋县 nr): a county suffix with such a tag is a place too
_ENTRY = re.compile(rf"^(\S{{{MIN_CHARS - 1},{MAX_CHARS - 1}}}[{SUFFIXES}]) \d+ ns$|^(\S{{2,4}}县) \d+ nr\w*$", re.M)


@lru_cache(maxsize=1)
def gazetteer() -> frozenset[str]:
    """Administrative place names from jieba's dictionary (read once per process, ~4k names)."""
    text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    return frozenset(a or b for a, b in _ENTRY.findall(text))


# counties made districts or cities since jieba's dictionary was written (梁平县 → 梁平区, 2016): the same stem
# with another of these suffixes is the same place
_RENAMED = "县区市"


def _renamed(word: str, names: frozenset[str]) -> bool:
    return word[-1] in _RENAMED and any(word[:-1] + s in names for s in _RENAMED if s != word[-1])


def strip_places(text: str, extra: frozenset[str] | set[str] = frozenset()) -> str:
    """The text with every place name (the longest one ending at each suffix) replaced by a space,
    so the words on either side are not joined into a new one."""
    if not text or not _SUFFIX_RE.search(text):
        return text
    names = gazetteer()
    spans = []
    for m in _SUFFIX_RE.finditer(text):
        end = m.end()
        for start in range(max(0, end - MAX_CHARS), end - MIN_CHARS + 1):
            word = text[start:end]
            if word in names or word in extra or _renamed(word, names):
                spans.append((start, end))
                break
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        if start < at:  # inside the previous name (上海市浦东新区 covers 浦东新区)
            continue
        out += [text[at:start], " "]
        at = end
    out.append(text[at:])
    return "".join(out)

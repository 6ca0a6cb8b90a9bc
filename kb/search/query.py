"""From what a user typed to engine-neutral query plans, and highlighting.

User text is never handed to a query parser: it is normalised, cut into
words, and every word becomes a group of alternatives (the word itself, its
synonyms, the smaller tokens search mode finds inside it). Quotes, brackets,
AND/OR/NOT, field:value and lone symbols are therefore just text.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from kb.search.engine import Alt, Group, QueryPlan
from kb.text import Analyzer, normalize, normalize_with_map

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9.-]{1,39}$")
MAX_QUERY_CHARS = 200
MAX_WORDS = 12
# A word in more than this share of documents is too common to find
# anything by itself: kept in all-words queries, left out of any-word ones.
COMMON_SHARE = 0.2
PARTS_BOOST = 0.6


@dataclass(frozen=True)
class Synonyms:
    """The versioned synonym list: `groups` are searched as one, `related`
    words are only offered as suggestions."""
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    related: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict | None) -> "Synonyms":
        data = data or {}
        return cls(_index(data.get("groups")), _index(data.get("related")))

    def of(self, word: str) -> tuple[str, ...]:
        return tuple(w for w in self.groups.get(word, ()) if w != word)

    def related_to(self, word: str) -> tuple[str, ...]:
        return tuple(w for w in self.related.get(word, ()) if w != word)


def _index(groups) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for group in groups or []:
        if not isinstance(group, (list, tuple)):
            continue
        words = [w for w in (_plain(str(g)) for g in group) if w]
        for w in words:
            bucket = out.setdefault(w, [])
            bucket.extend(x for x in words if x not in bucket)
    return {k: tuple(v) for k, v in out.items()}


def _plain(text: str) -> str:
    """A synonym as the index sees it: normalised, punctuation dropped."""
    return "".join(ch for ch in normalize(text) if ch.isalnum())


def clean_query(text: str | None) -> str:
    """The query as it is logged and cached: normalised, one space between words."""
    text = (text or "")[:MAX_QUERY_CHARS]
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(normalize(text).split())


def as_code(text: str | None) -> str | None:
    candidate = unicodedata.normalize("NFKC", (text or "").strip()).upper()
    return candidate if CODE_RE.match(candidate) else None


@dataclass
class Planned:
    words: list[str]
    all_words: QueryPlan | None  # None when some word cannot match at all
    any_word: QueryPlan | None
    marks: list[str]  # strings to highlight, longest first
    related: list[str]


def plan(query: str, analyzer: Analyzer, synonyms: Synonyms, doc_freq: Callable[[str], int], doc_count: int) -> Planned:
    words = list(dict.fromkeys(analyzer.words(query, normalized=True)))[:MAX_WORDS]
    common = max(COMMON_SHARE * doc_count, 20)
    groups: list[Group] = []
    every_token: list[str] = []
    any_candidates: list[str] = []
    dead = False
    for word in words:
        alts: list[Alt] = []
        tokens: list[str] = []
        for variant, boost in [(word, 1.0)] + [(syn, 1.0) for syn in synonyms.of(word)]:
            tokens.append(variant)
            if doc_freq(variant) > 0:
                alts.append(Alt(((variant,),), boost))
            parts = [p for p in dict.fromkeys(analyzer.parts(variant)) if p != variant]
            if parts:
                # the word may be indexed only as its parts (another
                # dictionary, a compound the library never uses whole)
                slots = tuple(_with_synonyms(p, synonyms) for p in parts)
                if all(any(doc_freq(t) > 0 for t in slot) for slot in slots):
                    alts.append(Alt(slots, boost * PARTS_BOOST))
                tokens += [t for slot in slots for t in slot]
        if not alts:
            dead = True
        groups.append(Group(tuple(dict.fromkeys(alts))))
        every_token += tokens
        # an ultra-common word (指标, 数量 …) leaves the any-word query with its synonyms
        if doc_freq(word) <= common:
            any_candidates += tokens
    live = [t for t in dict.fromkeys(every_token) if doc_freq(t) > 0]
    # Single characters (率, 数 …) and ultra-common words (指标, 数量 …) would
    # find most of the library, slowly: the any-word query leaves them out,
    # and is not made at all when nothing else is left.
    any_tokens = [t for t in dict.fromkeys(any_candidates)
                  if (len(t) > 1 or not _is_han(t)) and 0 < doc_freq(t) <= common]
    related = [r for w in words for r in synonyms.related_to(w)]
    return Planned(
        words=words,
        all_words=QueryPlan("all", groups=tuple(groups)) if groups and not dead else None,
        any_word=QueryPlan("any", tokens=tuple(any_tokens)) if any_tokens else None,
        marks=sorted(set(live) | {w for w in words if doc_freq(w) > 0}, key=len, reverse=True),
        related=list(dict.fromkeys(related)),
    )


def _with_synonyms(token: str, synonyms: Synonyms) -> tuple[str, ...]:
    return (token,) + synonyms.of(token)


def _is_han(token: str) -> bool:
    return all("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in token)


# --- highlighting ------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _marks_re(marks: tuple[str, ...]) -> re.Pattern | None:
    """One pattern for all marks, longest first (满意度 wins over 满意)."""
    marks = tuple(m for m in marks if m)
    if not marks:
        return None
    return re.compile("|".join(re.escape(m) for m in sorted(marks, key=len, reverse=True)))


def highlight(text: str, marks: list[str] | tuple[str, ...], window: int | None = None) -> str:
    """`text` HTML-escaped with matches of `marks` (normalised strings) in
    <mark>. With `window`, only about that many characters around the first
    match ('' when nothing matches)."""
    if not text:
        return ""
    pattern = _marks_re(tuple(marks))
    spans: list[tuple[int, int]] = []
    if pattern is not None:
        norm, where = normalize_with_map(text)
        spans = [(where[m.start()], where[m.end() - 1] + 1) for m in pattern.finditer(norm)]
    lo, hi = 0, len(text)
    if window is not None:
        if not spans:
            return ""
        lo = max(0, spans[0][0] - window // 3)
        hi = min(len(text), lo + window)
    out, pos = [], lo
    for a, b in spans:
        if b <= lo or a >= hi or a < pos:
            continue
        out.append(html.escape(text[pos:a]))
        out.append(f"<mark>{html.escape(text[a:min(b, hi)])}</mark>")
        pos = min(b, hi)
    out.append(html.escape(text[pos:hi]))
    return ("…" if lo > 0 else "") + "".join(out) + ("…" if hi < len(text) else "")


_ESCAPED = re.compile("[&<>\"']")  # what html.escape changes


def trusted_fragment(fragment: str, source: str) -> str:
    """A highlight or snippet made by `highlight`, checked before anyone inserts it as HTML: trusted only when,
    without its <mark> tags, it is exactly the escaped `source` (or, for a snippet, a piece of it). Anything
    else (a stored index from elsewhere, a bug) is replaced by `source` escaped, shown as text."""
    if not fragment:
        return ""
    plain = fragment.replace("<mark>", "").replace("</mark>", "")
    piece = plain.strip("…")
    # the usual case, on every hit served: no character escaping changes, so a piece of the source is a piece
    # of the escaped source and the source need not be escaped to tell
    if piece and piece in (source or "") and not _ESCAPED.search(piece):
        return fragment
    escaped = html.escape(source or "")
    if plain == escaped or (plain.strip("…") and plain.strip("…") in escaped):
        return fragment
    return html.escape(source or plain)

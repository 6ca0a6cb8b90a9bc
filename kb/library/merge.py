"""Three-way merge of a record edited by two people at once: what the form was
rendered with (base), what this curator submitted (mine) and what another saved
meanwhile (theirs). A field only they changed takes theirs, a field only I
changed keeps mine, and a field both changed differently is a conflict for the
curator to decide: nothing is lost silently."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Merge:
    merged: dict[str, str]
    taken: list[str] = field(default_factory=list)  # theirs, taken because only they changed it
    conflicts: list[str] = field(default_factory=list)  # both changed it, differently


def _norm(value) -> str:
    return "" if value is None else str(value).strip()


def three_way(base: dict, mine: dict, theirs: dict) -> Merge:
    merged = dict(mine)
    result = Merge(merged)
    for key in sorted(set(base) | set(mine) | set(theirs)):
        b, m, t = _norm(base.get(key)), _norm(mine.get(key)), _norm(theirs.get(key))
        if t == b or m == t:
            continue  # they did not change it, or we agree
        if m == b:
            merged[key] = theirs.get(key, "")
            result.taken.append(key)
        else:
            result.conflicts.append(key)
    return result

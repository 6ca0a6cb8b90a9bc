"""kb.library.versions.VersionCache: a server resolves "current" from memory, and notices a version published
elsewhere within MAX_AGE (what lets a node serve another node's publish within 5 s without three queries per
read), and one published in its own process at once."""
from __future__ import annotations

import pytest
from sqlalchemy import event, update
from sqlmodel import Session

from kb.library import draft as kblib
from kb.library import versions
from kb.errors import UnknownVersion
from kb.models import LibraryState


class Queries:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args):
        self.count += 1


def _set_current_elsewhere(session: Session, label: str) -> None:
    """What another node's publish looks like from here: the pointer moves, this process is not told."""
    version_id = versions.resolve(session, label).id
    session.execute(update(LibraryState).where(LibraryState.id == 1).values(current_version_id=version_id))
    session.commit()


def test_current_is_answered_from_memory_until_max_age(library, engine, monkeypatch):
    kblib.update_record(library, "indicator", "T-001", {"name": "财政资金到位率"}, 1)
    versions.publish(library, "2024.2")
    clock = [1000.0]
    monkeypatch.setattr(versions.time, "monotonic", lambda: clock[0])
    cache = versions.VersionCache(max_age=1.0)
    queries = Queries(engine)
    first = cache.resolve(library, None)
    assert first.label == "2024.2" and first.content_hash and queries.count > 0
    asked = queries.count
    assert cache.resolve(library, None) is first and cache.resolve(library, "current") is first
    assert queries.count == asked  # no query while the answer is young
    _set_current_elsewhere(library, "2024.1")
    clock[0] += 0.5
    assert cache.resolve(library, None).label == "2024.2"  # not yet noticed: at most MAX_AGE late
    clock[0] += 0.6
    assert cache.resolve(library, None).label == "2024.1"


def test_a_publish_in_this_process_is_seen_at_once(library):
    cache = versions.VersionCache(max_age=3600)
    assert cache.resolve(library, None).label == "2024.1"
    kblib.update_record(library, "indicator", "T-001", {"name": "财政资金到位率"}, 1)
    versions.publish(library, "2024.2")
    assert cache.resolve(library, None).label == "2024.2"
    assert cache.resolve(library, "2024.1").is_current is False


def test_the_draft_and_unknown_labels_are_never_remembered(library, engine):
    cache = versions.VersionCache(max_age=3600)
    assert cache.resolve(library, "draft").is_draft
    for _ in range(2):
        with pytest.raises(UnknownVersion):
            cache.resolve(library, "2099.1")
    queries = Queries(engine)
    with pytest.raises(UnknownVersion):
        cache.resolve(library, "2099.1")
    assert queries.count > 0  # asked the database again

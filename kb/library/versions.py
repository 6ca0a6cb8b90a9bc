"""Published versions: publishing, reading a version, diffs and history.

A published version is the set of `VersionItem` rows pointing at `Revision`
rows; a revision is one distinct content of one code, so an unchanged record
shares its revision with the previous version and history falls out of the
revision numbers.
"""
from __future__ import annotations

import gc
import re
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterator

from sqlalchemy import func, select, update
from sqlmodel import Session

from kb.library import gates
from kb.errors import AlreadyExists, Conflict, InvalidInput, PublishRefused, UnknownCode, UnknownVersion
from kb.library.draft import (
    DRAFT_MODELS,
    KIND_NAMES,
    KINDS,
    RECORD_MODELS,
    content_hash,
    draft_record,
    draft_records,
    field_changes,
    log_change,
    record_data,
    record_hash,
)
from kb.models import LibraryState, Revision, Version, VersionItem, utcnow

DRAFT = "draft"
CURRENT = "current"
LABEL_RE = re.compile(r"^\d{4}\.\d{1,4}(?:\.\d{1,4})?$")
INSERT_CHUNK = 5000  # rows per executemany while publishing
_FROZEN = "kb.library.versions.frozen"  # session.info: (version id, records by kind) of the version being published


@dataclass(frozen=True)
class VersionRef:
    """A readable state of the library: a published version or the draft."""
    label: str
    id: int | None  # None for the draft
    published_at: datetime | None = None
    notes: str = ""
    is_current: bool = False
    counts: dict = field(default_factory=dict)
    content_hash: str = ""  # of a published version, which never changes: what its search index is keyed by

    @property
    def is_draft(self) -> bool:
        return self.id is None


def _state(session: Session) -> LibraryState:
    state = session.get(LibraryState, 1)
    if state is None:
        state = LibraryState(id=1)
        session.add(state)
        session.flush()
    return state


def _ref(version: Version, current_id: int | None) -> VersionRef:
    return VersionRef(version.label, version.id, version.published_at, version.notes, version.id == current_id,
                      version.counts, version.content_hash or "")


def current_version_id(session: Session) -> int | None:
    return session.execute(select(LibraryState.current_version_id).where(LibraryState.id == 1)).scalar()


def resolve(session: Session, label: str | None = None) -> VersionRef:
    """`None`/"current" → the current published version; "draft" → the draft; else a label."""
    current_id = current_version_id(session)
    if label in (None, "", CURRENT):
        if current_id is None:
            raise UnknownVersion(CURRENT)
        return _ref(session.get(Version, current_id), current_id)
    if label == DRAFT:
        return VersionRef(DRAFT, None)
    version = session.execute(select(Version).where(Version.label == label)).scalar()
    if version is None:
        raise UnknownVersion(label)
    return _ref(version, current_id)


# --- resolving without a query per read ---------------------------------------------------
# A server resolves "current" on every read; three indexed queries per search cost more than the search. A
# VersionCache answers from memory for MAX_AGE seconds: a version published in another process (another
# worker, another node) is noticed within that, one published in this one at once (`forget_resolved`).

MAX_AGE = 1.0
_generation = 0  # bumped whenever this process changes what "current" or a label means
_generation_lock = threading.Lock()


def forget_resolved() -> None:
    """Make every VersionCache of this process resolve again (after a publish, a restore, `init --force`)."""
    global _generation
    with _generation_lock:
        _generation += 1


class VersionCache:
    """`resolve` remembered per database for `max_age` seconds (the draft is never remembered: it changes with
    every edit, and resolving it costs no query). Safe to share between threads: two threads that miss at once
    both query, and the last answer stays."""

    def __init__(self, max_age: float = MAX_AGE):
        self.max_age = max_age
        # engine → {label: (ref, when, generation)}; entries go with their engine (tests make many)
        self._entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def resolve(self, session: Session, label: str | None = None) -> VersionRef:
        if label == DRAFT:
            return VersionRef(DRAFT, None)
        return self._remembered(session, label or CURRENT, lambda: resolve(session, label))

    def list_versions(self, session: Session) -> list[VersionRef]:
        """Every published version, newest first (the pages' version switcher), remembered like `resolve`."""
        return list(self._remembered(session, ("list",), lambda: list_versions(session)))  # no label is a tuple

    def _remembered(self, session: Session, key, read):
        bind = session.get_bind()
        entries = self._entries.get(bind)
        if entries is None:
            entries = self._entries.setdefault(bind, {})
        now = time.monotonic()
        found = entries.get(key)
        if found is not None and found[2] == _generation and now - found[1] < self.max_age:
            return found[0]
        generation = _generation  # read before the query: a publish committed meanwhile makes this entry stale
        value = read()  # an unknown label raises, and is not remembered
        if len(entries) > 256:  # labels come from clients: keep the table small
            entries.clear()
        entries[key] = (value, now, generation)
        return value


def list_versions(session: Session) -> list[VersionRef]:
    current_id = current_version_id(session)
    rows = session.execute(select(Version).order_by(Version.id.desc())).scalars()
    return [_ref(v, current_id) for v in rows]


# --- reading a version --------------------------------------------------------------

def records(session: Session, kind: str, version: VersionRef) -> list:
    """All records of a kind in a version, as record objects (draft rows for the draft)."""
    if version.is_draft:
        return draft_records(session, kind)
    frozen = session.info.get(_FROZEN)
    if frozen is not None and frozen[0] == version.id:
        return list(frozen[1][kind])
    model = RECORD_MODELS[kind]
    return [model.model_validate(data) for data in stored_data(session, kind, version)]


def stored_data(session: Session, kind: str, version: VersionRef) -> Iterator[dict]:
    """The stored data of every record of a kind in a published version, in code order, as read (not validated)."""
    # streamed: at 100k indicators, holding every parsed row at once next to
    # the records made from them left a worker 300 MB larger for good (891 → 591 MB)
    return session.execute(
        select(Revision.data)
        .join(VersionItem, VersionItem.revision_id == Revision.id)
        .where(VersionItem.version_id == version.id, VersionItem.kind == kind)
        .order_by(VersionItem.code)
        .execution_options(yield_per=2000)
    ).scalars()


def record(session: Session, kind: str, code: str, version: VersionRef):
    if version.is_draft:
        return draft_record(session, kind, code)
    data = session.execute(
        select(Revision.data)
        .join(VersionItem, VersionItem.revision_id == Revision.id)
        .where(VersionItem.version_id == version.id, VersionItem.kind == kind, VersionItem.code == code)
    ).scalar()
    if data is None:
        raise UnknownCode(code, kind, KIND_NAMES[kind])
    return RECORD_MODELS[kind].model_validate(data)


# --- publishing ---------------------------------------------------------------------

def validate_label(session: Session, label: str) -> None:
    if label in (DRAFT, CURRENT) or not LABEL_RE.match(label or ""):
        raise InvalidInput(f"版本号“{label}”格式不对，应形如 2025.1")
    if session.execute(select(Version.id).where(Version.label == label)).scalar() is not None:
        raise AlreadyExists(f"版本“{label}”已发布过，请换一个版本号")


def publish(session: Session, label: str, notes: str = "", user: str = "",
            after_snapshot: Callable[[Session, VersionRef], None] | None = None,
            progress: Callable[[str], None] | None = None) -> VersionRef:
    """Freeze the draft as version `label` and make it current, all or nothing.

    The draft is read once: the gates check exactly what is frozen.
    `after_snapshot` runs inside the transaction once the snapshot is written
    (the search index is built there, reading the new version's records from
    memory rather than back from the database); if it raises, nothing is
    published. `progress(text)` is told each step before the write starts
    (afterwards SQLite holds its write lock, and a job's progress row could
    not be written).
    """
    with collector_paused():
        return _publish(session, label, notes, user, after_snapshot, progress)


_collector_lock = threading.Lock()
_collector_pausers = 0
_collector_was_on = True


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector off while a publish allocates. A
    publish holds every record of the draft, its data and then the index's
    postings, all live until it ends; the collector walked them again and
    again as they grew (a 50,000-indicator publish: 13 full collections,
    3 s of CPU) and found nothing to free. Reference counting still frees
    everything else. The switch is one for the whole process: publishes
    running at once share the pause, and the last one to end restores it."""
    global _collector_pausers, _collector_was_on
    with _collector_lock:
        if _collector_pausers == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _collector_pausers += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pausers -= 1
            if _collector_pausers == 0 and _collector_was_on:
                gc.enable()


def _publish(session: Session, label: str, notes: str, user: str,
             after_snapshot: Callable[[Session, VersionRef], None] | None,
             progress: Callable[[str], None] | None) -> VersionRef:
    validate_label(session, label)
    step = progress or (lambda text: None)
    step("读取草稿")
    draft = read_draft(session)
    step("检查草稿")
    problems = gates.check_records({kind: [r for r, _ in rows] for kind, rows in draft.items()})
    if problems:
        raise PublishRefused(f"草稿未通过发布检查（{len(problems)} 项问题），未发布", problems)
    step("写入版本并建立检索索引")
    expected = state_revision(session)
    session.commit()  # end the read: the claim below must be the transaction's first statement
    try:
        _claim(session, expected)
        members, counts, version_hash = _freeze_revisions(session, draft)
        version = Version(label=label, notes=notes or "", published_by=user or "", counts=counts, content_hash=version_hash)
        session.add(version)
        session.flush()
        items = VersionItem.__table__.insert()
        for start in range(0, len(members), INSERT_CHUNK):
            session.execute(items, [{"version_id": version.id, **m} for m in members[start:start + INSERT_CHUNK]])
        session.execute(
            update(LibraryState).where(LibraryState.id == 1).values(current_version_id=version.id)
            .execution_options(synchronize_session=False)
        )
        ref = VersionRef(label, version.id, version.published_at, version.notes, True, counts, version_hash)
        log_change(session, "version", label, "publish", {"notes": {"previous": None, "current": notes}}, user)
        if after_snapshot is not None:
            # what the new version holds is in hand: records() serves it from here until the commit
            session.info[_FROZEN] = (version.id, {kind: [r for r, _ in rows] for kind, rows in draft.items()})
            after_snapshot(session, ref)
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.info.pop(_FROZEN, None)
    forget_resolved()
    return ref


def state_revision(session: Session) -> int:
    state = _state(session)
    return state.revision


def _claim(session: Session, expected: int) -> None:
    """Take the publish lock: bump the state's revision if nobody else has.

    The guarded UPDATE waits for a concurrent publisher's transaction (row lock
    in PostgreSQL, the write lock in SQLite) and then finds the revision moved,
    so of two publishes started at once exactly one goes through.
    """
    moved = session.execute(
        update(LibraryState)
        .where(LibraryState.id == 1, LibraryState.revision == expected)
        .values(revision=expected + 1)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise Conflict("另一位管理员刚刚发布了版本，请查看最新版本后再发布")


def read_draft(session: Session) -> dict[str, list[tuple[object, dict]]]:
    """Every draft record as (record object, JSON-ready data), by kind, in code order: what
    `record_data` makes of each draft row, read as plain rows (no ORM objects to track)."""
    out = {}
    for kind in KINDS:
        table = DRAFT_MODELS[kind].__table__
        model = RECORD_MODELS[kind]
        # only the record's own columns: the row's revision and time of change are not part of it (and parsing
        # 50,000 timestamps was a tenth of the read)
        columns = [column for column in table.c if column.name in model.model_fields]
        rows = session.execute(select(*columns).order_by(table.c.code)).mappings()
        out[kind] = [(rec, record_data(kind, rec)) for rec in (model.model_validate(dict(row)) for row in rows)]
    return out


def _freeze_revisions(session: Session, draft: dict[str, list[tuple[object, dict]]]) -> tuple[list[dict], dict, str]:
    """Write a revision for every draft record whose content is new (in bulk: one
    INSERT … RETURNING per thousand rows, not an ORM object each); return the
    version's members, counts per kind and a hash of the whole content."""
    members: list[dict] = []
    counts: dict[str, int] = {}
    hashes: dict[str, str] = {}
    created = utcnow()
    table = Revision.__table__
    insert_new = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    for kind in KINDS:
        latest = _latest_revisions(session, kind)
        new: list[dict] = []
        new_at: list[int] = []  # where in `members` each new revision goes
        for obj, data in draft[kind]:
            digest = record_hash(kind, data)
            prev = latest.get(obj.code)
            if prev is not None and prev[1] == digest:
                members.append({"kind": kind, "code": obj.code, "revision_id": prev[0]})
            else:
                new_at.append(len(members))
                members.append({"kind": kind, "code": obj.code, "revision_id": None})
                new.append({"kind": kind, "code": obj.code, "number": (prev[2] + 1) if prev else 1, "data": data,
                            "content_hash": digest, "created_at": created})
            hashes[f"{kind}:{obj.code}"] = digest
        for start in range(0, len(new), INSERT_CHUNK):
            ids = session.execute(insert_new, new[start:start + INSERT_CHUNK]).scalars().all()
            for at, rid in zip(new_at[start:start + INSERT_CHUNK], ids):
                members[at]["revision_id"] = rid
        counts[kind] = len(draft[kind])
    return members, counts, content_hash(hashes)


def _latest_revisions(session: Session, kind: str) -> dict[str, tuple[int, str, int]]:
    """code → (revision id, hash, number) of the newest revision of each code."""
    newest = (
        select(Revision.code, func.max(Revision.number).label("n"))
        .where(Revision.kind == kind)
        .group_by(Revision.code)
        .subquery()
    )
    rows = session.execute(
        select(Revision.code, Revision.id, Revision.content_hash, Revision.number).join(
            newest, (Revision.code == newest.c.code) & (Revision.number == newest.c.n)
        ).where(Revision.kind == kind)
    )
    return {code: (rid, digest, number) for code, rid, digest, number in rows}


# --- diff and history ---------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    kind: str
    code: str
    name: str
    change: str  # added | removed | changed
    fields: dict  # {field: {"previous", "current"}}


def _items(session: Session, version: VersionRef) -> dict[tuple[str, str], tuple[int, str]]:
    """(kind, code) → (revision id, content hash) of every record in a version."""
    rows = session.execute(
        select(VersionItem.kind, VersionItem.code, Revision.id, Revision.content_hash)
        .join(Revision, Revision.id == VersionItem.revision_id)
        .where(VersionItem.version_id == version.id)
    )
    return {(kind, code): (rid, digest) for kind, code, rid, digest in rows}


def _revision_data(session: Session, ids) -> dict[int, dict]:
    ids = list(ids)
    out: dict[int, dict] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.update(dict(session.execute(select(Revision.id, Revision.data).where(Revision.id.in_(chunk))).all()))
    return out


def diff(session: Session, a: VersionRef, b: VersionRef) -> list[Change]:
    """Field-level differences going from version a to version b (either may be the draft)."""
    side_a = _side(session, a)
    side_b = _side(session, b)
    changes = []
    for key in sorted(set(side_a) | set(side_b)):
        kind, code = key
        before, after = side_a.get(key), side_b.get(key)
        if before is not None and after is not None and before[0] == after[0]:
            continue
        before_data = before[1]() if before else None
        after_data = after[1]() if after else None
        fields = field_changes(before_data, after_data)
        if not fields:
            continue
        name = (after_data or before_data).get("name", "")
        change = "added" if before is None else "removed" if after is None else "changed"
        changes.append(Change(kind, code, name, change, fields if change == "changed" else {}))
    return changes


def _side(session: Session, version: VersionRef) -> dict:
    """(kind, code) → (content hash, loader of the data)."""
    if version.is_draft:
        out = {}
        for kind in KINDS:
            for obj in draft_records(session, kind):
                data = record_data(kind, obj)
                out[(kind, obj.code)] = (record_hash(kind, data), (lambda d=data: d))
        return out
    items = _items(session, version)
    cache: dict[int, dict] = {}

    def loader(rid: int):
        def load():
            # Only records that differ are ever loaded; the first need loads
            # all of this side's revisions in a few queries.
            if not cache:
                cache.update(_revision_data(session, {rid for rid, _ in items.values()}))
            return cache[rid]
        return load

    return {key: (digest, loader(rid)) for key, (rid, digest) in items.items()}


@dataclass(frozen=True)
class HistoryEntry:
    number: int
    versions: list[str]
    data: dict
    changes: dict  # field changes from the previous revision


def history(session: Session, code: str, kind: str = "indicator") -> list[HistoryEntry]:
    revs = session.execute(
        select(Revision).where(Revision.kind == kind, Revision.code == code).order_by(Revision.number)
    ).scalars().all()
    if not revs:
        # Known in the draft but never published: an empty history, not an error.
        draft_record(session, kind, code)
        return []
    labels: dict[int, list[str]] = {}
    for rid, label in session.execute(
        select(VersionItem.revision_id, Version.label)
        .join(Version, Version.id == VersionItem.version_id)
        .where(VersionItem.kind == kind, VersionItem.code == code)
        .order_by(Version.id)
    ):
        labels.setdefault(rid, []).append(label)
    entries, previous = [], None
    for rev in revs:
        entries.append(HistoryEntry(rev.number, labels.get(rev.id, []), rev.data, field_changes(previous, rev.data) if previous else {}))
        previous = rev.data
    return entries


# --- export -------------------------------------------------------------------------

EXPORT_FORMAT = "zhibiao-library"
EXPORT_KEYS = {
    "sector": "sectors",
    "department": "departments",
    "project_type": "project_types",
    "text": "text_lists",
    "indicator": "indicators",
    "system": "systems",
    "quota": "quotas",
    "case": "cases",
}


def export_library(session: Session, version: VersionRef) -> dict:
    """The whole library of one version as one JSON-ready document."""
    doc = {
        "format": EXPORT_FORMAT,
        "format_version": 1,
        "version": version.label,
        "published_at": version.published_at.isoformat() if version.published_at else None,
    }
    for kind in KINDS:
        doc[EXPORT_KEYS[kind]] = [record_data(kind, r) for r in records(session, kind, version)]
    return doc

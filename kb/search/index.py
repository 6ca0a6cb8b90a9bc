"""Index folders: one per published version and one for the draft, per engine.

    DATA_DIR/index/<engine>/<label>-<key>-<stamp>/   an index, never changed once built
    DATA_DIR/index/<engine>/<label>.json             the pointer: which folder is live
    DATA_DIR/index/<engine>/.lock                    held by the one process that writes

`key` hashes the engine's format, the analyzer (code version, stop list,
domain terms) and the version's content hash (for the draft, a cheap
fingerprint of its tables), so an index that no longer fits its version is
noticed and rebuilt by whoever needs it. A build goes to a hidden folder,
is renamed into place, and only then does the pointer change (os.replace):
a reader sees the old index or the new one, never half of one. Readers keep
their opened index; they look up the current version on every search (one
indexed query; none when given a VersionRef, which carries its content hash:
the API's come from kb.library.versions.VersionCache, re-read once a second) and open
the new version's index when it changes.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import threading
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select
from sqlmodel import Session

from kb.library import versions
from kb.errors import UnknownVersion
from kb.models import Department, Indicator, LibraryState, ProjectType, Sector, TextList, Version
from kb.search import completion
from kb.search.documents import LibraryText, code_entries, facet_labels, index_docs, name_entries, read_library, user_words
from kb.search.engine import engine_name, get_engine
from kb.search.model import IndexInfo
from kb.search.reader import LABELS_FILE, META_FILE, SYNONYMS_FILE, USERDICT_FILE, OpenIndex
from kb.text import CachedTokens, analyzer, analyzer_fingerprint

# w2/t2: completion by code and inner pinyin, sector_path facet; w3/t3: the completion table in a binary file
FORMATS = {"whoosh": "w3", "tantivy": "t3"}
STALE_BUILD_SECONDS = 3600
Progress = Callable[[int, int], None]


# --- what an index is of -------------------------------------------------------------

class Target:
    """A version to index: its label, its content hash and how to read it."""

    def __init__(self, label: str, content_hash: str, ref: versions.VersionRef | None = None):
        self.label = label
        self.content_hash = content_hash
        self._ref = ref

    def ref(self, session: Session) -> versions.VersionRef:
        if self._ref is None:
            self._ref = versions.resolve(session, self.label)
        return self._ref


def draft_fingerprint(session: Session) -> str:
    """Changes whenever the draft does (a record added, edited or removed),
    at the cost of one small aggregate query per table."""
    parts = []
    for model in (Indicator, TextList, Sector, Department, ProjectType):
        parts.append(tuple(session.execute(select(func.count(), func.coalesce(func.sum(model.revision), 0))).one()))
    parts.append(str(session.execute(select(func.max(Indicator.updated_at))).scalar()))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def target_of(session: Session, version: str | versions.VersionRef | None) -> Target:
    """Resolve a version cheaply: the current one costs one indexed query."""
    if isinstance(version, versions.VersionRef):
        if version.is_draft:
            return Target(versions.DRAFT, draft_fingerprint(session), version)
        if version.content_hash:  # a published version's content never changes: no query
            return Target(version.label, version.content_hash, version)
        digest = session.execute(select(Version.content_hash).where(Version.id == version.id)).scalar()
        return Target(version.label, digest or "", version)
    if version in (None, "", versions.CURRENT):
        row = session.execute(
            select(Version.label, Version.content_hash)
            .join(LibraryState, LibraryState.current_version_id == Version.id)
            .where(LibraryState.id == 1)
        ).first()
        if row is None:
            raise UnknownVersion(versions.CURRENT)
        return Target(row[0], row[1] or "")
    if version == versions.DRAFT:
        return Target(versions.DRAFT, draft_fingerprint(session), versions.VersionRef(versions.DRAFT, None))
    row = session.execute(select(Version.label, Version.content_hash).where(Version.label == version)).first()
    if row is None:
        raise UnknownVersion(str(version))
    return Target(row[0], row[1] or "")


def index_key(engine: str, content_hash: str) -> str:
    raw = f"{engine}:{FORMATS[engine]}:{analyzer_fingerprint()}:{content_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


# --- folders, pointers, the lock -------------------------------------------------------

def engine_root(index_dir: Path | str, engine: str) -> Path:
    return Path(index_dir) / engine


def read_pointer(root: Path, label: str) -> dict | None:
    try:
        return json.loads((root / f"{label}.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def _write_pointer(root: Path, label: str, data: dict) -> None:
    tmp = root / f".{label}.json.{os.getpid()}.{secrets.token_hex(4)}"
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, root / f"{label}.json")


def _live(root: Path, label: str, key: str) -> Path | None:
    pointer = read_pointer(root, label)
    if pointer and pointer.get("key") == key and (root / pointer["dir"]).is_dir():
        return root / pointer["dir"]
    return None


_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextmanager
def writer_lock(root: Path):
    """One writer per engine folder: across processes (flock) and threads."""
    root.mkdir(parents=True, exist_ok=True)
    with _thread_locks_guard:
        tlock = _thread_locks.setdefault(str(root), threading.Lock())
    with tlock:
        with open(root / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _prune(root: Path, label: str, keep: set[str]) -> None:
    """Remove older indexes of a label. The previous one is kept: a process
    may have just read the old pointer; processes that opened an index keep
    their open files even when its folder goes."""
    for path in root.glob(f"{label}-*"):
        if path.is_dir() and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
    now = time.time()
    for path in root.glob(".build-*"):
        try:
            if now - path.stat().st_mtime > STALE_BUILD_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except FileNotFoundError:
            pass


# --- building --------------------------------------------------------------------------

def build_library_index(index_dir: Path | str, label: str, content_hash: str, library: LibraryText,
                        engine: str | None = None, progress: Progress | None = None) -> IndexInfo:
    """Build an index of `library` for `label` aside and switch to it. Takes
    the writer lock. (Callers with a database use `build_index`.)"""
    name = engine_name(engine)
    root = engine_root(index_dir, name)
    key = index_key(name, content_hash)
    with writer_lock(root):
        return _build_locked(name, root, label, key, content_hash, library, progress)


def _build_locked(name: str, root: Path, label: str, key: str, content_hash: str, library: LibraryText,
                  progress: Progress | None) -> IndexInfo:
    started = time.perf_counter()
    an = analyzer(root.parent.parent)
    an.add_words(user_words(library))
    tokens = CachedTokens(an)  # the documents and the completion table cut each distinct text once
    tmp = root / f".build-{label}-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir(parents=True)
    total = len(library.indicators)
    try:
        count = get_engine(name).build(tmp, index_docs(library, tokens), (lambda n: progress(n, total)) if progress else None)
        meta = {"engine": name, "label": label, "key": key, "content_hash": content_hash, "count": count,
                "analyzer": analyzer_fingerprint(), "built_at": time.time()}
        (tmp / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        (tmp / LABELS_FILE).write_text(json.dumps(facet_labels(library), ensure_ascii=False), encoding="utf-8")
        (tmp / SYNONYMS_FILE).write_text(json.dumps(library.synonyms, ensure_ascii=False), encoding="utf-8")
        (tmp / USERDICT_FILE).write_text("\n".join(user_words(library)), encoding="utf-8")
        completion.write(tmp, name_entries(library), tokens, code_entries(library))
        final = root / f"{label}-{key}-{time.time_ns():x}"
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    previous = read_pointer(root, label)
    _write_pointer(root, label, {"dir": final.name, "key": key, "label": label, "count": count})
    _prune(root, label, {final.name, (previous or {}).get("dir", "")})
    return IndexInfo(name, label, key, str(final), count, True, time.perf_counter() - started)


def ensure_index(session: Session, index_dir: Path | str, version: str | versions.VersionRef | None = None,
                 engine: str | None = None, force: bool = False, progress: Progress | None = None) -> IndexInfo:
    """Make sure the index of `version` (default: current) is there and fits
    its content; build it when it is missing or stale (or `force`)."""
    name = engine_name(engine)
    root = engine_root(index_dir, name)
    target = target_of(session, version)
    key = index_key(name, target.content_hash)
    live = None if force else _live(root, target.label, key)
    if live is None:
        with writer_lock(root):
            # someone else may have built it while we waited for the lock
            live = None if force else _live(root, target.label, key)
            if live is None:
                library = read_library(session, target.ref(session))
                return _build_locked(name, root, target.label, key, target.content_hash, library, progress)
    meta = json.loads((live / META_FILE).read_text(encoding="utf-8"))
    return IndexInfo(name, target.label, key, str(live), meta.get("count", 0), False)


def build_index(session: Session, index_dir: Path | str, version_ref: str | versions.VersionRef | None = None,
                progress: Progress | None = None, engine: str | None = None) -> IndexInfo:
    """Rebuild the index of a version now, whatever is there."""
    return ensure_index(session, index_dir, version_ref, engine=engine, force=True, progress=progress)


def publish_hook(index_dir: Path | str, engine: str | None = None,
                 progress: Progress | None = None) -> Callable[[Session, versions.VersionRef], None]:
    """For `kb.library.versions.publish(after_snapshot=…)`: builds the new version's
    index inside the publish transaction, so a failed build publishes nothing."""
    def after_snapshot(session: Session, ref: versions.VersionRef) -> None:
        ensure_index(session, index_dir, ref, engine=engine, progress=progress)
    return after_snapshot


# --- readers --------------------------------------------------------------------------------

_registry: dict[tuple[str, str, str], OpenIndex] = {}
_registry_locks: dict[tuple[str, str, str], threading.Lock] = {}
_registry_guard = threading.Lock()


def open_index(session: Session, index_dir: Path | str, version: str | versions.VersionRef | None = None,
               engine: str | None = None) -> OpenIndex:
    """The opened index of a version, shared by all threads of the process;
    built first if missing or stale."""
    name = engine_name(engine)
    root = engine_root(index_dir, name)
    target = target_of(session, version)
    key = index_key(name, target.content_hash)
    slot = (name, _resolved(root), target.label)
    opened = _registry.get(slot)
    if opened is not None and opened.key == key:
        return opened
    with _registry_guard:
        lock = _registry_locks.setdefault(slot, threading.Lock())
    with lock:
        opened = _registry.get(slot)
        if opened is not None and opened.key == key:
            return opened
        for attempt in range(3):
            info = ensure_index(session, index_dir, target.ref(session) if target.label == versions.DRAFT else target.label,
                                engine=name)
            try:
                path = Path(info.path)
                opened = OpenIndex(path, get_engine(name).open(path), analyzer(Path(index_dir).parent))
                break
            except (FileNotFoundError, OSError, ValueError):
                if attempt == 2:  # pruned between reading the pointer and opening it, three times
                    raise
        # The index it replaces is not closed: another thread may be searching
        # it right now. It goes when the last reference does.
        _registry[slot] = opened
        return opened


@lru_cache(maxsize=64)
def _resolved(root: Path) -> str:
    """The folder's real path, once per process: resolving it on every search cost four system calls."""
    return str(root.resolve())


def forget_open_indexes() -> None:
    """Drop every opened index of this process, and what it remembered of versions (tests; after `init --force`)."""
    with _registry_guard:
        _registry.clear()
    _resolved.cache_clear()
    versions.forget_resolved()

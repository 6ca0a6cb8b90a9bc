"""One version of the library held in memory for recommending and checking:
indicators, quota standards and the taxonomy, with the look-ups both need.

Published versions never change, so a snapshot of one is cached (keyed by the
database and the version's identity); the draft is read afresh every time.

A published version's indicators are kept off the Python heap. Held as pydantic
records they took 480 MB of every worker at 100k indicators, and 5 s to read.
Here a worker holds one light `IndicatorRow` per indicator (its code, name and
the fields that scans filter on, their repeated values shared) and reads the
records themselves, as compact JSON, from a file per version
(`STORE_DIR/<key>.zbs`, written once by the first process that needs it, under
a lock, or by the publish job): the page cache holds one copy for all the
workers, and a restarted worker opens it in well under a second. A record
object is made when a caller asks for one (`by_code`, `by_name`, `record(row)`,
`indicators[i]`: ~25 µs; the last RECORDS_KEPT are kept). Scans go over `rows`:
iterating `indicators` makes every record (seconds at 100k).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlmodel import Session

from kb.library import versions
from kb.errors import InvalidInput
from kb.models import CaseRecord, DepartmentRecord, IndicatorRecord, ProjectTypeRecord, QuotaRecord, SectorRecord

log = logging.getLogger(__name__)
CACHE_SIZE = 4
_cache: OrderedDict = OrderedDict()
_loading: dict = {}
_lock = threading.Lock()

# Where published versions' indicator files go (`use_store_dir`; gunicorn workers use DATA_DIR/snapshots). None:
# each process builds the same bytes in its own memory (the command line, tests), still without a record object each.
STORE_DIR: Path | None = None
STORE_FORMAT = 1
STORE_SUFFIX = ".zbs"
STORES_KEPT = 8  # files of other versions kept beside the newest (another worker may still be on one)
RECORDS_KEPT = 1024  # record objects kept per snapshot, the last made (~5 KB each)
LIVE = ("standard", "candidate")


_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
_NAME_PUNCT = re.compile(r"[\s·、，,。.：:；;\"'“”‘’/／\-—_]+")


def _name_key(name: str) -> str:
    return _NAME_PUNCT.sub("", _BRACKETS.sub("", name or "")).lower()


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """Indicator names compared without spaces, brackets' contents or punctuation (memoised: a
    suggestion compares a few hundred names, and the library's names recur from request to request)."""
    return _name_key(name)


# Short forms people write for a 类 whose words they do not contain ("科技" is not in 科学技术;
# left to the substring match it would find 科技条件与服务 instead).
SECTOR_ALIASES = {"科技": "科学技术", "社保": "社会保障和就业", "就业": "社会保障和就业", "环保": "节能环保",
                  "医疗": "卫生健康", "文旅": "文化旅游体育与传媒", "应急": "灾害防治及应急管理", "粮食": "粮油物资储备"}


def _sector_words(name: str) -> str:
    """A sector's name as compared: without 支出, spaces or punctuation, 与/及/、 read as 和."""
    text = re.sub(r"[\s·，,、/（）()]+", "", name or "").removesuffix("支出")
    return re.sub("[与及]", "和", text)


def bigram_dice(a: str, b: str) -> float:
    x = {a[i:i + 2] for i in range(len(a) - 1)} or {a}
    y = {b[i:i + 2] for i in range(len(b) - 1)} or {b}
    return 2 * len(x & y) / (len(x) + len(y))


def sector_chain(code: str) -> list[str]:
    """"2100201" → ["2100201", "21002", "210"]: the code and its parents (3 → 5 → 7 digits)."""
    return [code[:n] for n in (7, 5, 3) if len(code) >= n]


def sectors_related(a: str, b: str) -> bool:
    """The same 支出功能分类 or one inside the other."""
    return a.startswith(b) or b.startswith(a)


# --- what a worker keeps of each indicator ------------------------------------------------------

ROW_TEXT = ("code", "name")
# fields whose values repeat from indicator to indicator: one object per distinct value, shared by the rows
ROW_SHARED = ("kind", "status", "level1", "level2", "target_level1", "target_level2", "unit",
              "sectors", "departments", "project_types")
ROW_LISTS = ("sectors", "departments", "project_types")


class IndicatorRow:
    """What scans over a version's indicators read: its code, name (and `key`, the name as `name_key` compares
    it), kind, status, dimensions, unit, sectors, departments and project types (as tuples). `Snapshot.record(row)`
    is the whole record."""
    __slots__ = ("at", "key", *ROW_TEXT, *ROW_SHARED)

    def __init__(self, at: int, key: str, code: str, name: str, kind: str, status: str, level1: str, level2: str,
                 target_level1: str, target_level2: str, unit: str, sectors: tuple, departments: tuple,
                 project_types: tuple):
        self.at = at  # position in the snapshot's `indicators`
        self.key = key
        self.code, self.name, self.kind, self.status = code, name, kind, status
        self.level1, self.level2, self.target_level1, self.target_level2 = level1, level2, target_level1, target_level2
        self.unit, self.sectors, self.departments, self.project_types = unit, sectors, departments, project_types

    @property
    def target_dims(self) -> tuple[str, str]:
        """Where the indicator goes in a 绩效目标表 (一级, 二级), as IndicatorRecord.target_dims."""
        return (self.target_level1 or self.level1, self.target_level2 or self.level2)

    def __repr__(self) -> str:
        return f"IndicatorRow({self.code!r}, {self.name!r})"


def _row_of(at: int, rec: IndicatorRecord, shared: dict) -> IndicatorRow:
    """A record's row, its repeated values made one object each."""
    values = []
    for name in ROW_SHARED:
        value = getattr(rec, name)
        value = tuple(value) if name in ROW_LISTS else value
        values.append(shared.setdefault((name, value), value))
    return IndicatorRow(at, _key_of(rec.name), rec.code, rec.name, *values)


def _key_of(name: str) -> str:
    """name_key without its memo: a snapshot computes each name's key once and keeps it on the row."""
    key = _name_key(name)
    return name if key == name else key


@dataclass
class Snapshot:
    """A version's records. `indicators` is a list of records, or for a published version read by `load` an
    IndicatorFile that makes each record on demand; `rows` is the light row of each, in the same order."""
    version: versions.VersionRef
    indicators: Sequence[IndicatorRecord]
    quotas: list[QuotaRecord]
    sectors: dict[str, SectorRecord]
    departments: dict[str, DepartmentRecord]
    project_types: dict[str, ProjectTypeRecord]
    cases: list[CaseRecord] = field(default_factory=list)
    memo: dict = field(default_factory=dict)  # derived data (e.g. term statistics) computed once per snapshot
    rows: list[IndicatorRow] = field(init=False, repr=False)
    by_code: Mapping[str, IndicatorRecord] = field(init=False, repr=False)  # code → record, made on demand
    by_name: Mapping[str, list[IndicatorRecord]] = field(init=False, repr=False)  # name_key → records

    def __post_init__(self):
        if isinstance(self.indicators, IndicatorFile):
            self.rows = self.indicators.rows()
        else:
            shared: dict = {}
            self.rows = [_row_of(at, rec, shared) for at, rec in enumerate(self.indicators)]
        self._row_by_code = {row.code: row for row in self.rows}
        self._rows_by_name: dict[str, tuple[IndicatorRow, ...]] = {}
        for row in self.rows:
            self._rows_by_name[row.key] = self._rows_by_name.get(row.key, ()) + (row,)
        # the mappings hold the look-up tables and the records, not the snapshot: no reference cycle, so an old
        # version's snapshot goes as soon as the cache lets go of it, even after the warm-up's gc.freeze()
        self.by_code = _ByCode(self._row_by_code, self.indicators)
        self.by_name = _ByName(self._rows_by_name, self.indicators)

    def record(self, row: IndicatorRow) -> IndicatorRecord:
        return self.indicators[row.at]

    def kept(self, name: str, compute: Callable[[], Any]) -> Any:
        """JSON-able data derived from this version, computed once per version and kept in a file beside the
        version's (`<file>.<name>.json`), so that a worker starting later reads it instead of computing it again
        (the publish job computes it first: kb.library.publishing.prepare_cases). A published version never changes, so the file never
        goes stale while `name` names the computation: give it a new name when the computation changes. Without
        a file (the draft, no store folder, a folder that cannot be written) it is computed each time asked."""
        path = getattr(self.indicators, "path", None)
        if path is None:
            return compute()
        kept = path.with_name(f"{path.name}.{name}.json")
        try:
            return json.loads(kept.read_bytes())
        except (OSError, ValueError):  # not written yet (or cut short by a writer that died)
            pass
        data = compute()
        try:
            _write_whole(kept, [json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()])
        except OSError as exc:
            log.warning("derived data %s cannot be kept (%s): computed again by each process", kept, exc)
        return data

    def row(self, code: str) -> IndicatorRow | None:
        return self._row_by_code.get(code)

    def rows_named(self, key: str) -> tuple[IndicatorRow, ...]:
        """The rows whose name has this name_key."""
        return self._rows_by_name.get(key, ())

    @property
    def active_rows(self) -> list[IndicatorRow]:
        return [r for r in self.rows if r.status in LIVE]

    def current_quotas(self, on: date | None = None) -> list[QuotaRecord]:
        on = on or date.today()
        return [q for q in self.quotas if q.status == "current" and q.effective_date <= on
                and (q.expiry_date is None or q.expiry_date >= on)]

    # --- resolving what a drafter typed -------------------------------------------------

    def resolve_sector(self, text: str) -> str | None:
        """A 支出功能分类 code or name as people write it → its code: "210", "卫生健康", "卫生健康支出",
        "社会保障与就业" (与/及 for 和), a short form contained in a name ("卫生" → 卫生健康), or a
        near spelling (bigram Dice ≥ 0.6). The broadest of equally good items wins.

        Raises InvalidInput for a sector the library does not know; None for no sector."""
        text = (text or "").strip()
        if not text:
            return None
        if text in self.sectors:
            return text
        if text.isdigit() and len(text) in (3, 5, 7):
            raise InvalidInput(f"未知的行业/领域“{text}”：功能分类中没有这个编码")
        wanted = _sector_words(SECTOR_ALIASES.get(text, text))
        names = [(s.code, _sector_words(s.name)) for s in self.sectors.values()]
        for test in (lambda n: n == wanted, lambda n: len(wanted) >= 2 and n.startswith(wanted),
                     lambda n: len(wanted) >= 2 and wanted in n,
                     lambda n: len(wanted) >= 3 and bigram_dice(n, wanted) >= 0.6):
            hits = [code for code, n in names if test(n)]
            if hits:
                return min(hits, key=lambda c: (len(c), c))
        raise InvalidInput(f"未知的行业/领域“{text}”：请填写支出功能分类编码（如 210）或名称（如 卫生健康）")

    def resolve_project_type(self, text: str) -> str | None:
        """"PT-PX", "培训类", "培训" → "PT-PX". Raises InvalidInput for an unknown type."""
        text = (text or "").strip()
        if not text:
            return None
        if text in self.project_types:
            return text
        for t in sorted(self.project_types.values(), key=lambda t: t.code):
            if text in (t.name, t.name.removesuffix("类")) or t.name.startswith(text.removesuffix("类")):
                return t.code
        names = "、".join(t.name for t in sorted(self.project_types.values(), key=lambda t: t.code))
        raise InvalidInput(f"未知的项目类别“{text}”" + (f"：可选 {names}" if names else ""))

    def resolve_department(self, text: str) -> str | None:
        """A department code or type name, or a unit's name containing one ("衡阳市中心医院" stays
        free text unless a type's name is in it); None when nothing matches (departments are open)."""
        text = (text or "").strip()
        if not text:
            return None
        if text in self.departments:
            return text
        for d in sorted(self.departments.values(), key=lambda d: (-len(d.name), d.code)):
            if d.name == text or d.name in text:
                return d.code
        return None


class _ByCode(Mapping):
    def __init__(self, rows: dict[str, IndicatorRow], records: Sequence[IndicatorRecord]):
        self._rows, self._records = rows, records

    def __getitem__(self, code: str) -> IndicatorRecord:
        return self._records[self._rows[code].at]

    def __contains__(self, code: object) -> bool:
        return code in self._rows

    def __iter__(self):
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class _ByName(Mapping):
    def __init__(self, rows: dict[str, tuple[IndicatorRow, ...]], records: Sequence[IndicatorRecord]):
        self._rows, self._records = rows, records

    def __getitem__(self, key: str) -> list[IndicatorRecord]:
        return [self._records[row.at] for row in self._rows[key]]

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self):
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


# --- a published version's indicators in one buffer ----------------------------------------------
#
# MAGIC, the head's length (8 bytes, little-endian), the head (JSON: format, fields, count, where each part is),
# then the parts, each at a multiple of 8 from the end of the head:
#   small    JSON: the version's quotas, sectors, departments, project types and cases, as stored
#   rows     JSON: the rows' columns; a repeated field as indexes into its table of distinct values
#   offsets  count + 1 native 8-byte integers: where each record starts in `records`
#   records  each indicator's field values as a JSON array, in `fields` order

MAGIC = b"ZBSNAP\x00\n"
SMALL_KINDS = ("quota", "sector", "department", "project_type", "case")


def _fields() -> list[str]:
    return list(IndicatorRecord.model_fields)


def _align(n: int) -> int:
    return (n + 7) // 8 * 8


def encode(indicator_data: Iterable[dict], small: dict[str, list[dict]]) -> list[bytes]:
    """A version's file, in pieces to write one after the other: its indicators' stored data (in code order) and
    the other kinds' (SMALL_KINDS)."""
    fields = _fields()
    every = set(fields)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    records, offsets = bytearray(), array("q", [0])
    text: dict[str, list] = {"code": [], "name": [], "key": []}
    tables: dict[str, dict] = {name: {} for name in ROW_SHARED}
    coded: dict[str, list[int]] = {name: [] for name in ROW_SHARED}
    for data in indicator_data:
        if not every <= data.keys():  # stored before a field existed: the model gives its default
            data = IndicatorRecord.model_validate(data).model_dump(mode="json")
        records += dumps([data[name] for name in fields]).encode()
        offsets.append(len(records))
        text["code"].append(data["code"])
        text["name"].append(data["name"])
        key = _name_key(data["name"])
        text["key"].append(None if key == data["name"] else key)
        for name in ROW_SHARED:
            value = tuple(data[name]) if name in ROW_LISTS else data[name]
            table = tables[name]
            coded[name].append(table.setdefault(value, len(table)))
    columns = {**text, **coded, "values": {name: list(table) for name, table in tables.items()}}
    parts = {"small": json.dumps(small, ensure_ascii=False, separators=(",", ":")).encode(),
             "rows": json.dumps(columns, ensure_ascii=False, separators=(",", ":")).encode(),
             "offsets": offsets.tobytes(), "records": bytes(records)}
    places, at = {}, 0
    for name, data in parts.items():
        places[name] = [at, at + len(data)]
        at = _align(at + len(data))
    head = json.dumps({"format": STORE_FORMAT, "byteorder": sys.byteorder, "fields": fields,
                       "count": len(offsets) - 1, "parts": places}).encode()
    pieces = [MAGIC, len(head).to_bytes(8, "little"), head, b"\0" * (_align(16 + len(head)) - 16 - len(head))]
    for data in parts.values():
        pieces += [data, b"\0" * (_align(len(data)) - len(data))]
    return pieces


class IndicatorFile(Sequence):
    """The indicators of a version as `encode` wrote them, read from `source` (_File or _Bytes): a record object
    made from its JSON on demand. Safe to share between threads."""

    def __init__(self, source, head: dict, base: int):
        self._source, self._head, self._base = source, head, base
        self._count = head["count"]
        offsets = array("q")
        offsets.frombytes(self._read_part("offsets"))
        self._get = _record_maker(source, base + head["parts"]["records"][0], offsets, head["fields"])

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, at):
        if isinstance(at, slice):
            return [self._get(i) for i in range(*at.indices(self._count))]
        if at < 0:
            at += self._count
        if not 0 <= at < self._count:
            raise IndexError(at)
        return self._get(at)

    def _read_part(self, name: str) -> bytes:
        start, end = self._head["parts"][name]
        return self._source.read(self._base + start, end - start)

    def part(self, name: str):
        return json.loads(self._read_part(name))

    @property
    def path(self) -> Path | None:
        """The version's file in the store folder (None: built in this process's memory)."""
        return self._source.path

    def rows(self) -> list[IndicatorRow]:
        columns = self.part("rows")
        shared = []
        for name in ROW_SHARED:
            table = [tuple(v) if name in ROW_LISTS else v for v in columns["values"][name]]
            shared.append([table[i] for i in columns[name]])
        return [IndicatorRow(at, key or name, code, name, *values)
                for at, (code, name, key, *values) in enumerate(zip(columns["code"], columns["name"], columns["key"],
                                                                    *shared))]


def _record_maker(source, base: int, offsets: array, fields: list[str]):
    """Record number i read from `source`, the last RECORDS_KEPT remembered. A closure, not a method: a cached
    bound method would tie the IndicatorFile into a reference cycle."""
    validate = IndicatorRecord.model_validate

    @lru_cache(maxsize=RECORDS_KEPT)
    def make(i: int) -> IndicatorRecord:
        at = offsets[i]
        return validate(dict(zip(fields, json.loads(source.read(base + at, offsets[i + 1] - at)))))

    return make


class _File:
    """A store file read with pread. The page cache holds it once for all the workers, and none of it counts in
    a worker's RSS: memory-mapped, the kernel mapped the pages around each record read (fault-around), and a
    few thousand records read put most of the file in the worker's RSS (+60 MB at 100k indicators)."""

    def __init__(self, path: Path):
        fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(fd).st_size
        self.fd, self.path = fd, path
        weakref.finalize(self, os.close, fd)  # the file stays readable while open, even once pruned

    def read(self, at: int, size: int) -> bytes:
        return os.pread(self.fd, size, at)


class _Bytes:
    """A store built in this process's memory (no store folder)."""

    def __init__(self, data: bytes):
        self.data, self.size = data, len(data)
        self.path = None

    def read(self, at: int, size: int) -> bytes:
        return self.data[at:at + size]


def read_head(source) -> tuple[dict, int] | None:
    """The head of a store `encode` wrote and where its parts start; None for anything else (another format,
    another model, cut short)."""
    start = source.read(0, 16)
    if len(start) < 16 or start[:8] != MAGIC:
        return None
    size = int.from_bytes(start[8:16], "little")
    try:
        head = json.loads(source.read(16, size))
    except ValueError:
        return None
    base = _align(16 + size)
    ends = [end for _, end in head.get("parts", {}).values()]
    if (head.get("format"), head.get("byteorder"), head.get("fields")) != (STORE_FORMAT, sys.byteorder, _fields()) \
            or not ends or base + max(ends) > source.size:
        return None
    return head, base


def use_store_dir(path: Path | str | None) -> None:
    """Keep published versions' indicator files in `path` (None: in each process's memory)."""
    global STORE_DIR
    STORE_DIR = Path(path) if path is not None else None


def _store_name(session: Session, ref: versions.VersionRef) -> str:
    # a version's content hash says what it holds, whichever database it is in; without one, its identity
    what = ref.content_hash or f"{session.get_bind().url}|{ref.id}|{ref.label}|{ref.published_at}"
    raw = f"{STORE_FORMAT}:{sys.byteorder}:{','.join(_fields())}:{what}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24] + STORE_SUFFIX


def _encode_version(session: Session, ref: versions.VersionRef) -> list[bytes]:
    small = {kind: list(versions.stored_data(session, kind, ref)) for kind in SMALL_KINDS}
    return encode(versions.stored_data(session, "indicator", ref), small)


def _open(path: Path):
    """(source, head, base) of a store file, None when there is none (or not one this code wrote)."""
    try:
        source = _File(path)
    except OSError:  # none yet (or unreadable: written again, or kept in memory)
        return None
    found = read_head(source)
    if found is None:
        return None
    try:
        os.utime(path)  # in use: the pruning keeps recently used files
    except OSError:
        pass
    return source, *found


def _stored(session: Session, ref: versions.VersionRef):
    """(source, head, base) of a published version: its file in STORE_DIR, written first if missing, under a lock
    so that the workers starting together write it once; in memory without a folder, or when it cannot be written."""
    if STORE_DIR is not None:
        path = STORE_DIR / _store_name(session, ref)
        found = _open(path)
        if found is not None:
            return found
        try:
            STORE_DIR.mkdir(parents=True, exist_ok=True)
            with open(STORE_DIR / ".lock", "a+") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                found = _open(path)  # written by another process while this one waited
                if found is None:
                    _write_whole(path, _encode_version(session, ref))
                    _prune(STORE_DIR, path)
                    found = _open(path)
            if found is not None:
                return found
        except OSError as exc:  # a folder that cannot be written (read-only, full): this process keeps its own copy
            log.warning("snapshot store %s cannot be written (%s): this process keeps the version in memory",
                        STORE_DIR, exc)
    source = _Bytes(b"".join(_encode_version(session, ref)))
    return source, *read_head(source)


def _write_whole(path: Path, pieces: Iterable[bytes]) -> None:
    """`path` written so that no reader ever sees it half written: into a file of its own beside it (named for
    this process, so that writers never share one), then renamed over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as fh:
            fh.writelines(pieces)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _prune(folder: Path, keep: Path) -> None:
    """Files of versions nobody has opened for long go (a worker still reading one keeps it open, and readable);
    so do the leftovers of a writer that died."""
    def modified(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except FileNotFoundError:  # pruned by another process meanwhile
            return 0.0

    files = sorted(folder.glob(f"*{STORE_SUFFIX}"), key=modified, reverse=True)
    for path in [p for p in files if p != keep][STORES_KEPT:]:
        path.unlink(missing_ok=True)
    for path in folder.glob(f"*{STORE_SUFFIX}.*.json"):  # what Snapshot.kept wrote beside a file now gone
        if not path.with_name(path.name.split(".", 2)[0] + STORE_SUFFIX).exists():
            path.unlink(missing_ok=True)
    for path in folder.glob(f".*{STORE_SUFFIX}.*"):
        if time.time() - modified(path) > 3600:
            path.unlink(missing_ok=True)


def load(session: Session, version: str | versions.VersionRef | None = None) -> Snapshot:
    ref = version if isinstance(version, versions.VersionRef) else versions.resolve(session, version)
    if ref.is_draft:
        return _read(session, ref)
    key = (str(session.get_bind().url), ref.id, ref.label, ref.published_at)
    with _lock:
        snap = _cache.get(key)
        if snap is not None:
            _cache.move_to_end(key)
            return snap
        loading = _loading.setdefault(key, threading.Lock())
    with loading:  # one reader per version; the others wait for its result
        with _lock:
            snap = _cache.get(key)
        if snap is None:
            snap = _published(session, ref)
            with _lock:
                _cache[key] = snap
                while len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
    with _lock:
        _loading.pop(key, None)
    return snap


def prepare(session: Session, ref: versions.VersionRef) -> None:
    """Write a just-published version's file now, in the publish job, so that the workers' first request for the
    version opens it instead of writing it (seconds at 100k indicators). Nothing without a store folder."""
    if STORE_DIR is not None and not ref.is_draft:
        _stored(session, ref)


def _published(session: Session, ref: versions.VersionRef) -> Snapshot:
    indicators = IndicatorFile(*_stored(session, ref))
    small = indicators.part("small")

    def recs(kind, model):
        return [model.model_validate(data) for data in small[kind]]

    return Snapshot(
        version=ref,
        indicators=indicators,
        quotas=recs("quota", QuotaRecord),
        sectors={s.code: s for s in recs("sector", SectorRecord)},
        departments={d.code: d for d in recs("department", DepartmentRecord)},
        project_types={t.code: t for t in recs("project_type", ProjectTypeRecord)},
        cases=[c for c in recs("case", CaseRecord) if c.status != "retired"],
    )


def _read(session: Session, ref: versions.VersionRef) -> Snapshot:
    def recs(kind):
        return versions.records(session, kind, ref)

    return Snapshot(
        version=ref,
        indicators=recs("indicator"),
        quotas=recs("quota"),
        sectors={s.code: s for s in recs("sector")},
        departments={d.code: d for d in recs("department")},
        project_types={t.code: t for t in recs("project_type")},
        cases=[c for c in recs("case") if c.status != "retired"],
    )

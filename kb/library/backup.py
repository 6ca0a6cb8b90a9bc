"""Backup and restore of the whole library: every version, the draft, the
plan, the change log, accounts and keys. The file is plain JSON (gzipped when
the name ends in .gz), so a backup from SQLite restores into PostgreSQL."""
from __future__ import annotations

import gzip
import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy import types as sa_types
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from kb import db as kbdb
from kb.library import versions
from kb.errors import InvalidInput

FORMAT = "zhibiao-backup"


def _tables():
    # sorted_tables puts referenced tables first, which is the order to insert in
    return SQLModel.metadata.sorted_tables


def _encode(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _schema_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


Progress = Callable[[int, int], None]
CHUNK = 1000  # rows between progress reports, and rows per INSERT when restoring


def backup_data(engine: Engine, progress: Progress | None = None) -> tuple[bytes, dict[str, int]]:
    """Every row of every table as the backup's JSON (not compressed), and row counts.

    `progress(rows_done, rows_total)` is called as tables are read."""
    doc = {"format": FORMAT, "format_version": 1, "schema_revision": _schema_revision(engine), "tables": {}}
    with engine.connect() as conn:
        # counted first so that a progress bar knows its length; cheap next to reading the rows
        total = sum(conn.execute(select(func.count()).select_from(t)).scalar() for t in _tables()) if progress else 0
        done = 0
        for table in _tables():
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            out = doc["tables"][table.name] = []
            for row in rows:
                out.append({k: _encode(v) for k, v in row.items()})
                done += 1
                if progress is not None and done % CHUNK == 0:
                    progress(done, max(total, done))
            if progress is not None:
                progress(done, max(total, done))
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return data, {name: len(rows) for name, rows in doc["tables"].items()}


def backup(engine: Engine, path: Path, progress: Progress | None = None) -> dict[str, int]:
    """Write every row of every table to `path` (gzipped when it ends in .gz); returns row counts."""
    data, counts = backup_data(engine, progress)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    # the backup holds password and API-key hashes: readable by its owner only
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older .tmp left behind keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as out:
        out.write(gzip.compress(data) if path.suffix == ".gz" else data)
    tmp.replace(path)
    return counts


def read_backup(source: Path | bytes) -> dict:
    """A backup's document from a file or from its bytes (plain or gzipped JSON, told apart by the bytes)."""
    raw = bytes(source) if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        doc = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"备份文件无法读取：{exc.__class__.__name__}")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidInput("不是 zhibiao 备份文件")
    return doc


def _temporal_kind(column):
    # TypeDecorators (sqlmodel's UTCDateTime) wrap the real type in .impl
    type_ = getattr(column.type, "impl", column.type)
    if isinstance(type_, sa_types.DateTime):
        return datetime
    if isinstance(type_, sa_types.Date):
        return date
    return None


def _decode(table, row: dict) -> dict:
    out = {}
    for column in table.columns:
        if column.name not in row:
            continue
        value, kind = row[column.name], _temporal_kind(column)
        if isinstance(value, str) and kind is datetime:
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and kind is date:
            value = date.fromisoformat(value)
        out[column.name] = value
    return out


def restore(engine: Engine, source: Path | bytes, progress: Progress | None = None) -> dict[str, int]:
    """Restore a backup (a file, or its bytes) into an empty database (the schema is created first).

    All or nothing: one transaction; refuses a database that already holds a library.
    `progress(rows_done, rows_total)` is called as rows are inserted.
    """
    doc = read_backup(source)
    kbdb.upgrade(engine)
    tables = {t.name: t for t in _tables()}
    unknown = set(doc["tables"]) - set(tables)
    if unknown:
        raise InvalidInput(f"备份中有本版本不认识的数据表：{'、'.join(sorted(unknown))}")
    counts = {}
    with engine.begin() as conn:
        for table in _tables():
            if conn.execute(select(func.count()).select_from(table)).scalar():
                raise InvalidInput(f"目标数据库不是空库（表 {table.name} 已有数据），请先用 zhibiao init --force 之外的空库")
        total = sum(len(doc["tables"].get(t.name, [])) for t in _tables())
        done = 0
        for table in _tables():
            rows = [_decode(table, r) for r in doc["tables"].get(table.name, [])]
            # in chunks, so that progress moves within a large table; still one transaction
            for start in range(0, len(rows), CHUNK):
                conn.execute(table.insert(), rows[start:start + CHUNK])
                done += len(rows[start:start + CHUNK])
                if progress is not None:
                    progress(done, total)
            counts[table.name] = len(rows)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    versions.forget_resolved()  # "current" means something else now
    return counts


def _reset_sequences(conn) -> None:
    """Integer ids were inserted explicitly; move each sequence past them."""
    for table in _tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (column.autoincrement == "auto" and column.type.python_type is int and len(table.primary_key.columns) == 1):
                seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}).scalar()
                if seq:
                    conn.execute(text(f"SELECT setval('{seq}', COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"))

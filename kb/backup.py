"""Backup and restore of the whole library: every version, the draft, the
plan, the change log, accounts and keys. The file is plain JSON (gzipped when
the name ends in .gz), so a backup from SQLite restores into PostgreSQL."""
from __future__ import annotations

import gzip
import json
import os
from datetime import date, datetime
from pathlib import Path

from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy import types as sa_types
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from kb import db as kbdb
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


def backup(engine: Engine, path: Path) -> dict[str, int]:
    """Write every row of every table to `path`; returns row counts."""
    doc = {"format": FORMAT, "format_version": 1, "schema_revision": _schema_revision(engine), "tables": {}}
    with engine.connect() as conn:
        for table in _tables():
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            doc["tables"][table.name] = [{k: _encode(v) for k, v in row.items()} for row in rows]
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    # the backup holds password and API-key hashes: readable by its owner only
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older .tmp left behind keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as out:
        out.write(gzip.compress(data) if path.suffix == ".gz" else data)
    tmp.replace(path)
    return {name: len(rows) for name, rows in doc["tables"].items()}


def read_backup(path: Path) -> dict:
    raw = Path(path).read_bytes()
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


def restore(engine: Engine, path: Path) -> dict[str, int]:
    """Restore a backup into an empty database (the schema is created first).

    All or nothing: one transaction; refuses a database that already holds a library.
    """
    doc = read_backup(path)
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
        for table in _tables():
            rows = [_decode(table, r) for r in doc["tables"].get(table.name, [])]
            if rows:
                conn.execute(table.insert(), rows)
            counts[table.name] = len(rows)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return counts


def _reset_sequences(conn) -> None:
    """Integer ids were inserted explicitly; move each sequence past them."""
    for table in _tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (column.autoincrement == "auto" and column.type.python_type is int and len(table.primary_key.columns) == 1):
                seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}).scalar()
                if seq:
                    conn.execute(text(f"SELECT setval('{seq}', COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"))

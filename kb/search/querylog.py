"""The query log (what was asked, how many results; no personal data) and
the curator's report of queries that found nothing.

Rows are buffered and written in batches on a connection of their own, so a
search never waits for the database's write lock (SQLite has one, held for
the whole of a publish) and never touches the caller's transaction. A batch
that cannot be written now is kept for the next try (up to a bound).
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kb.models import QueryLog
from kb.untrusted import clean_text

FLUSH_ROWS = 50
FLUSH_SECONDS = 2.0
MAX_BUFFERED = 5000


class _Buffer:
    def __init__(self):
        self.rows: dict[Engine, list[dict]] = {}
        self.last_flush = time.monotonic()
        self.lock = threading.Lock()

    def add(self, bind: Engine, row: dict) -> None:
        with self.lock:
            rows = self.rows.setdefault(bind, [])
            rows.append(row)
            del rows[:-MAX_BUFFERED]
            due = len(rows) >= FLUSH_ROWS or time.monotonic() - self.last_flush >= FLUSH_SECONDS
        if due:
            self.flush(bind)

    def flush(self, bind: Engine | None = None, wait: bool = False) -> int:
        written = 0
        for engine in [bind] if bind is not None else list(self.rows):
            with self.lock:
                rows, self.rows[engine] = self.rows.get(engine, []), []
                self.last_flush = time.monotonic()
            if not rows:
                continue
            try:
                _insert(engine, rows, wait)
                written += len(rows)
            except DBAPIError as exc:  # the log must never break a search
                if exc.connection_invalidated or isinstance(exc, OperationalError):
                    # the database is busy or away: keep the rows for the next try
                    with self.lock:
                        self.rows[engine] = (rows + self.rows.get(engine, []))[-MAX_BUFFERED:]
                else:
                    # the database refuses a row (bad data): write the others, drop that one
                    written += _insert_one_by_one(engine, rows)
        return written


def _insert(engine: Engine, rows: list[dict], wait: bool) -> None:
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite and not wait:
            conn.exec_driver_sql("PRAGMA busy_timeout = 50")
        try:
            conn.execute(QueryLog.__table__.insert(), rows)
            conn.commit()
        finally:
            if sqlite and not wait:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA busy_timeout = 30000")


def _insert_one_by_one(engine: Engine, rows: list[dict]) -> int:
    written = 0
    for row in rows:
        try:
            _insert(engine, [row], True)
            written += 1
        except DBAPIError:
            logging.getLogger(__name__).warning("query log row refused by the database and dropped")
    return written


_buffer = _Buffer()


@atexit.register
def _flush_at_exit() -> None:
    # Rows for a database that is gone by now (a test's) are dropped quietly.
    quiet = logging.getLogger("psycopg")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        _buffer.flush(wait=False)
    finally:
        quiet.setLevel(level)


def record(session: Session, query: str, normalized: str, filters: dict, version: str, total: int,
           duration_ms: float, source: str = "") -> None:
    bind = session.get_bind()
    _buffer.add(bind, {
        "at": datetime.now().astimezone(),
        "query": clean_text(query or "")[:200],
        "normalized": clean_text(normalized or "")[:200],
        "filters": {clean_text(str(k)): clean_text(str(v)) for k, v in (filters or {}).items()},
        "version": clean_text(version or "")[:32],
        "total": int(total),
        "duration_ms": round(float(duration_ms), 3),
        "source": (source or "")[:20],
    })


def flush(session: Session | None = None) -> int:
    """Write buffered rows now (waiting for the database if need be)."""
    return _buffer.flush(session.get_bind() if session is not None else None, wait=True)


@dataclass(frozen=True)
class ZeroResultQuery:
    query: str  # normalised
    count: int
    last_at: datetime
    example: str  # one way it was typed


def zero_result_report(session: Session, since: datetime | None = None, limit: int = 50) -> list[ZeroResultQuery]:
    """The queries that most often found nothing, most frequent first."""
    flush(session)
    stmt = (
        select(QueryLog.normalized, func.count().label("n"), func.max(QueryLog.at), func.min(QueryLog.query))
        .where(QueryLog.total == 0, QueryLog.normalized != "")
        .group_by(QueryLog.normalized)
        .order_by(func.count().desc(), QueryLog.normalized)
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(QueryLog.at >= since)
    return [ZeroResultQuery(q, n, last, example) for q, n, last, example in session.execute(stmt)]

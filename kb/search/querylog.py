"""The query log (what was asked, how many results; no personal data) and
the curator's report of queries that found nothing.

A search only appends its row to a buffer in memory (a lock held for one
append): a thread of the process's own writes the rows in batches on a
connection of its own, when 50 are waiting or every 2 seconds. So a search
never waits for the database (nor for SQLite's write lock, held for the whole
of a publish) and never touches the caller's transaction. A batch that cannot
be written now (the database busy or away) is kept for the next try, up to a
bound in rows and in time; a row the database refuses is dropped alone.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kb.models import QueryLog
from kb.untrusted import clean_text

FLUSH_ROWS = 50
FLUSH_SECONDS = 2.0
MAX_BUFFERED = 5000
GIVE_UP_SECONDS = 600.0  # a database unreachable this long: its waiting rows are dropped (with a warning)

log = logging.getLogger(__name__)


class _Buffer:
    def __init__(self):
        self.rows: dict[Engine, list[tuple]] = {}
        self.failing_since: dict[Engine, float] = {}
        self.lock = threading.Lock()  # guards rows; held only to append or to take a batch
        self.writing = threading.Lock()  # one writer at a time: flush(wait=True) waits for the thread's batch
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def add(self, bind: Engine, raw: tuple) -> None:
        with self.lock:
            rows = self.rows.setdefault(bind, [])
            rows.append(raw)
            if len(rows) > MAX_BUFFERED:
                del rows[:-MAX_BUFFERED]
            due = len(rows) >= FLUSH_ROWS
        if self.pid != os.getpid():  # first use (after a fork too: threads do not cross one)
            self._start()
        if due:
            self.wake.set()

    def _start(self) -> None:
        with self.lock:
            if self.pid == os.getpid():
                return
            self.thread = threading.Thread(target=self._run, name="query-log", daemon=True)
            self.pid = os.getpid()
        self.thread.start()

    def after_fork(self) -> None:
        """In a forked child: fresh locks (the parent's may have been copied held), no writer thread yet, and
        none of the parent's rows (the parent writes those)."""
        self.lock = threading.Lock()
        self.writing = threading.Lock()
        self.wake = threading.Event()
        self.rows, self.failing_since = {}, {}
        self.thread, self.pid = None, 0

    def _run(self) -> None:
        while True:
            self.wake.wait(FLUSH_SECONDS)
            self.wake.clear()
            try:
                self.flush(wait=False)
            except Exception:  # the writer must outlive any surprise
                log.exception("query log: writing a batch failed")

    def flush(self, bind: Engine | None = None, wait: bool = False) -> int:
        written = 0
        with self.writing:
            for engine in [bind] if bind is not None else list(self.rows):
                with self.lock:
                    raw = self.rows.pop(engine, [])
                if not raw:
                    continue
                rows = [row for row in map(_row, raw) if row is not None]
                try:
                    _insert(engine, rows, wait)
                    written += len(rows)
                    self.failing_since.pop(engine, None)
                except DBAPIError as exc:  # the log must never break a search
                    if exc.connection_invalidated or isinstance(exc, OperationalError):
                        written += self._keep(engine, raw)
                    else:
                        # the database refuses a row (bad data): write the others, drop that one
                        written += _insert_one_by_one(engine, rows)
                        self.failing_since.pop(engine, None)
        return written

    def _keep(self, engine: Engine, raw: list[tuple]) -> int:
        """The database is busy or away: keep the rows for the next try, unless it has been away too long."""
        since = self.failing_since.setdefault(engine, time.monotonic())
        if time.monotonic() - since > GIVE_UP_SECONDS:
            log.warning("query log: database unreachable for %d s, %d rows dropped", GIVE_UP_SECONDS, len(raw))
            self.failing_since.pop(engine, None)
            return 0
        with self.lock:
            self.rows[engine] = (raw + self.rows.get(engine, []))[-MAX_BUFFERED:]
        return 0


def _row(raw: tuple) -> dict | None:
    """A buffered search as a query_log row: the cleaning happens here, off the request."""
    at, query, normalized, filters, version, total, duration_ms, source = raw
    try:
        return {
            "at": datetime.fromtimestamp(at, timezone.utc).astimezone(),
            "query": clean_text(query or "")[:200],
            "normalized": clean_text(normalized or "")[:200],
            "filters": {clean_text(str(k)): clean_text(str(v)) for k, v in (filters or {}).items()},
            "version": clean_text(version or "")[:32],
            "total": int(total),
            "duration_ms": round(float(duration_ms), 3),
            "source": str(source or "")[:20],
        }
    except (TypeError, ValueError, OverflowError):
        log.warning("query log: a row that cannot be written was dropped")
        return None


def _insert(engine: Engine, rows: list[dict], wait: bool) -> None:
    if not rows:
        return
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
            log.warning("query log row refused by the database and dropped")
    return written


_buffer = _Buffer()
os.register_at_fork(after_in_child=_buffer.after_fork)


@atexit.register
def _flush_at_exit() -> None:
    # Rows for a database that is gone by now (a test's) are dropped quietly.
    quiet = logging.getLogger("psycopg")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        _buffer.flush(wait=False)
    except Exception:  # at exit there is no one left to tell
        pass
    finally:
        quiet.setLevel(level)


def record(session: Session, query: str, normalized: str, filters: dict, version: str, total: int,
           duration_ms: float, source: str = "") -> None:
    """Queue one search for the log; returns at once (the row is written by the query log's thread)."""
    _buffer.add(session.get_bind(), (time.time(), query, normalized, filters, version, total, duration_ms, source))


def flush(session: Session | None = None) -> int:
    """Write buffered rows now (waiting for the database if need be)."""
    return _buffer.flush(session.get_bind() if session is not None else None, wait=True)


def discard() -> None:
    """Drop the rows not written yet, once a batch being written is done: for tests, whose databases are
    reused by the next test (the writer thread would otherwise log one test's searches into another's)."""
    with _buffer.writing, _buffer.lock:
        _buffer.rows.clear()
        _buffer.failing_since.clear()


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

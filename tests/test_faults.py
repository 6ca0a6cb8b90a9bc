"""Faults: a dropped database connection, two publishes at once, a crash mid-import."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from kb import db as kbdb
from kb.library import versions
from kb.errors import Conflict
from kb.models import ChangeLog, Indicator, Version
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not PG_URL, reason="needs ZHIBIAO_TEST_DATABASE_URL (PostgreSQL)")
def test_dropped_database_connection_gives_503_then_recovers(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    from server.db import get_session

    admin = kbdb.make_engine(PG_URL)
    dropped = []

    @app.before_request
    def drop_the_connection_once():
        # The request has its connection; the server then goes away under it.
        if not dropped:
            pid = get_session().execute(text("SELECT pg_backend_pid()")).scalar()
            with admin.begin() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            dropped.append(pid)

    client = app.test_client()
    resp = client.get("/api/v1/versions")
    assert dropped and resp.status_code == 503
    assert "数据库" in resp.get_json()["message"]
    # the pool notices the dead connection and opens a new one: no restart needed
    resp = client.get("/api/v1/versions")
    assert resp.status_code == 200 and resp.get_json()["current"] == "2024.1"
    admin.dispose()


def test_two_publishes_at_once_one_wins_the_other_conflicts(database_url, monkeypatch):
    from tests.conftest import load_fixture_library

    engine = kbdb.make_engine(database_url)
    kbdb.upgrade(engine)
    with kbdb.session(engine) as s:
        load_fixture_library(s)
        versions.publish(s, "2024.1")
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}
    real_state_revision = versions.state_revision

    def both_read_then_race(session):
        revision = real_state_revision(session)
        barrier.wait(timeout=10)  # both publishers have read the same state
        return revision

    monkeypatch.setattr(versions, "state_revision", both_read_then_race)

    def publish(label):
        with kbdb.session(engine) as s:
            try:
                versions.publish(s, label)
                outcomes[label] = "ok"
            except Exception as exc:  # the loser's error is what we assert on
                outcomes[label] = exc

    threads = [threading.Thread(target=publish, args=(label,)) for label in ("2024.2", "2024.3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    results = sorted(outcomes.values(), key=str)
    assert results.count("ok") == 1, outcomes
    loser = next(v for v in results if v != "ok")
    assert isinstance(loser, Conflict), repr(loser)
    with kbdb.session(engine) as s:
        labels = {v.label for v in versions.list_versions(s)}
        winner = next(label for label, v in outcomes.items() if v == "ok")
        assert labels == {"2024.1", winner}
        assert versions.resolve(s).label == winner
    engine.dispose()


def test_crash_mid_import_leaves_the_draft_unchanged(database_url, tmp_path):
    from tests.conftest import load_fixture_library

    engine = kbdb.make_engine(database_url)
    kbdb.upgrade(engine)
    with kbdb.session(engine) as s:
        load_fixture_library(s)
        before = (s.execute(select(func.count()).select_from(Indicator)).scalar(),
                  s.execute(select(func.count()).select_from(ChangeLog)).scalar())
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import time, pathlib
        from kb import db as kbdb
        from kb.library import draft as library
        engine = kbdb.make_engine({database_url!r})
        entries = [("indicator", {{"code": f"BIG-{{n:05d}}", "kind": "common", "level1": "产出指标", "level2": "数量指标",
                    "name": f"批量导入指标{{n}}", "source": {{"document": "测试"}}, "provenance": "local"}}, "big.json", n)
                   for n in range(3000)]
        batch, problems = library.build_batch(entries)
        assert not problems
        real_log = library.log_change
        count = [0]
        def slow_log(*a, **k):
            real_log(*a, **k)
            count[0] += 1
            if count[0] == 1500:
                a[0].flush()
                pathlib.Path({str(ready)!r}).write_text("half")
                time.sleep(60)
        library.log_change = slow_log
        with kbdb.session(engine) as s:
            library.apply_batch(s, batch)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the importer never reached the middle"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    engine.dispose()
    engine = kbdb.make_engine(database_url)
    with kbdb.session(engine) as s:
        after = (s.execute(select(func.count()).select_from(Indicator)).scalar(),
                 s.execute(select(func.count()).select_from(ChangeLog)).scalar())
        assert after == before
        assert s.execute(select(func.count()).select_from(Version)).scalar() == 0
    engine.dispose()


# --- the search index under faults ------------------------------------------------------

@pytest.fixture
def indexed(tmp_path):
    """The fixture library in SQLite with its current version indexed."""
    from kb import search
    from tests.conftest import load_fixture_library

    engine = kbdb.make_engine(f"sqlite:///{tmp_path / 'lib.sqlite3'}")
    kbdb.upgrade(engine)
    index_dir = tmp_path / "index"
    with kbdb.session(engine) as s:
        load_fixture_library(s)
        versions.publish(s, "2024.1", after_snapshot=search.publish_hook(index_dir))
    yield engine, index_dir
    engine.dispose()


def _codes(engine, index_dir, query="资金到位率"):
    from kb import search

    search.forget_open_indexes()
    with kbdb.session(engine) as s:
        return [h.code for h in search.search(s, index_dir, query, log=False).hits]


def test_disk_full_while_building_an_index_keeps_the_old_index(indexed, monkeypatch):
    import errno

    from kb import search
    from kb.search import engine as engines

    engine, index_dir = indexed
    before = _codes(engine, index_dir)
    assert before and before[0] == "T-001"
    real_get_engine = engines.get_engine

    class FullDisk:
        def __init__(self, inner):
            self.inner = inner

        def build(self, path, docs, progress=None):
            (path / "partial.bin").write_bytes(b"x" * 1024)  # some bytes made it to disk
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr("kb.search.index.get_engine", lambda name: FullDisk(real_get_engine(name)))
    with kbdb.session(engine) as s, pytest.raises(OSError):
        search.build_index(s, index_dir)
    monkeypatch.undo()
    assert _codes(engine, index_dir) == before
    assert not list(index_dir.rglob(".build-*")), "the half-built folder was left behind"


def test_worker_killed_during_rebuild_leaves_a_consistent_index(indexed, tmp_path):
    engine, index_dir = indexed
    before = _codes(engine, index_dir)
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import pathlib, time
        from kb import db as kbdb, search
        engine = kbdb.make_engine({str(engine.url)!r})
        def slow(done, total):
            pathlib.Path({str(ready)!r}).write_text("building")
            time.sleep(60)
        with kbdb.session(engine) as s:
            search.build_index(s, {str(index_dir)!r}, progress=slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the rebuild never started"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # the next request is served from the old, complete index
    assert _codes(engine, index_dir) == before
    # and the writer lock died with the worker: a new rebuild goes through
    from kb import search

    with kbdb.session(engine) as s:
        info = search.build_index(s, index_dir)
    assert info.count == 4
    assert _codes(engine, index_dir) == before

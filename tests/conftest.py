"""Fixtures: one engine per test, on SQLite always and on PostgreSQL when
ZHIBIAO_TEST_DATABASE_URL is set; an app, a client and the fixture library."""
from __future__ import annotations

import os
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from kb import db as kbdb
from kb import versions

FIXTURE_LIBRARY = Path(__file__).parent / "fixtures" / "library"
PG_URL = os.environ.get("ZHIBIAO_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_url_with_schema(schema: str) -> str:
    base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1) if PG_URL.startswith("postgresql://") else PG_URL
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = kbdb.make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_url_with_schema(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url):
    eng = kbdb.make_engine(database_url)
    SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    with kbdb.session(engine) as s:
        yield s


def load_fixture_library(session, root: Path = FIXTURE_LIBRARY):
    from importers import seed

    return seed.load_into(session, root)


@pytest.fixture
def library(session):
    """The small fixture library, loaded and published as 2024.1."""
    load_fixture_library(session)
    versions.publish(session, "2024.1", notes="fixture")
    return session


@pytest.fixture
def app(database_url, tmp_path):
    from api.app import create_app

    eng = kbdb.make_engine(database_url)
    kbdb.upgrade(eng)
    with kbdb.session(eng) as s:
        load_fixture_library(s)
        versions.publish(s, "2024.1", notes="fixture")
    eng.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path)})
    yield app
    app.extensions["zhibiao.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys, database_url):
    """Runs the `zhibiao` command on a fresh instance: (exit code, stdout, stderr)."""
    from api.cli import main

    monkeypatch.setenv("ZHIBIAO_DATA_DIR", str(tmp_path / "inst"))
    monkeypatch.setenv("ZHIBIAO_DATABASE_URL", database_url)

    def _run(*args):
        with pytest.raises(SystemExit) as info:
            main(list(args))
        out, err = capsys.readouterr()
        return info.value.code, out, err

    return _run


def pytest_terminal_summary(terminalreporter):
    """Say how many tests ran on each database backend."""
    counts: Counter = Counter()
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for backend in ("sqlite", "postgresql"):
            if f"[{backend}" in report.nodeid or f"-{backend}]" in report.nodeid or f"-{backend}-" in report.nodeid:
                counts[backend] += 1
    if counts:
        line = ", ".join(f"{n} on {b}" for b, n in sorted(counts.items()))
        if not PG_URL:
            line += " (PostgreSQL skipped: ZHIBIAO_TEST_DATABASE_URL not set)"
        terminalreporter.write_line(f"database backends: {line}")

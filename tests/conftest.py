"""Fixtures: databases on SQLite always and on PostgreSQL when
ZHIBIAO_TEST_DATABASE_URL is set; an app, a client and the fixture library.

Databases are copies of prepared templates (tests/databases.py): the
migrations, the library load and the publish that most tests start from are
paid once per backend and test process. Which template a test's database
starts from follows from the fixtures it asks for (PREPARED below): a test
that asks for `app` gets the migrated fixture library published as 2024.1, a
test that asks only for `session` gets an empty migrated schema.
"""
from __future__ import annotations

import gc
import os
from collections import Counter
from pathlib import Path

import pytest

from kb import auth as kbauth
from kb import db as kbdb
from kb.library import versions
from tests import app_reuse
from tests.databases import PG_URL, Templates

FIXTURE_LIBRARY = Path(__file__).parent / "fixtures" / "library"
TARGETS_OVERLAY = Path(__file__).parent / "fixtures" / "targets"
SEARCH_LIBRARY = Path(__file__).parent / "fixtures" / "search_library"
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

# Curators' passwords get werkzeug's slow scrypt hash (0.17 s a hash or a
# check). Tests create and log in users hundreds of times and test nothing
# about the hash's cost, so they use a cheap one (as Django's test settings do).
kbauth.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

# The suite makes about a thousand apps of the same URL rules and templates: each is compiled once a process.
app_reuse.install()


def load_fixture_library(session, root: Path = FIXTURE_LIBRARY):
    from importers import seed

    return seed.load_into(session, root)


# --- recipes: what a prepared database holds --------------------------------------------------------

def _with_session(url, fill) -> None:
    engine = kbdb.make_engine(url)
    try:
        kbdb.upgrade(engine)
        with kbdb.session(engine) as s:
            fill(s)
    finally:
        engine.dispose()


def migrated(url):
    _with_session(url, lambda s: None)


def fixture_library(url):
    """The fixture library, published as 2024.1."""
    def fill(s):
        load_fixture_library(s)
        versions.publish(s, "2024.1", notes="fixture")
    _with_session(url, fill)


def targets_library(url):
    """The fixture library and the recommend/check overlay, published as 2024.1."""
    def fill(s):
        load_fixture_library(s)
        load_fixture_library(s, TARGETS_OVERLAY)
        versions.publish(s, "2024.1", notes="targets fixture")
    _with_session(url, fill)


def seeded_library(url):
    """The real library in indicators/, published as 2024.1."""
    from importers import seed

    def fill(s):
        seed.load_into(s)
        versions.publish(s, "2024.1")
    _with_session(url, fill)


def search_library(url):
    """tests/fixtures/search_library, published as 2024.1."""
    def fill(s):
        load_fixture_library(s, SEARCH_LIBRARY)
        versions.publish(s, "2024.1", notes="search fixture")
    _with_session(url, fill)


def targets_app_library(url):
    """2024.1 = the fixture library; 2024.2 = plus the targets overlay and a replaced meeting standard."""
    from tests.page_helpers import add_targets_overlay

    def fill(s):
        load_fixture_library(s)
        versions.publish(s, "2024.1", notes="fixture")
        add_targets_overlay(s)
    _with_session(url, fill)


def examples_library(url):
    """The fixture library and one real case (the first of indicators/cases/210-health.yaml), published as
    2024.1: what the OpenAPI examples were taken from (tests/openapi_examples.py)."""
    import yaml

    from kb.library import draft as kblibrary

    case_file = Path(__file__).resolve().parent.parent / "indicators" / "cases" / "210-health.yaml"
    doc = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    # its sector 21004 (公共卫生) is not in the fixture taxonomy; 210 (卫生健康支出) holds it and is
    case = {**doc["cases"][0], "sector": "210", "provenance": doc["provenance"], "certainty": doc["certainty"]}

    def fill(s):
        load_fixture_library(s)
        kblibrary.create_record(s, "case", case, user="fixture")
        versions.publish(s, "2024.1", notes="examples fixture")
    _with_session(url, fill)


# Fixture name → the template its test's database starts from; the first match wins.
PREPARED = [
    ("examples_app", examples_library),
    ("targets_app", targets_app_library),
    ("seeded_db", seeded_library),
    ("app", fixture_library),
    ("targets_db", targets_library),
    ("search_db", search_library),
    ("library", fixture_library),
    ("engine", migrated),
]


def _run_folder(config) -> Path:
    """The run's temporary folder, the same for every xdist worker (a worker's basetemp lies inside it)."""
    base = config._tmp_path_factory.getbasetemp()
    return base.parent if hasattr(config, "workerinput") else base


@pytest.fixture(scope="session")
def templates(request, tmp_path_factory):
    t = Templates(tmp_path_factory.mktemp("templates"), shared=_run_folder(request.config))
    yield t
    t.close()


def pytest_xdist_auto_num_workers(config):
    """`-n auto` (pyproject's addopts): one worker more than the machine has cores. Tests spend part of their
    time waiting on PostgreSQL, Chromium and the processes they start; with two workers on two cores the
    cores were idle for a tenth of the run, with three the run took 253 s instead of 273 s (four: 279 s)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own reading of it
    return len(os.sched_getaffinity(0)) + 1


# Tests allocate a great deal that dies with the test (apps, sessions, rows, responses): the collector's default
# young-generation threshold (700) ran ~13,000 collections per worker a run. Measured back to back on one
# machine, 10,000 takes the suite from 134 s to 127 s.
gc.set_threshold(10_000, 10, 10)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    yield
    # What a test left alive once its fixtures are gone (imported modules, pypinyin's and jieba's dictionaries,
    # caches) stays for the process's life; freezing it spares every later full collection from walking it.
    gc.collect()
    gc.freeze()


def pytest_sessionstart(session):
    # clear databases an interrupted run left behind; once, before xdist's workers start
    if PG_URL and not hasattr(session.config, "workerinput"):
        t = Templates(Path("."))
        t.drop_leftovers()
        t.close()


def pytest_sessionfinish(session):
    # the template databases the workers shared; by the controller, once they have all finished
    if PG_URL and not hasattr(session.config, "workerinput"):
        t = Templates(Path("."), shared=_run_folder(session.config))
        t.drop_run_templates()
        t.close()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def _recipe(request):
    return next((r for name, r in PREPARED if name in request.fixturenames), None)


@pytest.fixture
def database_url(request, backend, tmp_path, templates):
    """This test's database: a copy of the template its fixtures call for, or an empty one."""
    recipe = _recipe(request)
    url = templates.copy(backend, recipe, tmp_path) if recipe else templates.empty(backend, tmp_path)
    yield url
    templates.drop(url)


@pytest.fixture
def engine(database_url):
    eng = kbdb.make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    with kbdb.session(engine) as s:
        yield s


@pytest.fixture
def library(session):
    """The small fixture library, published as 2024.1 (prepared in the template)."""
    return session


@pytest.fixture
def targets_db(session):
    """The fixture library plus the recommend/check overlay, published as 2024.1."""
    return session


@pytest.fixture
def seeded_db(session):
    """The real library of indicators/, published as 2024.1."""
    return session


@pytest.fixture
def search_db(session):
    """tests/fixtures/search_library, published as 2024.1."""
    return session


@pytest.fixture
def app(request, backend, database_url, tmp_path, templates):
    from server.app import create_app

    # the current version's search index and snapshot file, built once per template
    templates.copy_derived(backend, _recipe(request), tmp_path)
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path)})
    yield app
    app.extensions["zhibiao.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def search_index(request, backend, tmp_path, templates):
    """tmp_path/index holding the search index of the test's template's current version, copied
    rather than built (the seeded library's takes seconds); kb.search opens it as it would its own."""
    templates.copy_derived(backend, _recipe(request), tmp_path)
    return tmp_path / "index"


@pytest.fixture
def make_app(request, backend, database_url, tmp_path, templates):
    """For tests that need an app with settings of their own (or made after they changed the draft):
    make_app(**settings) builds one on this test's database, with the template's search index copied
    in rather than built again (the seeded library's takes seconds)."""
    from server.app import create_app

    made = []

    def _make(**settings):
        if not (tmp_path / "index").exists():
            templates.copy_derived(backend, _recipe(request), tmp_path)
        made.append(create_app({"TESTING": True, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), **settings}))
        return made[-1]

    yield _make
    for built in made:
        built.extensions["zhibiao.engine"].dispose()


# --- one app per module and backend, for modules whose tests only read ---------------------------------
# A module opts in by overriding `client` (or `targets_client`) with the shared one.

def _shared_app(backend, recipe, templates, tmp_path_factory):
    from server.app import create_app

    where = tmp_path_factory.mktemp("shared-app")
    url = templates.copy(backend, recipe, where)
    templates.copy_derived(backend, recipe, where)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "DATA_DIR": str(where)})
    yield app
    app.extensions["zhibiao.engine"].dispose()
    templates.drop(url)


def shared_library(backend, recipe, templates, tmp_path_factory):
    """(session, index folder) on one copy of `recipe`'s template for a whole module: for modules whose
    tests only read the library (a copy and an index per test cost more than most such tests)."""
    where = tmp_path_factory.mktemp("shared-library")
    url = templates.copy(backend, recipe, where)
    templates.copy_derived(backend, recipe, where)
    engine = kbdb.make_engine(url)
    try:
        with kbdb.session(engine) as s:
            yield s, where / "index"
    finally:
        engine.dispose()
        templates.drop(url)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_app(request, templates, tmp_path_factory):
    """The fixture library (2024.1), one app for a whole module on each backend: for tests that only read."""
    yield from _shared_app(request.param, fixture_library, templates, tmp_path_factory)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_targets_app(request, templates, tmp_path_factory):
    """As `targets_app` (2024.1 fixture, 2024.2 with the targets overlay), shared by a module's read-only tests."""
    yield from _shared_app(request.param, targets_app_library, templates, tmp_path_factory)


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

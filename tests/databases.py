"""Prepared test databases: each is built once per backend and test run (the
xdist workers share it: the first to need it builds it under a file lock in the
run's temporary folder, the other waits and reuses it), then copied for every
test that asks for it, so a test never pays for migrations, a library load and
a publish it did not change.

A recipe is a function that fills an empty database given its URL.

- SQLite: the template is a file; a test gets a copy of it.
- PostgreSQL: the template is a database no test connects to, holding the
  recipe's rows and a pristine copy of them in a schema of its own (`tpl`).
  CREATE DATABASE … TEMPLATE costs a tenth of a second or more, more than most
  tests, so each test process keeps a small pool of copies per recipe; when a
  test is done its database is put back the way the recipe left it (TRUNCATE,
  then INSERT … SELECT from `tpl`, then the sequences) in the background, and
  the next test takes it; a copy the test only read (triggers note every write
  in `tpl.written`) goes back as it is. A database without a recipe is reset by
  recreating its `public` schema.
- The search index and the snapshot file of a template's current version are built once per run too.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psycopg
from sqlalchemy.engine import make_url

from kb import db as kbdb
from kb.library import snapshot

PG_URL = os.environ.get("ZHIBIAO_TEST_DATABASE_URL", "")
# Every database the suite creates starts with this, so a run can clear what
# an interrupted one left behind. The checkout's path is part of it: two
# checkouts testing against one server at once (a worktree beside main) must
# not clear each other's databases.
PREFIX = "zbt_" + hashlib.sha1(str(Path(__file__).resolve().parent).encode()).hexdigest()[:6] + "_"
TEMPLATE_SCHEMA = "tpl"

Recipe = Callable[[str], None]


def pg_url(database: str) -> str:
    # Test databases are thrown away: commits need not wait for the disk.
    url = make_url(PG_URL).set(database=database)
    url = url.update_query_dict({"options": "-csynchronous_commit=off"})
    return url.render_as_string(hide_password=False)


def _conninfo(database: str) -> str:
    url = make_url(PG_URL).set(database=database, drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _recipe_key(recipe: Recipe | None) -> str:
    return f"{recipe.__module__}.{recipe.__qualname__}" if recipe else "empty"


@contextmanager
def _locked(path: Path):
    """Hold an exclusive lock on `path` (a file beside what it guards) across processes."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class _Pool:
    """The databases of one recipe: free ones, and those being reset."""
    recipe: Recipe | None
    free: list[str] = field(default_factory=list)
    resetting: list[Future] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # in foreign-key order
    sequences: dict[str, int | None] = field(default_factory=dict)


class Templates:
    def __init__(self, root: Path, shared: Path | None = None):
        self.root = root  # this process's
        self.shared = shared or root  # the run's: templates every worker may use
        self.run = hashlib.sha1(str(self.shared.resolve()).encode()).hexdigest()[:6]
        self.sqlite: dict[str, str] = {}  # recipe key → template file
        self.derived: dict[str, Path] = {}  # recipe key → its built index and snapshot folders
        self.pools: dict[str, _Pool] = {}
        self.owner: dict[str, str] = {}  # database name → recipe key
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db")

    # --- PostgreSQL administration ---------------------------------------------------------

    @staticmethod
    def _execute(database: str, *statements: str, params: dict | None = None) -> list:
        with psycopg.connect(_conninfo(database), autocommit=True) as conn:
            rows = []
            for sql in statements:
                cur = conn.execute(sql, params)
                if cur.description:
                    rows.extend(cur.fetchall())
            return rows

    def _admin(self, *statements: str, params: dict | None = None) -> list:
        return self._execute(make_url(PG_URL).database, *statements, params=params)

    def drop_leftovers(self) -> None:
        """Databases of an earlier, interrupted run (called once, before any worker starts)."""
        for (name,) in self._admin("SELECT datname FROM pg_database WHERE datname LIKE %(p)s", params={"p": PREFIX + "%"}):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # --- what tests ask for ----------------------------------------------------------------------

    def empty(self, backend: str, where: Path) -> str:
        """An empty database."""
        if backend == "sqlite":
            return kbdb.sqlite_url(where / f"test-{uuid.uuid4().hex[:8]}.sqlite3")
        return pg_url(self._checkout(None))

    def copy(self, backend: str, recipe: Recipe, where: Path) -> str:
        """A private copy of the database `recipe` builds."""
        if backend == "sqlite":
            target = where / f"test-{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copyfile(self._sqlite_template(recipe), target)
            return kbdb.sqlite_url(target)
        return pg_url(self._checkout(recipe))

    def drop(self, url: str) -> None:
        """The test is done with this database: a PostgreSQL one is reset for the next (in the background)."""
        if not url.startswith("postgresql"):
            return
        # the query log's writer thread must not write this test's searches into the next test's database
        from kb.search import querylog

        querylog.discard()
        name = make_url(url).database
        pool = self.pools[self.owner[name]]
        pool.resetting.append(self._background.submit(self._reset, pool, name))

    def copy_derived(self, backend: str, recipe: Recipe | None, data_dir: Path) -> None:
        """Put what an app derives from the template's current version into its DATA_DIR, built once per run:
        the default engine's search index (`index/`) and the version's snapshot file (`snapshots/`). Both are
        keyed by the version's content hash, which every copy shares; a test that publishes gets its own."""
        if recipe is None:
            return
        key = _recipe_key(recipe)
        if key not in self.derived:
            built = self.shared / f"derived-{recipe.__name__}"
            with _locked(self.shared / f"derived-{recipe.__name__}.lock"):
                if not built.exists():
                    self._build_derived(backend, recipe, built)
            self.derived[key] = built
        built = self.derived[key]
        shutil.copytree(built / "index", data_dir / "index")
        # written once and never changed in place (kb.library.snapshot replaces a file whole): a link will do
        (data_dir / "snapshots").mkdir(parents=True, exist_ok=True)
        for stored in (built / "snapshots").glob(f"*{snapshot.STORE_SUFFIX}"):
            os.link(stored, data_dir / "snapshots" / stored.name)

    def _build_derived(self, backend: str, recipe: Recipe, built: Path) -> None:
        from kb.library import versions
        from kb.search import ensure_index

        partial = built.with_name(f"partial-{uuid.uuid4().hex[:6]}")
        url = self.copy(backend, recipe, self.root)
        engine = kbdb.make_engine(url)
        store = snapshot.STORE_DIR
        try:
            with kbdb.session(engine) as s:
                ensure_index(s, partial / "index")
                snapshot.use_store_dir(partial / "snapshots")
                snapshot.prepare(s, versions.resolve(s))
        finally:
            snapshot.use_store_dir(store)
            engine.dispose()
            self.drop(url)
        partial.rename(built)  # whole or not at all: another worker may be waiting for it

    # --- SQLite ---------------------------------------------------------------------------------

    def _sqlite_template(self, recipe: Recipe) -> str:
        key = _recipe_key(recipe)
        if key not in self.sqlite:
            path = self.shared / f"template-{recipe.__name__}.sqlite3"
            with _locked(self.shared / f"template-{recipe.__name__}.lock"):
                if not path.exists():
                    self._build_sqlite(recipe, path)
            self.sqlite[key] = str(path)
        return self.sqlite[key]

    @staticmethod
    def _build_sqlite(recipe: Recipe, path: Path) -> None:
        partial = path.with_name(f"partial-{uuid.uuid4().hex[:6]}.sqlite3")
        url = kbdb.sqlite_url(partial)
        recipe(url)
        # fold the write-ahead log into the file, so a plain copy holds everything. The file stays in WAL mode, as
        # the app leaves every database: a copy in another mode is switched by its first connection, and that
        # switch takes an exclusive lock that connections opening at the same moment were refused ("database is
        # locked", test_one_writer_builds_a_missing_index: 2 of 50 runs)
        engine = kbdb.make_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()  # the last connection to close removes the (empty) -wal and -shm files
        partial.rename(path)

    # --- PostgreSQL pools -----------------------------------------------------------------------

    def _checkout(self, recipe: Recipe | None) -> str:
        key = _recipe_key(recipe)
        pool = self.pools.setdefault(key, _Pool(recipe))
        pool.resetting = [job for job in pool.resetting if not job.done()]
        if not pool.free and pool.resetting:
            pool.resetting.pop(0).result()  # a reset under way is quicker than a new database
        if pool.free:
            return pool.free.pop()
        name = f"{PREFIX}{_worker()}_{uuid.uuid4().hex[:12]}"
        if recipe is None:
            self._admin(f'CREATE DATABASE "{name}"')
        else:
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template(recipe)}"')
            if not pool.tables:
                self._read_tables(pool, name)
        self.owner[name] = key
        return name

    def _pg_template(self, recipe: Recipe) -> str:
        """The run's template database of `recipe`, built by whichever worker needs it first.
        Nothing connects to it once built: CREATE DATABASE … TEMPLATE refuses a template in use."""
        name = f"{PREFIX}tpl_{self.run}_{recipe.__name__}"[:63]
        built = self.shared / f"pg-{recipe.__name__}.built"
        with _locked(self.shared / f"pg-{recipe.__name__}.lock"):
            if not built.exists():
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
                recipe(pg_url(name))
                self._keep_pristine_rows(name)
                built.touch()
        return name

    @staticmethod
    def _public_tables(name: str) -> list[str]:
        from sqlmodel import SQLModel

        import kb.models  # noqa: F401  (registers the tables)

        present = {t for (t,) in Templates._execute(name, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        ordered = [t.name for t in SQLModel.metadata.sorted_tables if t.name in present]
        return ordered + sorted(present - set(ordered))

    def _read_tables(self, pool: _Pool, name: str) -> None:
        pool.tables = self._public_tables(name)
        pool.sequences = self._sequences(name)

    @staticmethod
    def _sequences(name: str) -> dict[str, int | None]:
        """Each sequence of the database's `public` schema and where it stands (None: never used)."""
        return dict(Templates._execute(
            name, "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"))

    def _keep_pristine_rows(self, name: str) -> None:
        tables = self._public_tables(name)
        self._execute(name, f"CREATE SCHEMA {TEMPLATE_SCHEMA}",
                      *(f'CREATE TABLE {TEMPLATE_SCHEMA}."{t}" AS TABLE public."{t}"' for t in tables))
        self._mark_writes(name, tables)

    @staticmethod
    def _mark_writes(name: str, tables: list[str]) -> None:
        """Any write to the database's rows or schema leaves a row in tpl.written, so that a test which only read
        its copy gives it back without a reset (most tests only read; a reset of the seeded library costs a quarter
        of a second of the server's time). Statement triggers on every table, and an event trigger for DDL."""
        mark = f"INSERT INTO {TEMPLATE_SCHEMA}.written DEFAULT VALUES"
        Templates._execute(
            name,
            f"CREATE TABLE {TEMPLATE_SCHEMA}.written (at timestamptz NOT NULL DEFAULT now())",
            f"CREATE FUNCTION {TEMPLATE_SCHEMA}.row_written() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {mark}; RETURN NULL; END $$",
            f"CREATE FUNCTION {TEMPLATE_SCHEMA}.schema_written() RETURNS event_trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {mark}; END $$",
            *(f'CREATE TRIGGER zz_test_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public."{t}" '
              f"FOR EACH STATEMENT EXECUTE FUNCTION {TEMPLATE_SCHEMA}.row_written()" for t in tables),
            f"CREATE EVENT TRIGGER zz_test_schema_written ON ddl_command_end "
            f"EXECUTE FUNCTION {TEMPLATE_SCHEMA}.schema_written()",
        )

    def _untouched(self, pool: _Pool, name: str) -> bool:
        """Nothing was written to this copy since it was made or last reset, and no sequence moved
        (a failed INSERT moves one without writing a row)."""
        written = self._execute(name, f"SELECT EXISTS (SELECT 1 FROM {TEMPLATE_SCHEMA}.written)")[0][0]
        if written:
            return False
        return self._sequences(name) == pool.sequences

    def _reset(self, pool: _Pool, name: str) -> None:
        # connections a test left open would hold locks the reset waits for
        self._admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %(d)s AND pid <> pg_backend_pid()", params={"d": name})
        if pool.recipe is None:
            self._execute(name, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
        elif not self._untouched(pool, name):
            tables = ", ".join(f'public."{t}"' for t in pool.tables)
            statements = [f"TRUNCATE {tables}"]
            statements += [f'INSERT INTO public."{t}" SELECT * FROM {TEMPLATE_SCHEMA}."{t}"' for t in pool.tables]
            statements += [f"SELECT setval('public.\"{seq}\"', {value}, true)" if value is not None
                           else f"ALTER SEQUENCE public.\"{seq}\" RESTART" for seq, value in pool.sequences.items()]
            statements += [f"TRUNCATE {TEMPLATE_SCHEMA}.written"]  # the reset's own writes are no test's
            self._execute(name, "BEGIN", *statements, "COMMIT")
        pool.free.append(name)

    def close(self) -> None:
        for pool in self.pools.values():
            for job in pool.resetting:
                job.result()
        self._background.shutdown()
        drop_later(list(self.owner))

    def drop_run_templates(self) -> None:
        """The run's template databases (once every worker is done with them)."""
        rows = self._admin("SELECT datname FROM pg_database WHERE datname LIKE %(p)s",
                           params={"p": f"{PREFIX}tpl_{self.run}_%"})
        drop_later([name for (name,) in rows])


def drop_later(names: list[str]) -> None:
    """DROP DATABASE forces a checkpoint: up to 4 s each on this kind of machine, ~45 s for a worker's pools
    at the end of a full run. A detached process drops them after the run has ended; a run that starts
    meanwhile clears whatever is left (drop_leftovers)."""
    if not names:
        return
    script = ("import psycopg, sys\n"
              "with psycopg.connect(sys.argv[1], autocommit=True) as c:\n"
              "    for name in sys.argv[2:]:\n"
              "        c.execute(f'DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)')\n")
    subprocess.Popen([sys.executable, "-c", script, _conninfo(make_url(PG_URL).database), *names],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

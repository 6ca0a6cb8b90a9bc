"""Prepared test databases: each is built once per backend and test process,
then copied for every test that asks for it, so a test never pays for
migrations, a library load and a publish it did not change.

A recipe is a function that fills an empty database given its URL.

- SQLite: the template is a file; a test gets a copy of it.
- PostgreSQL: CREATE DATABASE … TEMPLATE costs a quarter of a second of disk
  writes, more than most tests. So each test process keeps a small pool of
  databases per recipe, each holding a pristine copy of the recipe's rows in a
  schema of its own (`tpl`); when a test is done its database is put back the
  way the recipe left it (TRUNCATE, then INSERT … SELECT from `tpl`, then the
  sequences) in the background, and the next test takes it. A database
  without a recipe is reset by recreating its `public` schema.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psycopg
from sqlalchemy.engine import make_url

from kb import db as kbdb

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


@dataclass
class _Pool:
    """The databases of one recipe: free ones, and those being reset."""
    recipe: Recipe | None
    free: list[str] = field(default_factory=list)
    resetting: list[Future] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # in foreign-key order
    sequences: dict[str, int | None] = field(default_factory=dict)


class Templates:
    def __init__(self, root: Path):
        self.root = root
        self.sqlite: dict[str, str] = {}  # recipe key → template file
        self.indexes: dict[str, str] = {}  # recipe key → a built index folder
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
        name = make_url(url).database
        pool = self.pools[self.owner[name]]
        pool.resetting.append(self._background.submit(self._reset, pool, name))

    def copy_index(self, backend: str, recipe: Recipe | None, index_dir: Path) -> None:
        """Put the default engine's index of the template's current version into `index_dir`
        (it is keyed by the version's content hash, which every copy shares)."""
        if recipe is None:
            return
        key = _recipe_key(recipe)
        if key not in self.indexes:
            from kb.search import ensure_index

            built = self.root / f"index-{recipe.__name__}-{uuid.uuid4().hex[:6]}" / "index"
            url = self.copy(backend, recipe, self.root)
            engine = kbdb.make_engine(url)
            try:
                with kbdb.session(engine) as s:
                    ensure_index(s, built)
            finally:
                engine.dispose()
                self.drop(url)
            self.indexes[key] = str(built)
        shutil.copytree(self.indexes[key], index_dir)

    # --- SQLite ---------------------------------------------------------------------------------

    def _sqlite_template(self, recipe: Recipe) -> str:
        key = _recipe_key(recipe)
        if key not in self.sqlite:
            path = self.root / f"template-{recipe.__name__}-{uuid.uuid4().hex[:6]}.sqlite3"
            url = kbdb.sqlite_url(path)
            recipe(url)
            # fold the write-ahead log into the file, so a plain copy holds everything
            engine = kbdb.make_engine(url)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
            engine.dispose()
            self.sqlite[key] = str(path)
        return self.sqlite[key]

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
        self._admin(f'CREATE DATABASE "{name}"')
        if recipe is not None:
            recipe(pg_url(name))
            self._keep_pristine_rows(pool, name)
        self.owner[name] = key
        return name

    def _keep_pristine_rows(self, pool: _Pool, name: str) -> None:
        from sqlmodel import SQLModel

        import kb.models  # noqa: F401  (registers the tables)

        if not pool.tables:
            present = {t for (t,) in self._execute(name, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
            ordered = [t.name for t in SQLModel.metadata.sorted_tables if t.name in present]
            pool.tables = ordered + sorted(present - set(ordered))
            pool.sequences = {
                seq: value for seq, value in self._execute(
                    name, "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")}
        self._execute(name, f"CREATE SCHEMA {TEMPLATE_SCHEMA}",
                      *(f'CREATE TABLE {TEMPLATE_SCHEMA}."{t}" AS TABLE public."{t}"' for t in pool.tables))

    def _reset(self, pool: _Pool, name: str) -> None:
        # connections a test left open would hold locks the reset waits for
        self._admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %(d)s AND pid <> pg_backend_pid()", params={"d": name})
        if pool.recipe is None:
            self._execute(name, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
        else:
            tables = ", ".join(f'public."{t}"' for t in pool.tables)
            statements = [f"TRUNCATE {tables}"]
            statements += [f'INSERT INTO public."{t}" SELECT * FROM {TEMPLATE_SCHEMA}."{t}"' for t in pool.tables]
            statements += [f"SELECT setval('public.\"{seq}\"', {value}, true)" if value is not None
                           else f"ALTER SEQUENCE public.\"{seq}\" RESTART" for seq, value in pool.sequences.items()]
            self._execute(name, "BEGIN", *statements, "COMMIT")
        pool.free.append(name)

    def close(self) -> None:
        for pool in self.pools.values():
            for job in pool.resetting:
                job.result()
        self._background.shutdown()
        if self.owner:
            # DROP DATABASE forces a checkpoint: about 4 s each on this kind of machine, ~45 s for a worker's
            # pools at the end of a full run. A detached process drops them after the run has ended; a run
            # that starts meanwhile clears whatever is left (drop_leftovers).
            script = ("import psycopg, sys\n"
                      "with psycopg.connect(sys.argv[1], autocommit=True) as c:\n"
                      "    for name in sys.argv[2:]:\n"
                      "        c.execute(f'DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)')\n")
            subprocess.Popen([sys.executable, "-c", script, _conninfo(make_url(PG_URL).database), *self.owner],
                             start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

"""One engine per app, one session per request (as flaskr's db.py)."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from kb import db as kbdb
from kb.errors import KbError
from kb.library import snapshot, versions


class DatabaseMissing(KbError):
    status = 503
    error = "database_not_initialized"
    meaning = "数据库尚未初始化（须先运行 zhibiao init）"


def engine() -> Engine:
    return current_app.extensions["zhibiao.engine"]


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = kbdb.session(engine())
    return g.db_session


def close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return Path(parsed.database)
    return None


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    app.extensions["zhibiao.engine"] = kbdb.make_engine(url)
    app.teardown_appcontext(close_session)
    # published versions' indicators, one file per version that the workers share (kb.library.snapshot)
    snapshot.use_store_dir(Path(app.config["DATA_DIR"]) / "snapshots")


def index_dir(app: Flask | None = None) -> Path:
    """Where the app's search indexes live (DATA_DIR/index: one per version and engine). The one place
    that says so, for the API, the pages, the command line and the warm-up alike."""
    return Path((app or current_app).config["DATA_DIR"]) / "index"


def version_cache() -> versions.VersionCache:
    """This app's resolved versions, kept for a second (kb.library.versions.VersionCache): a read, through the
    API or a public page, costs no query to find "current", and a version published on another node is still
    served within MAX_AGE."""
    cache = current_app.extensions.get("zhibiao.versions")
    if cache is None:
        cache = current_app.extensions.setdefault("zhibiao.versions", versions.VersionCache())
    return cache


def resolve_version(label: str | None = None) -> versions.VersionRef:
    """A version by label ("current" when None; "draft"), through the app's VersionCache."""
    return version_cache().resolve(get_session(), label)


def require_schema() -> None:
    """Refuse to work on a database that `zhibiao init` has not set up.

    Once seen, the schema is remembered for the app's life: it is checked on
    every request, and a schema does not go away under a running server."""
    if current_app.extensions.get("zhibiao.schema_seen"):
        return
    path = sqlite_path(current_app.config["DATABASE_URL"])
    if (path is not None and not path.exists()) or not kbdb.has_schema(engine()):
        raise DatabaseMissing("数据库尚未初始化，请先运行 zhibiao init")
    current_app.extensions["zhibiao.schema_seen"] = True

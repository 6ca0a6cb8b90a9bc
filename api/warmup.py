"""Warm a freshly forked worker: tokenizer loaded, current index opened, so
the first user after a (re)start does not pay for it."""
from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask

from kb import db as kbdb
from kb.search import warm_up as warm_search


def warm_up(app: Flask) -> None:
    with app.app_context():
        engine = app.extensions["zhibiao.engine"]
        if not kbdb.has_schema(engine):
            return
        with kbdb.session(engine) as session:
            warm_search(session, Path(app.config["DATA_DIR"]) / "index")
    # Suggest and check read a whole snapshot of the version (seconds at 100k
    # indicators): load it beside the first requests instead of inside one.
    threading.Thread(target=_load_snapshot, args=(engine,), daemon=True, name="snapshot-warmup").start()


def _load_snapshot(engine) -> None:
    from kb import snapshot

    with kbdb.session(engine) as session:
        snapshot.load(session, None)

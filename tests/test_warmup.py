"""A worker's warm-up (gunicorn's post_worker_init): index open; completion
table and snapshot loaded in the background, then set aside from the
garbage collector."""
from __future__ import annotations

import gc
from pathlib import Path

from server.warmup import warm_up
from kb import db as kbdb
from kb.library import snapshot
from kb.search import open_index


def test_warm_up_loads_the_snapshot_and_freezes_it(app):
    snapshot._cache.clear()
    try:
        thread = warm_up(app)
        assert thread is not None
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert any(key[2] == "2024.1" for key in snapshot._cache)
        assert gc.get_freeze_count() > 0
        with kbdb.session(app.extensions["zhibiao.engine"]) as session:
            opened = open_index(session, Path(app.config["DATA_DIR"]) / "index", None)
        assert opened._completion is not None  # typeahead's first user does not load it
    finally:
        gc.unfreeze()

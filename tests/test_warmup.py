"""A worker's warm-up (gunicorn's post_worker_init): index open, snapshot
loaded in the background, then set aside from the garbage collector."""
from __future__ import annotations

import gc

from api.warmup import warm_up
from kb import snapshot


def test_warm_up_loads_the_snapshot_and_freezes_it(app):
    snapshot._cache.clear()
    try:
        thread = warm_up(app)
        assert thread is not None
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert any(key[2] == "2024.1" for key in snapshot._cache)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()

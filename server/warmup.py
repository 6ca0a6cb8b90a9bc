"""Warm a freshly forked worker: tokenizer loaded, current index opened, so
the first user after a (re)start does not pay for it."""
from __future__ import annotations

import ctypes
import gc
import os
import threading

from flask import Flask

from server.db import index_dir
from kb import db as kbdb
from kb.search import warm_up as warm_search


M_ARENA_MAX = -8  # glibc's mallopt parameter
MALLOC_ARENAS = 2


def warm_up(app: Flask) -> threading.Thread | None:
    limit_malloc_arenas()
    with app.app_context():
        engine = app.extensions["zhibiao.engine"]
        if not kbdb.has_schema(engine):
            return None
        with kbdb.session(engine) as session:
            opened = warm_search(session, index_dir(app))
    # The completion table (typeahead and did-you-mean use it) and the snapshot
    # suggest and check read (a second at 100k indicators, seconds more when its
    # file has to be written first): loaded beside the first requests instead of
    # inside one of them.
    thread = threading.Thread(target=_load_rest, args=(engine, opened), daemon=True, name="warm-up")
    thread.start()
    return thread


def _load_rest(engine, opened) -> None:
    from kb.library import snapshot

    if opened is not None:
        opened.completion  # noqa: B018 - the property loads it
    with kbdb.session(engine) as session:
        snap = snapshot.load(session, None)
    # the cases' vectors and their rows tied to library indicators: seconds with thousands of cases
    from kb.targets.cases import case_index

    case_index(snap)
    # the place names suggest strips from a project's text (jieba's dictionary, read once: 0.8 s)
    from kb.targets.places import gazetteer

    gazetteer()
    settle()


def settle() -> None:
    """What the warm-up built stays for the worker's life. Keep the garbage
    collector from walking it again and again (at 100k indicators a full
    collection took 0.7 s, inside whichever request set it off), and give
    the memory freed after parsing back to the system."""
    gc.collect()
    gc.freeze()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory stays with the process
        pass


def limit_malloc_arenas() -> None:
    """glibc gives threads that allocate at once malloc arenas of their own (up to 8 per core), and memory freed
    in one arena is not reused by another: the worker's threads take turns running requests, and at 100k
    indicators the arenas held ~20 MB more RSS per worker after a load run (300 → 278 MB). Requests run one at a
    time per worker (server.workers, ZHIBIAO_APP_SLOTS), so two arenas cost nothing. Called before the worker's
    threads start; MALLOC_ARENA_MAX in the environment, when set, is left as it is."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):  # not glibc
        pass

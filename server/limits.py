"""Rate limits (flask-limiter), counted per API key or, without one, per address.

Two limits, both from the environment: ZHIBIAO_RATE_LIMIT for all requests of
one client to the API together, and ZHIBIAO_RATE_LIMIT_COSTLY per costly
endpoint (views marked `@costly`: suggest, check, import, publish …).
Both cover the pages' JSON and .xlsx endpoints and the search page too
(server.paths.is_limited_path): a page is no softer than the API.

Counters live in Redis when ZHIBIAO_REDIS_URL is set, so that every worker and
node counts together. Without Redis each worker counts in its own memory, so
each worker's limit is the configured one divided by the number of workers
(gunicorn.conf.py passes it as ZHIBIAO_WORKER_PROCESSES): one machine's
workers together allow about the configured rate. A limit of "" or "off"
disables it.
"""
from __future__ import annotations

import re

from flask import Flask
from flask_limiter import Limiter

from server.paths import is_limited_path, view_method

COSTLY_ATTR = "_zhibiao_costly"
OFF = ("", "0", "off", "none", "false")


def costly(func):
    """Mark a view method as costly: it also counts against ZHIBIAO_RATE_LIMIT_COSTLY."""
    setattr(func, COSTLY_ATTR, True)
    return func


def _is_costly() -> bool:
    return is_limited_path() and bool(getattr(view_method(), COSTLY_ATTR, False))


def _setting(value: str | None) -> str | None:
    return None if (value or "").strip().lower() in OFF else value.strip()


_LIMIT_RE = re.compile(r"^\s*(\d+)\s*(/|per\s)\s*(.+?)\s*$")


def per_worker(limit: str | None, workers: int) -> str | None:
    """"600 per minute" with 3 workers counting apart → "200 per minute" (at least 1)."""
    if not limit or workers <= 1:
        return limit
    parts = []
    for item in limit.split(";"):
        m = _LIMIT_RE.match(item)
        if not m:
            return limit  # a form we do not know: leave it to flask-limiter to read (or refuse)
        parts.append(f"{max(1, int(m.group(1)) // workers)} per {m.group(3)}")
    return "; ".join(parts)


def storage_uri(redis_url: str) -> str:
    return redis_url.strip() if redis_url and redis_url.strip() else "memory://"


def init_app(app: Flask) -> Limiter:
    overall = _setting(app.config.get("RATE_LIMIT"))
    per_costly = _setting(app.config.get("RATE_LIMIT_COSTLY"))
    if not (app.config.get("REDIS_URL") or "").strip():
        workers = int(app.config.get("WORKER_PROCESSES") or 1)
        overall, per_costly = per_worker(overall, workers), per_worker(per_costly, workers)
    from api.auth import client_id  # a key counts as its own client

    limiter = Limiter(
        key_func=client_id,
        application_limits=[overall] if overall else [],
        application_limits_exempt_when=lambda: not is_limited_path(),
        default_limits=[per_costly] if per_costly else [],
        default_limits_exempt_when=lambda: not _is_costly(),
        storage_uri=storage_uri(app.config.get("REDIS_URL", "")),
        # Redis failing must not take the API down: count in memory meanwhile.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        headers_enabled=True,
        key_prefix=app.config.get("RATE_LIMIT_KEY_PREFIX", "zhibiao"),
        enabled=bool(overall or per_costly),
    )
    limiter.init_app(app)
    app.extensions["zhibiao.limiter"] = limiter
    return limiter

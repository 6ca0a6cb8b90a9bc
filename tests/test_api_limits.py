"""Rate limits: 429 with Retry-After and the JSON error shape, in memory and in Redis."""
from __future__ import annotations

import uuid

import pytest

from server.app import create_app
from tests.api_helpers import assert_error, bearer, make_key

REDIS_URL = "redis://127.0.0.1:6379/0"


def _app_like(app, **config):
    """Another app (another worker) on the same database, with other settings."""
    return create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "DATA_DIR": app.config["DATA_DIR"], **config})


def _redis():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return client


def _assert_limited(resp):
    body = assert_error(resp, 429)
    assert "请求过于频繁" in body["message"]
    retry = int(resp.headers["Retry-After"])
    assert 0 <= retry <= 60


def test_memory_limit_answers_429_with_retry_after(app):
    limited = _app_like(app, RATE_LIMIT="3 per minute")
    client = limited.test_client()
    for _ in range(3):
        resp = client.get("/api/v1/systems")
        assert resp.status_code == 200
        assert resp.headers["X-RateLimit-Limit"] == "3"
    _assert_limited(client.get("/api/v1/taxonomy/sectors"))  # one limit for the whole API


def test_limits_count_per_key_and_per_address(app):
    limited = _app_like(app, RATE_LIMIT="2 per minute")
    client = limited.test_client()
    a, b = bearer(make_key(app, "read", "甲")), bearer(make_key(app, "read", "乙"))
    assert client.get("/api/v1/systems", headers=a).status_code == 200
    assert client.get("/api/v1/systems", headers=a).status_code == 200
    _assert_limited(client.get("/api/v1/systems", headers=a))
    assert client.get("/api/v1/systems", headers=b).status_code == 200
    assert client.get("/api/v1/systems").status_code == 200
    assert client.get("/api/v1/systems", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_page_views_are_not_counted_but_their_json_endpoints_are(app):
    limited = _app_like(app, RATE_LIMIT="1 per minute")
    client = limited.test_client()
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert client.get("/api/v1/systems").status_code == 200
    _assert_limited(client.get("/complete.json?q=资金"))  # the same client's one request a minute is used up
    other = {"REMOTE_ADDR": "10.0.0.8"}
    assert client.get("/search?q=资金", environ_base=other).status_code == 200
    assert client.get("/search?q=资金", environ_base=other).status_code == 429


def test_pages_costly_json_endpoints_have_the_lower_limit(app):
    limited = _app_like(app, RATE_LIMIT="100 per minute", RATE_LIMIT_COSTLY="2 per minute", WTF_CSRF_ENABLED=False)
    client = limited.test_client()
    project = {"project": {"name": "全市财务人员培训"}}
    for _ in range(2):
        assert client.post("/draft/suggest.json", json=project).status_code == 200
    resp = client.post("/draft/suggest.json", json=project)
    assert resp.status_code == 429 and "请求过于频繁" in resp.get_json()["message"]
    assert client.post("/draft/quotas.json", json=project).status_code == 200  # its own count


def test_memory_limits_are_shared_out_among_the_workers(app):
    """Without Redis each worker counts alone: each gets its share, so together they allow the configured rate."""
    limited = _app_like(app, RATE_LIMIT="6 per minute", RATE_LIMIT_COSTLY="3 per minute", WORKER_PROCESSES=3)
    resp = limited.test_client().get("/api/v1/systems")
    assert resp.headers["X-RateLimit-Limit"] == "2"
    shared = _app_like(app, RATE_LIMIT="6 per minute", WORKER_PROCESSES=3, REDIS_URL=REDIS_URL)
    _redis()
    assert shared.test_client().get("/api/v1/systems").headers["X-RateLimit-Limit"] == "6"


def test_costly_endpoints_have_their_own_lower_limit(app):
    limited = _app_like(app, RATE_LIMIT="100 per minute", RATE_LIMIT_COSTLY="1 per minute")
    client = limited.test_client()
    headers = bearer(make_key(app, "curate"))
    doc = {"format": "zhibiao-library", "indicators": []}
    assert client.post("/api/v1/draft/import?dry_run=1", json=doc, headers=headers).status_code == 200
    _assert_limited(client.post("/api/v1/draft/import?dry_run=1", json=doc, headers=headers))
    assert client.get("/api/v1/systems", headers=headers).status_code == 200


def test_limits_can_be_switched_off(app):
    unlimited = _app_like(app, RATE_LIMIT="off", RATE_LIMIT_COSTLY="off")
    client = unlimited.test_client()
    for _ in range(5):
        resp = client.get("/api/v1/systems")
        assert resp.status_code == 200 and "X-RateLimit-Limit" not in resp.headers


def test_redis_limit_is_shared_by_workers(app):
    redis = _redis()
    prefix = f"zhibiao-test-{uuid.uuid4().hex[:8]}"
    settings = dict(RATE_LIMIT="3 per minute", REDIS_URL=REDIS_URL, RATE_LIMIT_KEY_PREFIX=prefix)
    one, two = _app_like(app, **settings).test_client(), _app_like(app, **settings).test_client()
    try:
        assert one.get("/api/v1/systems").status_code == 200
        assert two.get("/api/v1/systems").status_code == 200
        assert one.get("/api/v1/systems").status_code == 200
        _assert_limited(two.get("/api/v1/systems"))
        assert any(redis.scan_iter(f"*{prefix}*")), "the counters should be in Redis"
    finally:
        for key in redis.scan_iter(f"*{prefix}*"):
            redis.delete(key)


def test_an_unreachable_redis_does_not_take_the_api_down(app):
    broken = _app_like(app, RATE_LIMIT="2 per minute", REDIS_URL="redis://127.0.0.1:1/0")
    client = broken.test_client()
    assert client.get("/api/v1/systems").status_code == 200
    assert client.get("/api/v1/systems").status_code == 200
    _assert_limited(client.get("/api/v1/systems"))  # counted in memory meanwhile

"""API keys and accounts (kb.auth), keys on the wire (api.auth), and the
`zhibiao user` / `zhibiao apikey` commands."""
from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug.routing import FloatConverter, IntegerConverter, Rule

from api.auth import SCOPE_ATTR
from server.paths import is_api_path
from kb import auth as kbauth
from kb.errors import Conflict, InvalidInput, NotFound
from kb.models import ApiKey, utcnow
from tests.api_helpers import assert_error, bearer, make_key, publish_job

# Non-GET routes that only read or compute, open like reads (every other write needs curate).
OPEN_POSTS = {
    ("POST", "/api/v1/suggest"),
    ("POST", "/api/v1/targets/check"),
    ("POST", "/api/v1/targets/monitor"),
    ("POST", "/api/v1/targets/evaluate"),
    ("POST", "/api/v1/quotas/estimate"),
    ("POST", "/reconcile"),
}


# --- kb.auth ------------------------------------------------------------------------------

def test_key_is_stored_hashed_and_verifies(session):
    new = kbauth.create_api_key(session, "预算一体化系统", "read,suggest")
    assert new.token.startswith("zb_") and len(new.token) > 40
    stored = session.get(ApiKey, new.key.id)
    assert new.token not in (stored.key_hash, stored.prefix)
    assert stored.key_hash == kbauth.hash_token(new.token)
    assert kbauth.verify_api_key(session, new.token).id == new.key.id
    assert kbauth.verify_api_key(session, new.token[:-1] + ("A" if new.token[-1] != "A" else "B")) is None
    assert kbauth.verify_api_key(session, "zb_" + "x" * 40) is None
    assert kbauth.verify_api_key(session, "") is None


def test_revoked_key_no_longer_verifies(session):
    new = kbauth.create_api_key(session, "临时", "read")
    kbauth.revoke_api_key(session, new.key.id)
    assert kbauth.verify_api_key(session, new.token) is None
    assert session.get(ApiKey, new.key.id).revoked_at is not None
    with pytest.raises(NotFound):
        kbauth.revoke_api_key(session, 9999)


def test_last_used_is_recorded_at_most_once_a_minute(session):
    new = kbauth.create_api_key(session, "k", "read")
    assert new.key.last_used_at is None
    t0 = utcnow()
    kbauth.verify_api_key(session, new.token, now=t0)
    first = session.get(ApiKey, new.key.id).last_used_at
    assert first is not None
    kbauth.verify_api_key(session, new.token, now=t0 + timedelta(seconds=10))
    assert kbauth._aware(session.get(ApiKey, new.key.id).last_used_at) == kbauth._aware(first)
    kbauth.verify_api_key(session, new.token, now=t0 + timedelta(minutes=2))
    assert kbauth._aware(session.get(ApiKey, new.key.id).last_used_at) > kbauth._aware(first)


def test_scopes_are_checked_and_curate_implies_read(session):
    with pytest.raises(InvalidInput):
        kbauth.create_api_key(session, "k", "read,admin")
    with pytest.raises(InvalidInput):
        kbauth.create_api_key(session, "k", "")
    key = kbauth.create_api_key(session, "k", "curate").key
    assert kbauth.has_scope(key, "read") and kbauth.has_scope(key, "curate")
    assert not kbauth.has_scope(key, "suggest")


def test_users_have_hashed_passwords_and_roles(session):
    user = kbauth.create_user(session, "张三", "很长的密码123", "curator")
    assert "很长的密码123" not in user.password_hash
    assert kbauth.authenticate(session, "张三", "很长的密码123").id == user.id
    assert kbauth.authenticate(session, "张三", "错误密码错误密码") is None
    assert kbauth.authenticate(session, "李四", "很长的密码123") is None
    with pytest.raises(Conflict):
        kbauth.create_user(session, "张三", "另一个足够长的密码", "admin")
    with pytest.raises(InvalidInput):
        kbauth.create_user(session, "王五", "short", "admin")
    with pytest.raises(InvalidInput):
        kbauth.create_user(session, "王五", "足够长的密码啊", "drafter")
    kbauth.set_password(session, "张三", "新的足够长的密码")
    assert kbauth.authenticate(session, "张三", "新的足够长的密码") is not None


# --- keys on the wire --------------------------------------------------------------------

def test_reads_are_open_and_writes_need_curate(app, client):
    assert client.get("/api/v1/systems").status_code == 200
    body = assert_error(client.post("/api/v1/versions", json={"label": "2024.2"}), 401)
    assert "curate" in body["message"]
    reader = make_key(app, "read,suggest")
    assert_error(client.post("/api/v1/versions", json={"label": "2024.2"}, headers=bearer(reader)), 403)
    curator = make_key(app, "curate")
    assert publish_job(client, "2024.2", bearer(curator))["status"] == "done"


def test_a_key_never_allows_less_than_no_key(app, client):
    from tests.target_helpers import TRAINING_PROJECT

    reader = bearer(make_key(app, "read"))
    assert client.post("/api/v1/suggest", json={"name": "全市财务人员培训"}).status_code == 200
    assert client.post("/api/v1/suggest", json={"name": "全市财务人员培训"}, headers=reader).status_code == 200
    app.config["REQUIRE_API_KEY"] = True  # then the key's scopes are what counts
    assert_error(client.post("/api/v1/suggest", json={"name": "全市财务人员培训"}, headers=reader), 403)
    assert TRAINING_PROJECT


def test_401_names_the_bearer_scheme(client):
    resp = client.post("/api/v1/versions", json={"label": "2024.2"})
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_or_revoked_key_is_refused_even_on_open_reads(app, client):
    assert_error(client.get("/api/v1/systems", headers=bearer("zb_notarealkey_notarealkey_notarealkey")), 401)
    assert_error(client.get("/api/v1/systems", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)
    token = make_key(app, "read")
    assert client.get("/api/v1/systems", headers=bearer(token)).status_code == 200
    from kb import db as kbdb

    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        key = kbauth.verify_api_key(s, token)
        kbauth.revoke_api_key(s, key.id)
    assert_error(client.get("/api/v1/systems", headers=bearer(token)), 401)


def test_using_a_key_records_last_used(app, client):
    from kb import db as kbdb

    token = make_key(app, "read")
    client.get("/api/v1/systems", headers=bearer(token))
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        assert kbauth.list_api_keys(s)[-1].last_used_at is not None


def test_required_key_mode_closes_reads(app, client):
    app.config["REQUIRE_API_KEY"] = True
    assert_error(client.get("/api/v1/systems"), 401)
    assert client.get("/api/v1/systems", headers=bearer(make_key(app, "read"))).status_code == 200
    assert_error(client.get("/api/v1/systems", headers=bearer(make_key(app, "suggest"))), 403)
    # the API's own documentation stays readable
    assert client.get("/api/openapi.json").status_code == 200


def test_the_draft_is_read_only_with_curate(app, client):
    assert_error(client.get("/api/v1/indicators/T-001?version=draft"), 401)
    assert_error(client.get("/api/v1/indicators/T-001?version=draft", headers=bearer(make_key(app, "read"))), 403)
    resp = client.get("/api/v1/indicators/T-001?version=draft", headers=bearer(make_key(app, "curate")))
    assert resp.status_code == 200 and resp.get_json()["version"] == "draft"


# --- every write route refuses a request without a key ---------------------------------------

def _concrete(rule: Rule) -> str:
    """The rule's URL with placeholder values for its variables."""
    def sample(name):
        converter = rule._converters.get(name)
        if isinstance(converter, (IntegerConverter, FloatConverter)):
            return 1
        return "x.css" if name == "filename" else "T-001"

    values = {name: sample(name) for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def _non_get_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            yield method, rule


def test_every_non_get_route_refuses_a_request_without_a_key(app, client):
    """API writes answer 401 without a key and 403 with a key lacking curate; the pages'
    forms (not the API's business) refuse a request without their CSRF token or login."""
    routes = list(_non_get_routes(app))
    api_routes = [(m, r) for m, r in routes if is_api_path(r.rule)]
    assert len(api_routes) >= 5  # publish, draft create/patch/retire/import at least
    reader = bearer(make_key(app, "read,suggest"))
    for method, rule in routes:
        url = _concrete(rule)
        resp = client.open(url, method=method, json={})
        if not is_api_path(rule.rule):
            assert resp.status_code in (400, 401, 403), f"page {method} {rule.rule} answered {resp.status_code}"
        elif (method, rule.rule) in OPEN_POSTS:
            assert resp.status_code not in (401, 403), f"{method} {rule.rule} should be open like a read"
        else:
            assert resp.status_code == 401, f"{method} {rule.rule} answered {resp.status_code} without a key"
            resp = client.open(url, method=method, json={}, headers=reader)
            assert resp.status_code == 403, f"{method} {rule.rule} answered {resp.status_code} to a read-only key"


def test_with_required_keys_every_non_get_api_route_refuses_without_one(app, client):
    app.config["REQUIRE_API_KEY"] = True
    checked = 0
    for method, rule in _non_get_routes(app):
        if is_api_path(rule.rule):
            resp = client.open(_concrete(rule), method=method, json={})
            assert resp.status_code == 401, f"{method} {rule.rule} answered {resp.status_code} without a key"
            checked += 1
    assert checked >= len(OPEN_POSTS) + 5


def test_open_posts_are_declared_not_defaulted(app):
    """Routes open to anonymous POSTs are exactly the ones listed above, each marked in its view."""
    declared = set()
    for method, rule in _non_get_routes(app):
        if not is_api_path(rule.rule):
            continue
        view = app.view_functions[rule.endpoint]
        func = getattr(getattr(view, "view_class", None), method.lower(), view)
        if getattr(func, SCOPE_ATTR, "curate") in ("read", "suggest"):
            declared.add((method, rule.rule))
    assert declared == OPEN_POSTS


# --- the commands -----------------------------------------------------------------------------

@pytest.fixture
def run(cli, database_url):
    from kb import db as kbdb

    eng = kbdb.make_engine(database_url)
    kbdb.upgrade(eng)
    eng.dispose()
    return cli


def test_apikey_commands_create_list_revoke(run):
    code, out, err = run("apikey", "create", "预算一体化系统", "--scopes", "read,suggest")
    assert code == 0, err
    token = out.strip().splitlines()[-1]
    assert token.startswith("zb_")
    code, out, _ = run("apikey", "list", "--json")
    import json

    keys = json.loads(out)["keys"]
    assert keys[0]["name"] == "预算一体化系统" and keys[0]["scopes"] == ["read", "suggest"]
    assert token not in out and keys[0]["revoked_at"] is None
    code, out, _ = run("apikey", "revoke", str(keys[0]["id"]))
    assert code == 0
    code, out, _ = run("apikey", "list")
    assert "已吊销" in out
    code, _, err = run("apikey", "create", "x", "--scopes", "root")
    assert code == 1 and "未知的权限范围" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("apikey", "revoke", "999")
    assert code == 1 and "999" in err


def test_user_create_takes_the_password_from_the_environment(run, monkeypatch, database_url):
    monkeypatch.setenv("ZHIBIAO_PASSWORD", "足够长的密码2024")
    code, out, err = run("user", "create", "张三", "--role", "curator")
    assert code == 0, err
    code, out, err = run("user", "create", "李四", "--role", "admin", "--password", "另一个足够长的密码")
    assert code == 0, err
    code, _, err = run("user", "create", "张三", "--role", "curator")
    assert code == 1 and "已存在" in err
    from kb import db as kbdb

    eng = kbdb.make_engine(database_url)
    with kbdb.session(eng) as s:
        assert kbauth.authenticate(s, "张三", "足够长的密码2024").role == "curator"
        assert kbauth.authenticate(s, "李四", "另一个足够长的密码").role == "admin"
    code, out, err = run("user", "password", "张三", "--password", "换过的足够长密码")
    assert code == 0 and "会话均已结束" in out, err
    code, out, err = run("user", "role", "张三", "admin")
    assert code == 0 and "admin" in out, err
    code, _, err = run("user", "role", "王五", "admin")
    assert code == 1 and "王五" in err
    with kbdb.session(eng) as s:
        user = kbauth.authenticate(s, "张三", "换过的足够长密码")
        assert user.role == "admin" and user.session_epoch == 2
    eng.dispose()

"""Nothing a stranger sends breaks the service: every route in the URL map
(pages and API), anonymously, with an API key and logged in, gets a corpus of
hostile path values, query parameters and bodies. None may end in a 5xx,
every refusal says why in Chinese, and the draft is unchanged afterwards.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from urllib.parse import quote

import pytest
from sqlmodel import select

from server.app import create_app
from kb import db as kbdb
from kb.library import draft as library
from kb.models import ChangeLog, QueryLog
from tests.api_helpers import bearer, make_key
from tests.test_curator import PASSWORD, login, make_user

CJK = re.compile(r"[\u4e00-\u9fff]")

# --- the corpus ---------------------------------------------------------------------------------------

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000
HUGE_INT = "1" + "0" * 400
JSON_BODIES = {
    "deep array": DEEP_ARRAY,
    "deep object": DEEP_OBJECT,
    "NaN": '{"name": "门诊服务", "budget_wan_yuan": NaN, "limit": NaN}',
    "Infinity": '{"name": "门诊服务", "budget_wan_yuan": Infinity, "limit": -Infinity}',
    "1e999": '{"name": "门诊服务", "budget_wan_yuan": 1e999}',
    "400-digit budget": '{"name": "门诊服务", "budget_wan_yuan": %s, "people": %s, "days": %s}' % (HUGE_INT, HUGE_INT, HUGE_INT),
    "400-digit name": '{"name": %s, "project": {"name": %s}}' % (HUGE_INT, HUGE_INT),
    "lone surrogate": '{"name": "门诊\\ud800项目", "project": {"name": "门诊\\udfff项目"}, "q": "\\ud800"}',
    "NUL": '{"name": "门诊\\u0000项目", "project": {"name": "门诊\\u0000"}, "code": "T-\\u0000"}',
    "project is text": '{"project": "x", "indicators": "y"}',
    "rows are numbers": '{"project": {"name": "某项目"}, "indicators": [1, 2, null]}',
    "fields are lists": '{"project": {"name": ["a"], "budget_wan_yuan": ["1"]}, "name": ["x"], "code": {"a": 1}}',
    "top-level list": "[1, 2, 3]",
    "top-level string": '"门诊"',
    "null": "null",
    "not JSON": '{"name": ',
    "bad UTF-8": b"\xff\xfe{\x00\x00",
    "empty": "",
    "huge text": json.dumps({"name": "门" * 100_000, "description": "诊" * 100_000}),
    "indicator with own code as supersession": json.dumps(
        {"code": "T-HOSTILE", "kind": "specific", "level1": "产出指标", "level2": "数量指标", "name": "自替代指标",
         "sectors": ["21002"], "status": "superseded", "superseded_by": "T-HOSTILE",
         "source": {"document": "测试"}, "provenance": "local"}),
}
FORMS = {
    "superscript year": {"source_year": "²", "year": "²", "target_count": "²", "revision": "²"},
    "5000-digit year": {"source_year": "9" * 5000, "year": "9" * 5000, "revision": "9" * 5000},
    "30-digit revision": {"revision": "9" * 30, "code": "T-001", "name": "门诊人次"},
    "reference value": {"reference_values": "1 | 历史标准 | n | ²", "code": "T-001", "name": "门诊人次"},
    "NUL and surrogate-like": {"name": "门诊\x00", "q": "\x00", "code": "T-\x00", "note": "\ufffd" * 10},
    "huge": {"name": "门" * 5000, "reason": "理" * 5000},
}
QUERY_VALUES = ["\x00", "Infinity", "NaN", "1e999", HUGE_INT, "²", "门" * 300]
QUERY_NAMES = ["q", "limit", "page", "per_page", "version", "sector", "level1", "kind", "code", "id", "queries",
               "prefix", "category", "tier", "days", "people", "budget", "year", "a", "b", "callback", "current"]
HUGE_ID = "99999999999999999999999"


def _path(rule, value: str) -> str:
    """The rule's URL with `value` in its variables (a huge number where it takes an integer)."""
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: HUGE_ID if (m.group(1) or "").startswith("int") else value, rule.rule)


# --- the app --------------------------------------------------------------------------------------------

@pytest.fixture
def hostile_app(app):
    """The fixture library's app without rate limits or CSRF (so bodies reach the views), with a curator."""
    hostile = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "DATA_DIR": app.config["DATA_DIR"],
                          "RATE_LIMIT": "off", "RATE_LIMIT_COSTLY": "off", "WTF_CSRF_ENABLED": False,
                          "PROPAGATE_EXCEPTIONS": False})
    make_user(hostile, "维护员", "curator")
    yield hostile
    hostile.extensions["zhibiao.engine"].dispose()


def _draft_fingerprint(app) -> str:
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        data = {kind: sorted(library.record_data(kind, r).__repr__() for r in library.draft_records(s, kind))
                for kind in library.KINDS}
    return hashlib.sha256(repr(data).encode()).hexdigest()


def _check(resp, where: str, failures: list) -> None:
    if resp.status_code >= 500:
        failures.append(f"{where}: {resp.status_code}")
        return
    if resp.status_code >= 400:
        body = resp.get_data(as_text=True)
        if not CJK.search(body):
            failures.append(f"{where}: {resp.status_code} without a Chinese message: {body[:120]!r}")


def _identities(app) -> dict:
    key = make_key(app, "read,suggest,curate", "恶意测试")
    logged_in = app.test_client()
    assert login(logged_in, "维护员", PASSWORD).status_code == 302
    return {"anonymous": (app.test_client(), {}), "api key": (app.test_client(), bearer(key)),
            "logged in": (logged_in, {})}


def _who(rule) -> list[str]:
    """Who to send as: a key where keys count, a login where logins count, and always a stranger."""
    if rule.rule.startswith(("/api", "/reconcile")):
        return ["anonymous", "api key"]
    if rule.rule.startswith("/curator"):
        return ["anonymous", "logged in"]
    return ["anonymous"]


def _cookie_url(environ) -> str:
    """Where the test client files cookies: the host and the path, without werkzeug's get_current_url, which
    decodes the whole URL to an IRI twice per request (a third of this test's time on 60 KB hostile URLs)."""
    return f"http://{environ.get('HTTP_HOST') or environ.get('SERVER_NAME', 'localhost')}{quote(environ.get('PATH_INFO', ''))}"


def test_no_route_gives_a_server_error_or_changes_the_draft(hostile_app, monkeypatch):
    monkeypatch.setattr("werkzeug.test.get_current_url", _cookie_url)
    before = _draft_fingerprint(hostile_app)
    rules = [r for r in hostile_app.url_map.iter_rules()
             if r.endpoint not in ("static", "curator.logout") and not r.rule.startswith("/api/docs/assets")]
    assert len(rules) >= 60
    identities = _identities(hostile_app)
    failures: list[str] = []
    sent = 0

    def send(who, method, url, **kw):
        nonlocal sent
        client, headers = identities[who]
        resp = client.open(url, method=method, headers={**headers, **kw.pop("headers", {})}, **kw)
        sent += 1
        _check(resp, f"{who} {method} {url[:80]} {kw.get('data', '')!s:.40}", failures)

    for rule in rules:
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for who in _who(rule):
            if rule.arguments:  # hostile path values
                for value in ("%00", "A" * 3000, "%E2%80%AE"):
                    for method in methods:
                        send(who, method, _path(rule, value))
            plausible = _path(rule, "T-001")
            for method in methods:
                if method == "GET":
                    for value in QUERY_VALUES:
                        send(who, "GET", plausible + "?" + "&".join(f"{n}={value}" for n in QUERY_NAMES))
                    continue
                for body in JSON_BODIES.values():
                    send(who, method, plausible, data=body, content_type="application/json", headers={"If-Match": "1"})
                for form in FORMS.values():
                    send(who, method, plausible, data=form, headers={"If-Match": "*"})
                send(who, method, plausible, content_type="multipart/form-data",
                     data={"file": (io.BytesIO(b"PK\x03\x04 not really a workbook"), "表.xlsx")})
    assert sent > 1500
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:80])
    after = _draft_fingerprint(hostile_app)
    if after != before:
        with kbdb.session(hostile_app.extensions["zhibiao.engine"]) as s:
            changes = [(c.kind, c.code, c.action, list(c.changes)[:5]) for c in s.exec(select(ChangeLog))]
        changed = [c for c in changes if c[2] != "create" or c[1] == "T-HOSTILE"]
        raise AssertionError(f"the draft changed: {changed[:10]}")
    with kbdb.session(hostile_app.extensions["zhibiao.engine"]) as s:
        logged = list(s.exec(select(QueryLog.query)))
    assert not any("\x00" in q or re.search(r"[\ud800-\udfff]", q) for q in logged)

"""Every error status the OpenAPI document promises for an operation is one that operation really answers:
for each (path, method, status ≥ 400) of the document there is a request here that gets exactly that
status, with an error body whose `error` is one of the identifiers documented for it. A documented status
with no request here fails, and so does a request for a status the document does not promise.

Requests that only the whole API answers alike (a key that is not valid, a NUL in the query, a body of
the wrong type …) are written once per status (GENERIC) and sent to every operation that documents it;
the rest are one request per operation (TABLE). Nothing here writes: every request is refused."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from server.app import create_app
from api.openapi_doc import examples, scopes
from kb.errors import CODES
from tests.api_helpers import bearer, make_key

# where a request is sent: the fixture library, the same with "1 per day" as rate limit, or a database that is down
SHARED, LIMITED, DOWN = "shared", "limited", "down"


@dataclass(frozen=True)
class Call:
    url: str
    json: object = None
    data: bytes | None = None
    content_type: str | None = None
    key: str | None = "full"  # "full", "none", a key's scopes ("read"), or "invalid"
    headers: dict = field(default_factory=dict)
    app: str = SHARED
    config: dict = field(default_factory=dict)  # settings read per request, changed for this one only


def _with(url: str, query: str) -> str:
    return url + ("&" if "?" in url else "?") + query


def _example(path: str, method: str) -> tuple[str, object]:
    example = examples()[f"{method} {path}"]
    return example["url"], example.get("request")


WEAKER = {"read": "suggest", "suggest": "read", "curate": "read,suggest"}  # a key without the scope needed


def generic(status: str, path: str, method: str, op: dict, scope: str) -> Call | None:
    """The request that gets `status` from any operation documenting it, or None."""
    url, body = _example(path, method)
    query = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    if status == "400":
        return Call(_with(url, "note=%00"), body)  # NUL: refused before anything reads it
    if status == "401":
        return Call(url, body, key="invalid")
    if status == "403":
        return Call(url, body, key=WEAKER[scope], config={"REQUIRE_API_KEY": True})
    if status == "404" and "version" in query:
        return Call(_with(url.split("?")[0], "version=2030.9"), body)
    if status == "413":
        return Call(url, {"note": "大" * 200}, config={"MAX_CONTENT_LENGTH": 256})
    if status == "415":
        return Call(url, data=b"name=x", content_type="text/plain")
    if status == "422" and query:
        return Call(_with(url, "colour=1"), body)  # query strings refuse unknown parameters
    if status == "429":
        return Call(url, body, key="none", app=LIMITED)
    if status == "503":
        return Call(url, body, app=DOWN)  # checking the key needs the database
    return None


STALE, CURRENT = {"If-Match": '"99"'}, {"If-Match": '"1"'}
NEW = {"code": "T-001", "kind": "common", "level1": "产出指标", "level2": "数量指标", "name": "资金到位率",
       "source": {"document": "本库整理"}, "provenance": "local"}
TABLE = {
    ("/api/v1/versions/{label}", "get", "404"): Call("/api/v1/versions/2030.9"),
    ("/api/v1/versions/{a}/diff/{b}", "get", "404"): Call("/api/v1/versions/2024.1/diff/2030.9"),
    ("/api/v1/systems/{code}/rounds", "get", "404"): Call("/api/v1/systems/SYS-NOPE/rounds"),
    ("/api/v1/systems/{code}/rounds/{round_id}", "get", "404"): Call("/api/v1/systems/SYS-DEMO/rounds/999"),
    ("/api/v1/jobs/{job_id}", "get", "404"): Call("/api/v1/jobs/5873260782"),  # beyond PostgreSQL's integer: 404 too
    ("/api/v1/draft/indicators/{code}", "patch", "404"): Call("/api/v1/draft/indicators/T-404", {"unit": "%"},
                                                               headers=CURRENT),
    ("/api/v1/draft/indicators/{code}/retire", "post", "404"): Call("/api/v1/draft/indicators/T-404/retire", {},
                                                                     headers=CURRENT),
    ("/api/v1/versions", "post", "409"): Call("/api/v1/versions", {"label": "2024.1"}),  # published already
    ("/api/v1/draft/indicators", "post", "409"): Call("/api/v1/draft/indicators", NEW),  # the code exists
    ("/api/v1/draft/import", "post", "409"): Call("/api/v1/draft/import", {"format": "zhibiao-library",  # T-001's name
                                                                          "indicators": [{**NEW, "code": "T-099"}]}),
    ("/api/v1/draft/indicators/{code}", "patch", "412"): Call("/api/v1/draft/indicators/T-001", {"unit": "%"},
                                                               headers=STALE),
    ("/api/v1/draft/indicators/{code}/retire", "post", "412"): Call("/api/v1/draft/indicators/T-001/retire", {},
                                                                     headers=STALE),
    ("/api/v1/draft/indicators/{code}", "patch", "428"): Call("/api/v1/draft/indicators/T-001", {"unit": "%"}),
    ("/api/v1/draft/indicators/{code}/retire", "post", "428"): Call("/api/v1/draft/indicators/T-001/retire", {}),
    # operations whose only input is a body: a body that does not validate
    ("/api/v1/versions", "post", "422"): Call("/api/v1/versions", {"label": 2025}),
    ("/api/v1/draft/indicators", "post", "422"): Call("/api/v1/draft/indicators", {"code": "T-050"}),
    ("/api/v1/draft/indicators/{code}", "patch", "422"): Call("/api/v1/draft/indicators/T-001", {"colour": 1},
                                                               headers=CURRENT),
    ("/api/v1/draft/indicators/{code}/retire", "post", "422"): Call("/api/v1/draft/indicators/T-001/retire",
                                                                     {"colour": 1}, headers=CURRENT),
    ("/api/v1/targets/evaluate", "post", "422"): Call("/api/v1/targets/evaluate", {"indicators": "养护里程"}),
}


def documented(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            for status in op["responses"]:
                if status[:1] in ("4", "5"):
                    yield path, method, status, op


@contextmanager
def configured(app, settings: dict):
    before = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    try:
        yield
    finally:
        app.config.update(before)


@pytest.fixture(scope="module")
def apps(shared_app, tmp_path_factory):
    """The shared app, one on the same database allowing one request a day, one whose database is down."""
    settings = {"TESTING": True, "DATA_DIR": shared_app.config["DATA_DIR"]}
    limited = create_app({**settings, "DATABASE_URL": shared_app.config["DATABASE_URL"], "RATE_LIMIT": "1 per day"})
    limited.test_client().get("/api/v1/versions")  # the day's one request
    # nothing listens on port 9 (discard): every connection is refused at once
    down = create_app({**settings, "DATA_DIR": str(tmp_path_factory.mktemp("down")),
                       "DATABASE_URL": "postgresql://zhibiao@127.0.0.1:9/zhibiao"})
    yield {SHARED: shared_app, LIMITED: limited, DOWN: down}
    for app in (limited, down):
        app.extensions["zhibiao.engine"].dispose()


def _send(apps, keys, method: str, call: Call):
    app = apps[call.app]
    headers = dict(call.headers)
    if call.key == "invalid":
        headers.update(bearer("zb_not-a-key"))
    elif call.key != "none":
        headers.update(bearer(keys[call.key]))
    kwargs = {"headers": headers}
    if call.data is not None:
        kwargs.update(data=call.data, content_type=call.content_type)
    elif call.json is not None:
        kwargs["json"] = call.json
    with configured(app, call.config):
        return app.test_client().open(call.url, method=method.upper(), **kwargs)


def test_every_documented_error_status_is_answered(apps):
    shared = apps[SHARED]
    spec = shared.test_client().get("/api/openapi.json").get_json()
    enum = set(spec["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    needed = scopes(shared)
    keys = {scopes: make_key(shared, scopes) for scopes in ("read", "suggest", "read,suggest")}
    keys["full"] = make_key(shared, "read,suggest,curate")
    failures, sent = [], set()
    for path, method, status, op in documented(spec):
        call = TABLE.get((path, method, status)) or generic(status, path, method, op, needed[(path, method)])
        if call is None:
            failures.append(f"{method} {path} {status}: documented, but no request here produces it")
            continue
        sent.add((path, method, status))
        resp = _send(apps, keys, method, call)
        body = resp.get_json(silent=True) or {}
        error = body.get("error")
        if resp.status_code != int(status) or error not in enum or CODES[error][0] != int(status):
            failures.append(f"{method} {path} {status}: {call.url} answered {resp.status_code} {body}")
    assert failures == []
    assert set(TABLE) <= sent, f"requests for statuses not documented: {set(TABLE) - sent}"
    assert len(sent) > 200  # 31 operations, 6 to 12 statuses each

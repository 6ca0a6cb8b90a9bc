"""Helpers for the API tests: keys with chosen scopes, and their headers."""
from __future__ import annotations

from kb import auth as kbauth
from kb import db as kbdb


def make_key(app, scopes: str = "read,suggest,curate", name: str = "测试系统") -> str:
    """A fresh API key's token."""
    with kbdb.session(app.extensions["zhibiao.engine"]) as s:
        return kbauth.create_api_key(s, name, scopes).token


def bearer(token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {token}", **extra}


def curator(app) -> dict:
    return bearer(make_key(app, "read,suggest,curate", "维护"))


def assert_error(resp, status: int, error: str | None = None) -> dict:
    """The JSON error shape every API error has: its `error` one of the catalogue's, for this status."""
    from kb.errors import CODES

    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["code"] == status and body["status"] and body["message"], body
    assert set(body) <= {"code", "error", "status", "message", "errors"}, body
    assert CODES.get(body["error"], (None,))[0] == status, body
    if error is not None:
        assert body["error"] == error, body
    return body


def publish_job(client, label: str, headers: dict, notes: str = "", timeout: float = 60.0) -> dict:
    """Publish through the API as a client does: 202 and a job to poll until it has finished."""
    resp = client.post("/api/v1/versions", json={"label": label, "notes": notes}, headers=headers)
    return finished_job(client, resp, headers, timeout)


def finished_job(client, resp, headers: dict, timeout: float = 60.0) -> dict:
    """The job a 202 answer names (Location: /api/v1/jobs/<id>), polled until it has finished."""
    import time

    assert resp.status_code == 202, resp.get_data(as_text=True)
    location = resp.headers["Location"]
    assert location == f"/api/v1/jobs/{resp.get_json()['id']}"
    assert resp.get_json()["status"] in ("queued", "running", "done", "failed")
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(location, headers=headers).get_json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)

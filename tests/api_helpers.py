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


def assert_error(resp, status: int) -> dict:
    """The JSON error shape every API error has."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["code"] == status and body["status"] and body["message"], body
    assert set(body) <= {"code", "status", "message", "errors"}, body
    return body

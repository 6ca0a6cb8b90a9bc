"""Curator login: who is signed in, and a throttle on failed logins.

Failures are counted per address and per (name, address) in the `limits`
storage (memory, or Redis when ZHIBIAO_REDIS_URL is set, so all workers count
together). The throttle treats unknown names like known ones, and the message
of a failed login never says whether the name or the password was wrong.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, current_app, g, session
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from kb.models import User

SESSION_KEYS = ("curator_id", "curator_since", "curator_epoch")
MAX_SESSION_SECONDS = 12 * 3600  # a login lasts a working day
LOGIN_FAILED = "用户名或密码不正确"
LOGIN_THROTTLED = "登录失败次数过多，请 15 分钟后再试"


class LoginThrottle:
    def __init__(self, storage_uri: str, per_address: str, per_account: str):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.per_address, self.per_account = parse(per_address), parse(per_account)

    def _keys(self, address: str, name: str):
        return ((self.per_address, "login-addr", address), (self.per_account, "login-name", f"{name.strip().lower()}|{address}"))

    def allowed(self, address: str, name: str) -> bool:
        return all(self.limiter.test(item, *key) for item, *key in self._keys(address, name))

    def failed(self, address: str, name: str) -> None:
        for item, *key in self._keys(address, name):
            self.limiter.hit(item, *key)

    def succeeded(self, address: str, name: str) -> None:
        item, *key = self._keys(address, name)[1]
        self.limiter.clear(item, *key)


def init_app(app: Flask) -> None:
    # A login cookie: not readable by scripts, not sent on cross-site posts.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    redis_url = (app.config.get("REDIS_URL") or "").strip()
    app.extensions["zhibiao.login_throttle"] = LoginThrottle(
        redis_url or "memory://",
        app.config.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes"),
        app.config.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
    )


def throttle() -> LoginThrottle:
    return current_app.extensions["zhibiao.login_throttle"]


def sign_in(user: User) -> None:
    session.clear()  # a fresh session: nothing chosen before login survives it
    session["curator_id"] = user.id
    session["curator_since"] = int(time.time())
    session["curator_epoch"] = user.session_epoch


def sign_out(db_session) -> None:
    """End this account's sessions everywhere: a cookie copied before logout opens nothing after it."""
    from kb.auth import end_sessions

    if session.get("curator_id"):
        end_sessions(db_session, session["curator_id"])
    session.clear()


def forget_login() -> None:
    """Drop an expired login but keep the rest of the session (a drafter's open form's CSRF token)."""
    for key in SESSION_KEYS:
        session.pop(key, None)


def signed_in_user(db_session) -> User | None:
    """The active account of this browser session, or None (expired, disabled, deleted)."""
    user_id = session.get("curator_id")
    since = session.get("curator_since") or 0
    if not user_id or time.time() - since > MAX_SESSION_SECONDS:
        return None
    user = db_session.get(User, user_id)
    if user is None or not user.active or session.get("curator_epoch") != user.session_epoch:
        return None  # ended by a logout, a new password or a new role
    return user


def current_user() -> User:
    return g.curator


def safe_next(target: str | None, default: str) -> str:
    """Only a path of this site's curator workspace: never an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/curator") or target.startswith("//"):
        return default
    return target

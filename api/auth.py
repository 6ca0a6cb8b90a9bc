"""API keys on the wire: `Authorization: Bearer <token>` and the scope each
view needs.

Every route under /api and /reconcile needs a scope. A view method declares
it with `@requires("suggest")`; undeclared, a GET needs "read" and anything
else "curate", so a new write endpoint is closed until someone opens it on
purpose. "read" and "suggest" are open to anonymous callers unless
ZHIBIAO_REQUIRE_API_KEY=1; a key that is sent must always be valid.
"""
from __future__ import annotations

from flask import Flask, current_app, g, request

from server.db import get_session
from server.paths import is_api_path, view_method
from kb import auth as kbauth
from kb.errors import KbError
from kb.models import ApiKey

SCOPE_ATTR = "_zhibiao_scope"
OPEN_SCOPES = ("read", "suggest")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PUBLIC_PREFIXES = ("/api/openapi.json", "/api/docs")  # the API's own documentation
_MISSING = object()


class NotAuthenticated(KbError):
    status = 401
    error = "api_key_required"
    meaning = "此操作须带 API 密钥（Authorization: Bearer …）"
    headers = {"WWW-Authenticate": 'Bearer realm="zhibiao"'}


class InvalidKey(NotAuthenticated):
    error = "invalid_api_key"
    meaning = "API 密钥无效或已被吊销"


class NotAllowed(KbError):
    status = 403
    error = "insufficient_scope"
    meaning = "API 密钥没有此操作所需的权限（read、suggest 或 curate）"


def requires(scope: str):
    """Declare the scope a view method needs (see the module docstring)."""
    if scope not in kbauth.SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def mark(func):
        setattr(func, SCOPE_ATTR, scope)
        return func
    return mark


def required_scope() -> str:
    declared = getattr(view_method(), SCOPE_ATTR, None)
    if declared:
        return declared
    return "read" if request.method in SAFE_METHODS else "curate"


def _bearer_token() -> str | None:
    """The token sent, "" for an Authorization header that is not a bearer token, None for none."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    kind, _, token = header.strip().partition(" ")
    return token.strip() if kind.lower() == "bearer" else ""


def current_key() -> ApiKey | None:
    """The valid key this request carries (verified once per request)."""
    cached = g.get("api_key", _MISSING)
    if cached is not _MISSING:
        return cached
    token = _bearer_token()
    key = kbauth.verify_api_key(get_session(), token) if token else None
    g.api_key = key
    return key


def client_id() -> str:
    """Who a rate limit counts: the key when a valid one is sent, else the address."""
    key = current_key()
    return f"key:{key.id}" if key is not None else f"addr:{request.remote_addr or '-'}"


def actor() -> str:
    """The name written into the change log for a write."""
    key = current_key()
    return f"apikey:{key.name}" if key is not None else "api"


def require_scope(scope: str) -> ApiKey | None:
    """Refuse the request unless it may use `scope` (401 without a key, 403 with a weaker one)."""
    sent = _bearer_token()
    key = current_key()
    if sent is not None and key is None:
        raise InvalidKey("API 密钥无效或已被吊销")
    if key is None:
        if scope in OPEN_SCOPES and not current_app.config.get("REQUIRE_API_KEY"):
            return None
        raise NotAuthenticated(f"此操作需要具有“{scope}”权限的 API 密钥（Authorization: Bearer …）")
    if not kbauth.has_scope(key, scope):
        if scope in OPEN_SCOPES and not current_app.config.get("REQUIRE_API_KEY"):
            return key  # a key never allows less than no key at all
        raise NotAllowed(f"该 API 密钥没有“{scope}”权限")
    return key


def _public_reconcile() -> bool:
    """The reconciliation manifest (so a client can add the service and learn how to send its key) and the
    preview card (an iframe sends no header; it shows what the public indicator page shows)."""
    if request.path == "/reconcile":
        return not ({"queries", "extend"} & set(request.args))
    return request.path == "/reconcile/preview"


def _check_request() -> None:
    # Unknown routes and wrong methods (no url_rule) fall through to their 404/405.
    if request.method == "OPTIONS" or request.url_rule is None or not is_api_path():
        return
    if request.method in SAFE_METHODS and (request.path.startswith(PUBLIC_PREFIXES) or _public_reconcile()):
        return
    require_scope(required_scope())


def init_app(app: Flask) -> None:
    app.before_request(_check_request)

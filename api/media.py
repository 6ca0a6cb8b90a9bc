"""What a request to the API may carry: body types (JSON unless a view says
otherwise with `@accepts(...)`; anything else is refused with 415 before the
view runs), and no NUL characters anywhere in its text (PostgreSQL cannot
store them, and no indicator needs one)."""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import UnsupportedMediaType

from api import auth
from api.paths import is_api_path
from kb.errors import InvalidInput

MEDIA_ATTR = "_zhibiao_media"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
BODY_METHODS = ("POST", "PUT", "PATCH")


def accepts(*mimetypes: str):
    def mark(func):
        setattr(func, MEDIA_ATTR, mimetypes)
        return func
    return mark


def _acceptable(mimetype: str, accepted: tuple[str, ...]) -> bool:
    if mimetype in accepted:
        return True
    return JSON in accepted and mimetype.startswith("application/") and mimetype.endswith("+json")


def _check_media_type() -> None:
    if request.method not in BODY_METHODS or request.url_rule is None or not is_api_path():
        return
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")
    if not has_body and not request.mimetype:
        return  # an empty body: the view says whether it needs one
    accepted = getattr(auth.view_method(), MEDIA_ATTR, (JSON,))
    if not _acceptable(request.mimetype, accepted):
        raise UnsupportedMediaType(f"不支持的内容类型“{request.mimetype or '（未注明）'}”：此接口接受 {'、'.join(accepted)}")


def _has_nul() -> bool:
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        return True
    if request.method not in BODY_METHODS or request.mimetype == MULTIPART:
        return False  # uploaded files are binary; their cells are read as text later
    if request.mimetype == FORM:
        return any("\x00" in k or "\x00" in v for k, v in request.form.items(multi=True))
    return b"\\u0000" in request.get_data(cache=True).lower()


def _check_text() -> None:
    if request.url_rule is not None and is_api_path() and _has_nul():
        raise InvalidInput("请求中含有 NUL 控制字符，无法处理")


def init_app(app: Flask) -> None:
    app.before_request(_check_media_type)
    app.before_request(_check_text)

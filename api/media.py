"""The body types a request to the API may carry: JSON unless a view says
otherwise with `@accepts(...)`; anything else is refused with 415 before the
view runs. (The text every request may carry, and uploads, are server.inputs.)"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import UnsupportedMediaType

from server.inputs import BODY_METHODS, FORM, MULTIPART  # noqa: F401  (views name FORM and MULTIPART here)
from server.paths import is_api_path, view_method

MEDIA_ATTR = "_zhibiao_media"
JSON = "application/json"


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
    accepted = getattr(view_method(), MEDIA_ATTR, (JSON,))
    if not _acceptable(request.mimetype, accepted):
        raise UnsupportedMediaType(f"不支持的内容类型“{request.mimetype or '（未注明）'}”：此接口接受 {'、'.join(accepted)}")


def init_app(app: Flask) -> None:
    app.before_request(_check_media_type)

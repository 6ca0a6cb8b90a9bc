"""How the pages answer an error: a Chinese page, or — for a page's JSON twin
(a path ending in .json, called by the page's own JavaScript) — a small JSON
body the script can show. Never a traceback, never werkzeug's English."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from server.error_codes import http_error


def wants_json() -> bool:
    """A page's own script is asking: a .json twin, or a JSON body (the .xlsx export)."""
    return request.path.endswith(".json") or request.is_json


def error_response(status: int, message: str, problems=(), error: str | None = None):
    """`error` is the refusal's stable identifier (a KbError's own; else the HTTP status's, as the API's)."""
    problems = list(problems or [])
    if wants_json():
        body = {"status": status, "error": error or http_error(status), "message": message,
                "errors": [str(p) for p in problems]}
        return jsonify(body), status
    return render_template("error.html", message=message, problems=problems), status


def upload_limit_mb() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return f"{limit / 1024 / 1024:g}" if limit else "10"


def init_blueprint(bp) -> None:
    @bp.errorhandler(CSRFError)
    def _csrf(_exc):
        return error_response(400, "页面已过期或来源无法确认，请刷新页面后重试（表单校验码无效）")

    @bp.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        return error_response(413, f"上传的内容超过大小上限 {upload_limit_mb()} MB")

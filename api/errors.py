"""Every error a client causes becomes JSON {code, status, message, errors}."""
from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy.exc import OperationalError
from werkzeug.http import HTTP_STATUS_CODES

from kb.errors import KbError


def error_body(status: int, message: str, errors: dict | None = None) -> dict:
    body = {"code": status, "status": HTTP_STATUS_CODES.get(status, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    return body


def problems_as_errors(exc: KbError) -> dict | None:
    if not exc.problems:
        return None
    return {"problems": [{"message": p.message, "location": p.location, "row": p.row, "field": p.field} for p in exc.problems]}


def init_app(app: Flask) -> None:
    @app.errorhandler(KbError)
    def _kb_error(exc: KbError):
        return jsonify(error_body(exc.status, exc.message, problems_as_errors(exc))), exc.status

    @app.errorhandler(OperationalError)
    def _database_down(exc):
        app.logger.warning("database unavailable: %s", exc.__class__.__name__)
        return jsonify(error_body(503, "数据库暂时无法访问，请稍后重试")), 503

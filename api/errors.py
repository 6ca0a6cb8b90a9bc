"""Every error a client causes becomes JSON {code, error, status, message, errors}: `code` the HTTP
status (as clients have always read it), `error` a stable identifier of the kind of error (kb.errors.CODES
lists them all), `message` in Chinese.

Under /api and /reconcile that holds for HTTP errors too (unknown routes,
wrong methods, oversized bodies …), whatever the pages do with theirs.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, g, jsonify
from marshmallow import Schema, fields
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from server.error_codes import DATABASE_UNAVAILABLE, UNSTORABLE_VALUE, http_error
from server.paths import is_api_path
from kb.errors import KbError
from kb.schemas import flatten_messages

MESSAGES = {
    400: "请求有误",
    401: "需要有效的 API 密钥",
    403: "没有权限",
    404: "接口不存在",
    405: "该接口不支持此请求方法",
    406: "无法提供所要求的内容格式",
    409: "与当前数据冲突",
    412: "前提条件不成立：数据已被他人修改，请重新读取后再改",
    413: "请求内容过大",
    415: "不支持的内容类型",
    422: "请求内容有误",
    428: "此操作须带 If-Match 请求头（读取时得到的修订号）",
    429: "请求过于频繁，请稍后重试",
    500: "服务器内部错误，请稍后重试",
    503: "服务暂时不可用，请稍后重试",
}
# webargs' and werkzeug's English that reaches clients, in Chinese
TRANSLATIONS = {"Invalid JSON body.": "JSON 格式错误"}


class ErrorSchema(Schema):
    """The error body, for the OpenAPI document (api.openapi_doc adds the enum of `error`)."""
    code = fields.Integer(required=True, metadata={"description": "HTTP 状态码（与响应状态相同）"})
    error = fields.String(required=True, metadata={"description": "错误类型的稳定标识（英文），程序据此区分错误，中文提示可能调整而它不变"})
    status = fields.String(required=True, metadata={"description": "HTTP 状态名（英文，如 Not Found）"})
    message = fields.String(required=True, metadata={"description": "给人看的中文说明"})
    errors = fields.Dict(metadata={"description": "逐项说明（可选）：校验失败时为 {位置: {字段: [中文原因]}}，"
                                                  "内容有误时为 {problems: [{message, location, row, field}]}"})


def error_body(status: int, error: str, message: str, errors: dict | None = None) -> dict:
    body = {"code": status, "error": error, "status": HTTP_STATUS_CODES.get(status, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    return body


def problems_as_errors(exc: KbError) -> dict | None:
    if not exc.problems:
        return None
    return {"problems": [{"message": p.message, "location": p.location, "row": p.row, "field": p.field} for p in exc.problems]}


def validation_errors(messages) -> dict:
    """webargs' {location: nested marshmallow messages} → {location: {"a.b": ["中文"]}}."""
    if not isinstance(messages, dict):
        return {"request": [TRANSLATIONS.get(str(m), str(m)) for m in (messages if isinstance(messages, list) else [messages])]}
    out: dict = {}
    for location, nested in messages.items():
        if isinstance(nested, list) and all(isinstance(m, str) for m in nested):
            out[location] = [TRANSLATIONS.get(m, m) for m in nested]
            continue
        fields: dict[str, list[str]] = {}
        for path, message in flatten_messages(nested):
            fields.setdefault(path or "_schema", []).append(TRANSLATIONS.get(message, message))
        out[location] = fields
    return out


def _identifier(error: HTTPException, message: str) -> str:
    if error.code == 400 and message == TRANSLATIONS["Invalid JSON body."]:
        return "invalid_json"
    return http_error(error.code or 500)


def _message(error: HTTPException, data: dict) -> str:
    if data.get("message"):
        return str(data["message"])
    if error.code == 400 and data.get("messages"):
        flat = validation_errors(data["messages"])
        if any(v == [TRANSLATIONS["Invalid JSON body."]] for v in flat.values()):
            return "JSON 格式错误"
    if error.code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return f"请求内容过大（上限 {limit // (1024 * 1024)} MB）" if limit else MESSAGES[413]
    if error.code == 429:
        return f"请求过于频繁（限额 {error.description}），请稍后重试"
    if error.code == 415 and error.description and "：" in error.description:
        return error.description  # ours, naming the accepted types
    return MESSAGES.get(error.code or 500, error.name)


def http_error_response(error: HTTPException):
    """The JSON answer to an HTTP error (also what flask-smorest's Api uses)."""
    code = error.code or 500
    if code == 304:
        resp = Response(status=304)
        if g.get("etag"):
            resp.set_etag(g.etag)
        return resp
    data = getattr(error, "data", None) or {}
    errors = data.get("errors")
    if errors is None and data.get("messages") is not None:
        errors = validation_errors(data["messages"])
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    message = _message(error, data)
    response = jsonify(error_body(code, _identifier(error, message), message, errors))
    response.status_code = code
    response.headers.update(headers)
    return response


def _wrap_code_handler(app: Flask, code: int) -> None:
    """Answer `code` with JSON under the API and leave the pages' handler for the rest."""
    previous = dict(app.error_handler_spec[None].get(code, {}))

    def handler(error):
        if not is_api_path():
            for cls in type(error).__mro__:
                if cls in previous:
                    return previous[cls](error)
        return http_error_response(error)

    app.register_error_handler(code, handler)


def kb_error_response(exc: KbError):
    """The JSON answer to a refusal from the library (the app's KbError handler sends the pages' own)."""
    response = jsonify(error_body(exc.status, exc.error, exc.message, problems_as_errors(exc)))
    response.status_code = exc.status
    response.headers.update(getattr(exc, "headers", None) or {})
    return response


def init_app(app: Flask) -> None:
    """Call after the blueprints are registered, so that JSON wins under the API."""
    @app.errorhandler(DataError)
    def _unstorable(exc):
        # A value the database cannot hold (a NUL character, a number out of range) came from the client.
        app.logger.warning("database refused a value: %s", getattr(exc, "orig", exc))
        return jsonify(error_body(422, UNSTORABLE_VALUE, "输入中含有数据库无法保存的字符或数值")), 422

    @app.errorhandler(OperationalError)
    def _database_down(exc):
        app.logger.warning("database unavailable: %s", exc.__class__.__name__)
        return jsonify(error_body(503, DATABASE_UNAVAILABLE, "数据库暂时无法访问，请稍后重试")), 503

    for code in (404, 405):
        _wrap_code_handler(app, code)

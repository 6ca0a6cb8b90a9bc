"""The identifiers (`error`) of refusals that come from HTTP itself rather than from the library: an
unknown path, a wrong method, a body too large, a rate limit … Kept apart from api.errors, without
Flask, so that the gunicorn worker (server.workers), which answers some of them before the app runs,
uses the same ones. Registered in kb.errors.CODES with the library's own, where the OpenAPI document
reads them all."""
from __future__ import annotations

from kb.errors import register

# HTTP status → (identifier, meaning) of a refusal that is only an HTTP status
HTTP_ERRORS = {
    400: ("bad_request", "请求有误"),
    401: ("api_key_required", "此操作须带 API 密钥（Authorization: Bearer …）"),
    403: ("forbidden", "没有权限"),
    404: ("path_not_found", "没有这个接口（路径不存在）"),
    405: ("method_not_allowed", "该接口不支持此请求方法（Allow 头列出支持的方法）"),
    406: ("not_acceptable", "无法提供所要求的内容格式"),
    408: ("request_timeout", "请求发送太慢，已断开"),
    409: ("conflict", "与他人同时进行的修改或发布冲突，请刷新后再试"),
    411: ("length_required", "请求须注明 Content-Length"),
    412: ("stale_revision", "If-Match 与当前修订号不符：记录已被他人修改，未保存"),
    413: ("body_too_large", "请求内容超过上限"),
    414: ("uri_too_long", "请求地址过长"),
    415: ("unsupported_media_type", "不支持的内容类型（Content-Type）"),
    422: ("validation_failed", "请求参数或内容未通过校验（errors 按位置、字段列出中文原因）"),
    428: ("if_match_required", "修改须带 If-Match 请求头（读取时得到的修订号）"),
    429: ("rate_limited", "请求过于频繁；Retry-After 说明多少秒后再试"),
    431: ("headers_too_large", "请求头过大"),
    500: ("internal_error", "服务器内部错误"),
    501: ("not_implemented", "服务器不支持此功能"),
    503: ("service_unavailable", "服务暂时不可用"),
}
# what the server answers when the database fails under a request (api.errors)
DATABASE_UNAVAILABLE = register("database_unavailable", 503, "数据库暂时无法访问，请稍后重试")
UNSTORABLE_VALUE = register("unstorable_value", 422, "输入中含有数据库无法保存的字符或数值")
INVALID_CALLBACK = register("invalid_callback", 400, "JSONP 的 callback 不是 JavaScript 函数名")

for _status, (_error, _meaning) in HTTP_ERRORS.items():
    register(_error, _status, _meaning)


def http_error(status: int) -> str:
    """The identifier of a bare HTTP refusal; a status nobody maps is still a 4xx or 5xx to the client."""
    if status in HTTP_ERRORS:
        return HTTP_ERRORS[status][0]
    return HTTP_ERRORS[500 if status >= 500 else 400][0]

"""What the generated OpenAPI document does not know by itself, added once when
it is first read: which operations need a key (and which scope), the error
statuses each can answer (error_statuses; tests/test_api_error_statuses.py
produces every one) with the `error` identifiers of each (kb.errors.CODES),
the headers every answer carries (ETag, rate limits, Retry-After on 429,
Cache-Control), and an example of every operation: its request body and its
success answer, a real exchange with the fixture library (openapi_examples.json)."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from flask import Flask

from api.auth import OPEN_SCOPES, SAFE_METHODS, SCOPE_ATTR
from kb.errors import CODES

ERROR = {"$ref": "#/components/schemas/Error"}
EXAMPLES_FILE = Path(__file__).with_name("openapi_examples.json")  # written by tests/openapi_examples.py
# status → (component name, when it is answered). Which operations answer which is decided in `error_statuses`.
RESPONSES = {
    "400": ("BAD_REQUEST", "请求无法处理：JSON 格式错误或嵌套过深，或文字中含 NUL 等无法保存的字符"),
    "401": ("UNAUTHORIZED", "缺少 API 密钥、密钥无效或已吊销（WWW-Authenticate: Bearer）"),
    "403": ("FORBIDDEN", "API 密钥没有所需的权限"),
    "404": ("NOT_FOUND", "没有这个编码、版本或记录"),
    "409": ("CONFLICT", "与他人刚保存的修改或发布冲突，或该编码、版本号已存在"),
    "412": ("PRECONDITION_FAILED", "If-Match 与当前修订不符：记录已被他人修改"),
    "413": ("PAYLOAD_TOO_LARGE", "请求内容或上传文件超过上限（ZHIBIAO_MAX_UPLOAD_MB）"),
    "415": ("UNSUPPORTED_MEDIA_TYPE", "不支持的内容类型：此接口只接受其请求体所列的类型"),
    "422": ("UNPROCESSABLE_ENTITY", "参数或内容未通过校验：errors 按位置与字段列出中文原因"),
    "428": ("PRECONDITION_REQUIRED", "修改须带 If-Match（记录的 ETag，或 * 表示覆盖）"),
    "429": ("TOO_MANY_REQUESTS", "请求过于频繁；Retry-After 说明多少秒后再试"),
    "503": ("SERVICE_UNAVAILABLE", "数据库暂时无法访问或尚未初始化；稍后重试"),
}
DEFAULT = ("DEFAULT_ERROR", "其他错误（如服务器内部错误 internal_error）")
RATE_HEADERS = {
    "X-RateLimit-Limit": {"description": "时间窗内允许的请求数", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "时间窗内还剩的请求数", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "时间窗重置的时刻（Unix 秒）", "schema": {"type": "integer"}},
}
READ_HEADERS = {
    "Link": {"description": "分页列表的翻页链接（rel=first/prev/next/last），与响应体中的 links 相同", "schema": {"type": "string"}},
    "ETag": {"description": "所读版本与请求的标识；带 If-None-Match 再请求，未变则 304", "schema": {"type": "string"}},
    "Cache-Control": {"description": "钉住已发布版本（version=2025.1）的读取不会再变：public, max-age=31536000, immutable；"
                                     "读当前版本为 public, max-age=5（发布新版本后5秒内可见），再用 ETag 验证", "schema": {"type": "string"}},
    **RATE_HEADERS,
}
# What kb.untrusted refuses in every text it is sent (400 invalid_characters), stated on every string of the
# document that has no pattern, choices or format of its own: a text with NUL is no valid request anywhere.
# (Lone surrogates are refused too, but no valid JSON text of Unicode scalar values can carry one.)
NO_NUL = "^[^\\x00]*$"
ANNOTATIONS = ("example", "examples", "default", "description")


def _no_nul(node) -> None:
    """Add NO_NUL to every plain string schema under `node` (schemas, parameters, request bodies)."""
    if isinstance(node, list):
        for item in node:
            _no_nul(item)
    elif isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "enum", "format"} & node.keys():
            node["pattern"] = NO_NUL
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                _no_nul(list(value.values()))  # a property may be called "description" or "example"
            elif key not in ANNOTATIONS:
                _no_nul(value)


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def scopes(app: Flask) -> dict[tuple[str, str], str]:
    """(OpenAPI path, method) → the scope the view needs (as api.auth decides it)."""
    found = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        cls = getattr(view, "view_class", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            func = getattr(cls, method.lower(), None) if cls else view
            scope = getattr(func, SCOPE_ATTR, None) or ("read" if method in SAFE_METHODS else "curate")
            found[(_openapi_path(rule.rule), method.lower())] = scope
    return found


@lru_cache(maxsize=1)
def examples() -> dict:
    """"method path" → {url, status, request?, response}: a real exchange with the fixture library."""
    return json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))


def codes_for(status: int) -> list[str]:
    return sorted(code for code, (code_status, _) in CODES.items() if code_status == status)


def _described(text: str, status: int) -> str:
    """A response's description, followed by the `error` identifiers it may carry."""
    listed = "；".join(f"`{code}` {CODES[code][1]}" for code in codes_for(status))
    return f"{text}。error 取值：{listed}" if listed else text


def error_statuses(path: str, method: str, op: dict) -> set[str]:
    """The error statuses this operation can answer, from what it takes:
    - every one: 400 (a NUL or a lone surrogate in its path or query), 401 (a key that is not valid),
      403 (a key without its scope; reads need one only when keys are required), 429, 503;
    - a path parameter or `version=`: 404 (no such code, version or record);
    - query parameters or a body: 422 (unknown parameters, values that do not validate);
    - a body: 413 and 415;
    - 409, 412, 428: only where the view declares them (@blp.alt_response), as the draft's guarded writes do.
    """
    params = {p.get("name") for p in op.get("parameters", []) if isinstance(p, dict) and p.get("in") == "query"}
    has_body = "requestBody" in op
    found = {"400", "401", "403", "429", "503"}
    if "{" in path or "version" in params:
        found.add("404")
    if params or has_body:
        found.add("422")
    if has_body:
        found |= {"413", "415"}
    declared = {code for code in op.get("responses", {}) if code in ("409", "412", "428")}
    return found | declared


def document(spec, app: Flask) -> None:
    """Add security, error responses, headers and examples to every operation of `spec` (an apispec APISpec)."""
    for code, (name, text) in RESPONSES.items():
        headers = {"Retry-After": {"description": "多少秒后再试", "schema": {"type": "integer"}}} if code == "429" else {}
        if code == "401":
            headers = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        response = {"description": _described(text, int(code)), "content": {"application/json": {"schema": ERROR}},
                    **({"headers": headers} if headers else {})}
        spec.components.responses[name] = response  # replaces flask-smorest's English 422
    spec.components.responses[DEFAULT[0]] = {"description": _described(DEFAULT[1], 500),
                                             "content": {"application/json": {"schema": ERROR}}}
    error = spec.components.schemas["Error"]["properties"]["error"]
    error["enum"] = sorted(CODES)
    error["description"] += "：" + "；".join(f"`{code}`（{status}）{meaning}" for code, (status, meaning) in sorted(CODES.items()))
    needed = scopes(app)
    for path, operations in spec._paths.items():
        for method, op in operations.items():
            if method == "parameters" or not isinstance(op, dict):
                continue
            scope = needed.get((path, method), "curate")
            responses = op.setdefault("responses", {})
            if scope in OPEN_SCOPES:
                op["security"] = [{}, {"bearerAuth": []}]
                op["description"] = (op.get("description", "") + f"\n\n权限：{scope}（未要求密钥时可匿名调用）").strip()
            else:
                op["security"] = [{"bearerAuth": []}]
                op["description"] = (op.get("description", "") + f"\n\n权限：{scope}（须带具有该权限的 API 密钥）").strip()
            wanted = error_statuses(path, method, op)
            for code in [c for c in responses if c[:1] in ("4", "5") and c not in wanted]:
                del responses[code]  # flask-smorest's guesses that this operation cannot answer
            for code in sorted(wanted):
                responses[code] = {"$ref": f"#/components/responses/{RESPONSES[code][0]}"}
            for code, response in responses.items():
                if isinstance(response, dict) and code.startswith("2"):
                    response.setdefault("headers", {}).update(READ_HEADERS if method == "get" else RATE_HEADERS)
            _add_example(op, examples().get(f"{method} {path}"))
            _no_nul([op.get("parameters", []), op.get("requestBody", {})])
    _indicator_rules(spec.components.schemas)
    _no_nul(list(spec.components.schemas.values()))
    _add_schema_examples(spec)


def _indicator_rules(schemas: dict) -> None:
    """The choices and cross-field rules of an indicator (kb.schemas.indicator_rules), which marshmallow checks
    in a validator the generated document cannot see: on what is sent (Indicator; a PATCH's fields are checked
    with the record they change, so IndicatorPatch takes the choices only) and the basis of a reference value."""
    from kb.dimensions import dimensions
    from kb.schemas import indicator_rules

    properties, rules = indicator_rules()
    for name in ("Indicator", "IndicatorPatch", "PublicIndicator"):
        for prop, keywords in properties.items():
            schemas[name]["properties"][prop].update(keywords)
    schemas["Indicator"]["allOf"] = rules
    schemas["ReferenceValue"]["properties"]["basis"]["enum"] = list(dimensions().value_bases)


def _add_schema_examples(spec) -> None:
    """The main schemas carry an example too: the answer or request body of an operation that sends or takes
    exactly that schema (the same real exchanges), and the error body of an error response."""
    schemas = spec.components.schemas

    def name_of(content: dict) -> str | None:
        ref = (content or {}).get("schema", {}).get("$ref", "")
        return ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None

    for operations in spec._paths.values():
        for method, op in operations.items():
            if method == "parameters" or not isinstance(op, dict):
                continue
            contents = [op.get("requestBody", {}).get("content", {}).get("application/json")]
            contents += [r.get("content", {}).get("application/json") for code, r in op.get("responses", {}).items()
                         if code.startswith("2") and isinstance(r, dict)]
            for content in filter(None, contents):
                name = name_of(content)
                if name in schemas and "example" in content:
                    schemas[name].setdefault("example", content["example"])
    schemas["Error"].setdefault("example", {
        "code": 404, "error": "indicator_not_found", "status": "Not Found", "message": "未找到指标“S99999-001”"})


def _add_example(op: dict, example: dict | None) -> None:
    if example is None:
        return  # tests/test_api_examples.py fails for it
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and "request" in example:
        body["example"] = example["request"]
    answer = op.get("responses", {}).get(str(example["status"]), {}).get("content", {}).get("application/json")
    if answer is not None:
        answer["example"] = example["response"]

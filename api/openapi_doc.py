"""What the generated OpenAPI document does not know by itself, added once when
it is first read: which operations need a key (and which scope), the errors
each can answer besides 422 (401, 403, 404, 409, 412, 428, 429), the headers
every answer carries (ETag, rate limits, Retry-After on 429, Cache-Control),
and an example body for the operations people try first."""
from __future__ import annotations

import re

from flask import Flask

from api.auth import OPEN_SCOPES, SAFE_METHODS, SCOPE_ATTR

ERROR = {"$ref": "#/components/schemas/Error"}
RESPONSES = {
    "UNAUTHORIZED": ("401", "缺少 API 密钥、密钥无效或已吊销（WWW-Authenticate: Bearer）"),
    "FORBIDDEN": ("403", "API 密钥没有所需的权限"),
    "NOT_FOUND": ("404", "没有这个编码、版本或记录"),
    "CONFLICT": ("409", "与他人刚保存的修改冲突，或该记录已存在"),
    "PRECONDITION_FAILED": ("412", "If-Match 与当前修订不符：记录已被他人修改"),
    "PRECONDITION_REQUIRED": ("428", "修改须带 If-Match（记录的 ETag，或 * 表示覆盖）"),
    "TOO_MANY_REQUESTS": ("429", "请求过于频繁；Retry-After 说明多少秒后再试"),
}
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
EXAMPLES = {
    ("/api/v1/suggest", "post"): {"name": "市中心医院购置CT设备", "description": "购置64排CT 1台，年内完成安装验收并投入使用",
                                  "sector": "21002", "budget_wan_yuan": 800},
    ("/api/v1/targets/check", "post"): {
        "project": {"name": "全市基层卫生人员业务培训", "sector": "210", "budget_wan_yuan": 30},
        "goal": "年内举办培训班2期，培训160人次，受训学员满意度不低于90%。",
        "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "operator": "≥", "value": "160", "unit": "人次"},
                       {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "受训学员满意度", "operator": "≥",
                        "value": "90", "unit": "%"}]},
    ("/api/v1/targets/monitor", "post"): {
        "project": {"name": "2024年农村公路养护工程", "budget_wan_yuan": 800, "budget_executed_wan_yuan": 600,
                    "as_of": "2024-06-30"},
        "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "养护里程", "operator": "≥", "value": "120",
                        "unit": "公里", "actual": "40"}]},
    ("/api/v1/targets/evaluate", "post"): {
        "project": {"name": "2024年农村公路养护工程", "budget_wan_yuan": 800, "budget_executed_wan_yuan": 760},
        "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "养护里程", "operator": "≥", "value": "120",
                        "unit": "公里", "actual": "108", "self_score": 50}]},
}


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


def document(spec, app: Flask) -> None:
    """Add security, error responses, headers and examples to every operation of `spec` (an apispec APISpec)."""
    for name, (code, text) in RESPONSES.items():
        headers = {"Retry-After": {"description": "多少秒后再试", "schema": {"type": "integer"}}} if code == "429" else {}
        if code == "401":
            headers = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        spec.components.response(name, {"description": text, "content": {"application/json": {"schema": ERROR}},
                                        **({"headers": headers} if headers else {})})
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
            wanted = ["UNAUTHORIZED", "FORBIDDEN", "TOO_MANY_REQUESTS"]
            if "{" in path or method == "get":
                wanted.append("NOT_FOUND")
            if method in ("patch", "put", "delete"):
                wanted += ["CONFLICT", "PRECONDITION_FAILED", "PRECONDITION_REQUIRED"]
            elif method == "post" and scope not in OPEN_SCOPES:
                wanted.append("CONFLICT")
            for name in wanted:
                responses.setdefault(RESPONSES[name][0], {"$ref": f"#/components/responses/{name}"})
            for code, response in responses.items():
                if isinstance(response, dict) and code.startswith("2"):
                    response.setdefault("headers", {}).update(READ_HEADERS if method == "get" else RATE_HEADERS)
            example = EXAMPLES.get((path, method))
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if example is not None and body is not None:
                body["example"] = example

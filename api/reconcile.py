"""The W3C Reconciliation Service API 0.2 at /reconcile, so that OpenRefine
users can match a spreadsheet's indicator names to library codes.

    GET  /reconcile                       the service manifest (open even when API keys are required)
    GET  /reconcile?queries={…}           a batch of queries (also POST, form field `queries`)
    GET  /reconcile?extend={…}            data extension: fields of indicators by code (also POST)
    GET  /reconcile/propose_properties    the fields data extension offers
    GET  /reconcile/suggest/entity?prefix=门诊
    GET  /reconcile/suggest/property?prefix=单位
    GET  /reconcile/suggest/type?prefix=个性
    GET  /reconcile/preview?id=T-001      a small HTML card for an iframe (open: an iframe sends no key)

Every URL takes `version=` like the REST API (default: current).
"""
from __future__ import annotations

import json
import re

from flask import Blueprint, Response, current_app, jsonify, request
from markupsafe import escape

from api.auth import requires
from server.db import get_session, index_dir
from server.error_codes import INVALID_CALLBACK
from api.media import FORM, MULTIPART, accepts
from api.v1.common import resolve_version, software_version, version_etag
from kb import reconcile as kbrec
from kb import untrusted
from kb.library import versions
from kb.errors import InvalidInput, KbError

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")

MAX_QUERIES = 100
MAX_LIMIT = 25
SPEC_VERSIONS = ["0.2"]
PREVIEW = {"width": 420, "height": 220}
QUERY_KEYS = {"query", "type", "limit", "properties", "type_strict"}
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *"
MAX_EXTEND_IDS = 500
# how a client sends its key, in the manifest's "authentication" (a Swagger 2.0 security scheme, as 0.2 says)
AUTHENTICATION = {"type": "apiKey", "name": "Authorization", "in": "header",
                  "description": "Authorization: Bearer <API 密钥>（用 zhibiao apikey create 生成，需 read 权限）"}


class MalformedQueries(KbError):
    status = 400
    error = "invalid_json"  # the same refusal as a JSON body that does not parse, only in a form field
    meaning = "JSON 格式错误、嵌套过深或含非有限数值、超长数字"


class BatchTooLarge(KbError):
    status = 413
    error = "batch_too_large"
    meaning = "一批查询超过上限，请分批提交"


def _base() -> str:
    return request.url_root.rstrip("/")


def manifest(version_label: str) -> dict:
    base = _base()
    pinned = "" if version_label in (None, "", versions.CURRENT) else f"&version={version_label}"
    return {
        "versions": SPEC_VERSIONS,
        "name": "预算绩效指标库 zhibiao",
        "identifierSpace": f"{base}/indicators/",
        "schemaSpace": f"{base}/api/openapi.json#/components/schemas/Indicator",
        "documentation": f"{base}/api/docs",
        "serviceVersion": software_version(),
        "defaultTypes": [{"id": kbrec.DEFAULT_TYPE, "name": kbrec.TYPES[kbrec.DEFAULT_TYPE]}],
        "view": {"url": f"{base}/indicators/{{{{id}}}}"},
        "preview": {"url": f"{base}/reconcile/preview?id={{{{id}}}}{pinned}", **PREVIEW},
        "batchSize": MAX_QUERIES,
        "suggest": {"entity": {"service_url": base, "service_path": "/reconcile/suggest/entity"},
                    "property": {"service_url": base, "service_path": "/reconcile/suggest/property"},
                    "type": {"service_url": base, "service_path": "/reconcile/suggest/type"}},
        "extend": {"propose_properties": {"service_url": base, "service_path": "/reconcile/propose_properties"},
                   "property_settings": []},
    } | ({"authentication": AUTHENTICATION} if current_app.config.get("REQUIRE_API_KEY") else {})


def _parse_queries(raw: str) -> dict[str, kbrec.Query]:
    try:
        batch = untrusted.loads(raw)
    except untrusted.MalformedInput as exc:
        raise MalformedQueries(f"queries 不是有效的 JSON：{exc.message}") from None
    if not isinstance(batch, dict):
        raise InvalidInput("queries 应为以查询编号为键的 JSON 对象")
    if len(batch) > MAX_QUERIES:
        raise BatchTooLarge(f"一批最多 {MAX_QUERIES} 个查询（本批 {len(batch)} 个）：请分批提交")
    return {str(key): _query(key, value) for key, value in batch.items()}


def _query(key, value) -> kbrec.Query:
    where = f"查询“{key}”"
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}应为 JSON 对象")
    unknown = set(value) - QUERY_KEYS
    if unknown:
        raise InvalidInput(f"{where}含未知字段：{'、'.join(sorted(unknown))}")
    text = value.get("query", "")
    if not isinstance(text, str):
        raise InvalidInput(f"{where}的 query 应为文本")
    types = value.get("type") or []
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise InvalidInput(f"{where}的 type 应为文本或文本列表")
    limit = value.get("limit", 5)
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 1:
        raise InvalidInput(f"{where}的 limit 应为正数")
    props = value.get("properties") or []
    if not isinstance(props, list):
        raise InvalidInput(f"{where}的 properties 应为列表")
    pairs = []
    for p in props:
        if not isinstance(p, dict) or not isinstance(p.get("pid"), str) or "v" not in p:
            raise InvalidInput(f"{where}的 properties 每项应有 pid 和 v")
        values = p["v"] if isinstance(p["v"], list) else [p["v"]]
        for v in values:
            v = v.get("id") if isinstance(v, dict) else v
            if isinstance(v, (str, int, float)) and not isinstance(v, bool):
                pairs.append((p["pid"], str(v)))
    if not text.strip() and not pairs:
        raise InvalidInput(f"{where}须有 query 或 properties")
    return kbrec.Query(text, tuple(types), min(int(limit), MAX_LIMIT), tuple(pairs))


def _parse_extend(raw: str) -> tuple[list[str], list[str]]:
    """{"ids": [...], "properties": [{"id": ...}]} → the ids and property ids, or a Chinese refusal."""
    try:
        query = untrusted.loads(raw)
    except untrusted.MalformedInput as exc:
        raise MalformedQueries(f"extend 不是有效的 JSON：{exc.message}") from None
    if not isinstance(query, dict) or not isinstance(query.get("ids"), list) or not isinstance(query.get("properties"), list):
        raise InvalidInput("extend 应为 {\"ids\": [指标编码…], \"properties\": [{\"id\": 属性}…]}")
    ids = query["ids"]
    if not all(isinstance(i, str) for i in ids) or len(ids) > MAX_EXTEND_IDS:
        raise InvalidInput(f"extend 的 ids 应为不超过 {MAX_EXTEND_IDS} 个指标编码")
    properties = []
    for p in query["properties"]:
        pid = p.get("id") if isinstance(p, dict) else None
        if pid not in kbrec.PROPERTIES:
            known = "、".join(f"{k}（{v[0]}）" for k, v in kbrec.PROPERTIES.items())
            raise InvalidInput(f"没有属性“{pid}”：可取 {known}")
        properties.append(pid)
    if not properties:
        raise InvalidInput("extend 的 properties 至少要有一项")
    return ids, properties


@bp.route("/propose_properties")
def propose_properties():
    """The fields data extension offers for a type (every indicator has the same ones)."""
    kind = request.args.get("type") or kbrec.DEFAULT_TYPE
    if kind not in kbrec.TYPES:
        raise InvalidInput(f"没有类型“{kind}”：可取 {'、'.join(kbrec.TYPES)}")
    try:
        limit = untrusted.bounded_int(request.args.get("limit") or str(len(kbrec.PROPOSED)), "limit", 1, len(kbrec.PROPERTIES))
    except untrusted.MalformedInput as exc:
        raise InvalidInput(exc.message) from None
    proposed = list(kbrec.PROPOSED) + [p for p in kbrec.PROPERTIES if p not in kbrec.PROPOSED]
    return jsonify({"type": kind, "limit": limit, "properties": kbrec.property_list(proposed[:limit])})


@bp.route("/suggest/type")
def suggest_type():
    """The types queries may name (every indicator, common ones, specific ones) whose id or name contains `prefix`."""
    prefix = (request.args.get("prefix") or "").strip().lower()
    return jsonify({"result": [{"id": tid, "name": name, "description": f"按{name}对照"} for tid, name in kbrec.TYPES.items()
                               if not prefix or prefix in tid or prefix in name]})


@bp.route("/suggest/property")
def suggest_property():
    """Properties (for data extension and query properties) whose id or name contains `prefix`."""
    return jsonify({"result": kbrec.suggest_properties(request.args.get("prefix", ""))})


def _candidate(c: kbrec.Candidate) -> dict:
    return {
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "score": c.score,
        "match": c.match,
        "type": [{"id": tid, "name": name} for tid, name in c.types],
        "features": [{"id": fid, "value": value} for fid, value in c.features],
    }


@bp.route("", methods=["GET", "POST"])
@requires("read")
@accepts(FORM, MULTIPART)
def service():
    """The manifest, or the answers to a batch of queries."""
    label = request.args.get("version")
    raw = request.form.get("queries") if request.method == "POST" else None
    raw = raw if raw is not None else request.args.get("queries")
    extension = request.form.get("extend") if request.method == "POST" else None
    extension = extension if extension is not None else request.args.get("extend")
    if extension is not None and raw is None:
        ids, properties = _parse_extend(extension)
        return jsonify(kbrec.extend(get_session(), resolve_version(label), ids, properties))
    if raw is None:
        if request.method == "POST":
            raise InvalidInput("缺少表单字段 queries 或 extend")
        resolve_version(label)
        return jsonify(manifest(label))
    queries = _parse_queries(raw)
    ref = resolve_version(label)
    session, where = get_session(), index_dir()
    return jsonify({key: {"result": [_candidate(c) for c in kbrec.reconcile(session, where, q, ref)]}
                    for key, q in queries.items()})


@bp.route("/suggest/entity")
def suggest_entity():
    """Entities whose name starts with `prefix` (characters or pinyin), or whose code it is."""
    prefix = request.args.get("prefix", "")
    try:
        cursor = max(0, int(request.args.get("cursor", 0) or 0))
    except ValueError:
        raise InvalidInput("cursor 应为整数") from None
    ref = resolve_version(request.args.get("version"))
    version_etag(ref)
    found = kbrec.suggest(get_session(), index_dir(), prefix, ref, cursor=cursor)
    return jsonify({"result": [{"id": i.code, "name": i.name, "description": kbrec.describe(i),
                                "notable": [{"id": t, "name": n} for t, n in kbrec.types_of(i)]} for i in found]})


PREVIEW_HTML = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{name}</title></head>
<body style="font: 13px/1.5 sans-serif; margin: 6px">
<div><strong>{name}</strong> <code>{code}</code></div>
<div>{levels}{unit}</div>
<div>{definition}</div>
<div style="color: #666">{source} · 版本 {version}</div>
</body></html>
"""


@bp.route("/preview")
def preview():
    """An HTML card for one indicator, sized for the manifest's iframe."""
    code = request.args.get("id", "")
    if not code:
        raise InvalidInput("缺少参数 id")
    ref = resolve_version(request.args.get("version"))
    ind = versions.record(get_session(), "indicator", code, ref)
    html = PREVIEW_HTML.format(
        name=escape(ind.name), code=escape(ind.code), version=escape(ref.label),
        levels=escape(f"{ind.level1} / {ind.level2} · {kbrec.TYPES.get(ind.kind, ind.kind)}"),
        unit=escape(f" · 单位 {ind.unit}") if ind.unit else "",
        definition=escape(ind.definition or ind.formula or ""),
        source=escape((ind.source or {}).get("document", "")),
    )
    return Response(html, mimetype="text/html", headers={"Content-Security-Policy": PREVIEW_CSP})


_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,3}$")


def jsonp(response):
    """GET /reconcile…?callback=fn wraps the JSON answer as fn(…); for clients that cannot use CORS (the 0.2
    spec's fallback). Only a plain identifier is taken as a callback name."""
    callback = request.args.get("callback")
    if (request.method != "GET" or not callback or not request.path.startswith("/reconcile")
            or request.path == "/reconcile/preview" or response.mimetype != "application/json"):
        return response
    if not _CALLBACK.match(callback):
        body = json.dumps({"code": 400, "error": INVALID_CALLBACK, "status": "Bad Request",
                           "message": "callback 只能是 JavaScript 函数名"}, ensure_ascii=False)
        return Response(body, status=400, mimetype="application/json")
    return Response(f"/**/{callback}({response.get_data(as_text=True)});", status=response.status_code,
                    mimetype="application/javascript", headers={k: v for k, v in response.headers.items()
                                                                if k.lower() not in ("content-type", "content-length")})


def allow_framing(response):
    """The preview is made to be shown in another site's iframe (OpenRefine's)."""
    if request.endpoint == "reconcile.preview":
        response.headers.pop("X-Frame-Options", None)
        response.headers["Content-Security-Policy"] = PREVIEW_CSP
    return response

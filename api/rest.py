"""The REST layer: flask-smorest Api, the /api/v1 blueprints, the reconciliation
service, and what every API request goes through (keys, rate limits, body
types, CORS, ETags)."""
from __future__ import annotations

from flask import Flask, g, request
from flask_smorest import Api

from api import auth, cors, errors, media, reconcile
from server import inputs, limits
from server.paths import is_api_path

SPEC_OPTIONS = {
    "info": {
        "description": (
            "预算绩效指标库 zhibiao 的 REST 接口。读取与推荐默认无需密钥（部署可设 ZHIBIAO_REQUIRE_API_KEY=1 要求密钥）；"
            "一切写操作须带具有 curate 权限的 API 密钥：`Authorization: Bearer <token>`。"
            "每个读取接口都接受 `version=`（版本号或 current；draft 需 curate 权限），响应注明所读版本，并带 ETag。"
            "错误一律为 JSON：{code, error, status, message, errors}：code 为 HTTP 状态码，error 为错误类型的稳定标识"
            "（英文，见 Error 的 error 取值），message 为中文说明，errors 逐项列出原因。"
        ),
    },
    "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    "security": [{}, {"bearerAuth": []}],
}


class ZhibiaoApi(Api):
    """flask-smorest's Api, with the OpenAPI document written when it is first
    read instead of while the app is built: generating it takes longer than
    everything else in create_app, and most processes (a command, a worker
    that never serves /api/openapi.json) never read it. That includes the
    responses, headers and views flask-smorest registers as the app is made
    (a response for each of the 63 HTTP statuses was a third of create_app)."""

    ERROR_SCHEMA = errors.ErrorSchema

    def __init__(self, *args, **kwargs):
        self._undocumented: list[tuple] = []
        self._unregistered: list = []  # flask-smorest's own registrations, in the order it makes them
        self._spec = None
        self._writing = False
        super().__init__(*args, **kwargs)

    def _register_responses(self):
        self._unregistered.append(super()._register_responses)

    def _register_etag_headers(self):
        self._unregistered.append(super()._register_etag_headers)

    def _register_pagination_header(self):
        self._unregistered.append(super()._register_pagination_header)

    def register_converter(self, converter, func):
        # as flask-smorest's, which asks `self.spec` whether the app is set up: that would write the document now
        self._converters.append((converter, func))
        if self._spec is not None:
            self._register_converter(converter, func)

    @property
    def spec(self):
        if self._writing or not (self._unregistered or self._undocumented):
            return self._spec  # (what is being written reads the document through here too)
        self._writing = True
        try:
            while self._unregistered:
                self._unregistered.pop(0)()
            if self._undocumented:
                while self._undocumented:
                    blp, name, parameters = self._undocumented.pop(0)
                    blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
                    self._spec.tag({"name": name, "description": blp.description})
                from api.openapi_doc import document

                document(self._spec, self._app)
        finally:
            self._writing = False
        return self._spec

    @spec.setter
    def spec(self, value):
        self._spec = value

    def register_blueprint(self, blp, *, parameters=None, **options):
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    def handle_http_exception(self, error):
        return errors.http_error_response(error)


def _etags(response):
    """Answers carry the ETag a view set (from its version, or a draft revision);
    other reads get a hash of their body. A matching If-None-Match gets 304."""
    if not is_api_path() or response.direct_passthrough or request.path.startswith("/api/docs/"):
        return response
    if g.get("etag") and 200 <= response.status_code < 300:
        response.set_etag(g.etag)
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if "ETag" not in response.headers:
        response.add_etag()
    return response.make_conditional(request)


IMMUTABLE = "public, max-age=31536000, immutable"
CURRENT = "public, max-age=5"  # "current" moves on a publish; nodes notice one within 5 s, so may clients


def _cache_headers(response):
    """A read pinned to a published version never changes: caches may keep it. Anything else is revalidated
    with its ETag. Retry-After belongs to a refusal (429, 503), not to every answer."""
    if not is_api_path() or request.path.startswith("/api/docs/"):
        return response
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    links = g.get("page_links")
    if links and response.status_code == 200:
        response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)
    if request.method in ("GET", "HEAD") and response.status_code in (200, 304):
        ref = g.get("version_ref")
        pinned = ref is not None and not ref.is_draft and request.args.get("version") == ref.label
        response.headers["Cache-Control"] = IMMUTABLE if pinned else CURRENT
    return response


def init_app(app: Flask) -> None:
    from api import docs
    from api.v1 import BLUEPRINTS

    app.config.setdefault("API_SPEC_OPTIONS", SPEC_OPTIONS)

    # after_request runs in reverse: registered first, this one sees the limiter's headers and can drop Retry-After
    app.after_request(_cache_headers)
    # before_request order: count the request, then check its key, then its body type
    limits.init_app(app)
    auth.init_app(app)
    media.init_app(app)
    inputs.init_app(app)
    cors.init_app(app)
    app.after_request(_etags)
    app.after_request(reconcile.allow_framing)  # runs after the pages' security headers
    app.after_request(reconcile.jsonp)

    api = ZhibiaoApi(app)
    from server.app import CodeConverter

    api.register_converter(CodeConverter, lambda _: {"type": "string", "pattern": CodeConverter.regex.join("^$")})
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(reconcile.bp)
    app.extensions["zhibiao.api"] = api

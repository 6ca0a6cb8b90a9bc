"""The app factory: reads as a table of contents (as Redash's create_app)."""
from __future__ import annotations

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import BaseConverter, IntegerConverter

from kb import untrusted
from kb.errors import KbError
from kb.schemas import CODE_RE
from server import config


class JSONProvider(DefaultJSONProvider):
    """Chinese stays readable in every JSON answer, and every JSON body a view
    reads (request.get_json) is parsed as untrusted input."""
    ensure_ascii = False

    def loads(self, s, **kwargs):
        return untrusted.loads(s)


class BoundedIntegerConverter(IntegerConverter):
    """<int:…> in a URL: a number the database's integer columns can hold, else no such page (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**63 - 1, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


class CodeConverter(BaseConverter):
    """<code:…> in an API URL: a record's code as kb.schemas.CODE_RE has it (T-001, GX-PX-011), so a word
    beside it (/quotas/estimate) is no code, and the OpenAPI document states the pattern (api.rest)."""
    regex = CODE_RE.pattern.removeprefix("^").removesuffix("$")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.url_map.converters["code"] = CodeConverter
    app.config.from_mapping(config.from_env())
    if test_config:
        app.config.update(test_config)

    from api import rest
    from server import db
    from web import curator, public, security
    from web.curator import auth as curator_auth
    from web.public import propose

    db.init_app(app)
    rest.init_app(app)  # the REST API, the reconciliation service, and what every request goes through
    security.init_app(app)
    curator_auth.init_app(app)
    propose.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(public.rounds_bp)
    app.register_blueprint(curator.bp)
    _errors(app)
    return app


def _errors(app: Flask) -> None:
    """Registered last, so that under the API (and /reconcile) errors are JSON and the pages keep their own."""
    from api import errors as api_errors
    from server.paths import is_api_path
    from web.errors import error_response

    @app.errorhandler(KbError)
    def _kb_error(exc: KbError):
        if is_api_path():
            return api_errors.kb_error_response(exc)
        return error_response(exc.status, exc.message, exc.problems, exc.error)

    api_errors.init_app(app)

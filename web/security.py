"""Security defaults for every response, and CSRF for the pages' forms.

The REST API authenticates with bearer keys, not cookies, so CSRF protects
only the page blueprints (see web.public.browse / the curator blueprint)."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

# No inline script or style anywhere: pages keep their JS and CSS in static/.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked per blueprint, not on the API
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a form left open over lunch still posts
    csrf.init_app(app)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def protect_blueprint(bp) -> None:
    """Refuse any non-GET request to this blueprint without a valid CSRF token."""
    @bp.before_request
    def _check_csrf():
        # WTF_CSRF_ENABLED=False turns it off, as it does for Flask-WTF's own check (tests only)
        if request.method not in ("GET", "HEAD", "OPTIONS") and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()

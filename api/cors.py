"""CORS: the reconciliation service (/reconcile) answers every origin, as the
W3C Reconciliation API requires of every endpoint (OpenRefine fetches the
manifest from the browser); the rest of the API is off unless
ZHIBIAO_CORS_ORIGINS names the origins allowed ("*" or a comma-separated
list such as "https://ys.example.gov.cn")."""
from __future__ import annotations

from flask import Flask, request

from server.paths import is_api_path

ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match"
EXPOSED_HEADERS = "ETag, Link, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
MAX_AGE = "600"


def parse_origins(text: str) -> tuple[str, ...]:
    return tuple(o.strip().rstrip("/") for o in (text or "").split(",") if o.strip())


RECONCILE_PREFIX = "/reconcile"


def init_app(app: Flask) -> None:
    configured = parse_origins(app.config.get("CORS_ORIGINS", ""))

    @app.after_request
    def _cors(response):
        origin = request.headers.get("Origin")
        if not origin or not is_api_path():
            return response
        # public, read-only library data without cookies: any page may reconcile against it
        origins = ("*",) if request.path.startswith(RECONCILE_PREFIX) else configured
        if not origins:
            return response
        if "*" in origins:
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin.rstrip("/") in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.vary.add("Origin")
        else:
            return response
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = response.headers.get("Allow", "GET, POST, PATCH, OPTIONS")
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = MAX_AGE
        return response

"""The API docs page at /api/docs: Swagger UI from the swagger-ui-bundle
package and a small script of ours, all served locally (no CDN, no inline
script, so the pages' Content-Security-Policy holds here too)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory, url_for
from markupsafe import escape

STATIC = Path(__file__).resolve().parent / "static"

bp = Blueprint("api_docs", __name__)

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
</head>
<body data-spec="{spec}">
<div id="swagger-ui"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


def _swagger_dir() -> str:
    from swagger_ui_bundle import swagger_ui_path

    return str(swagger_ui_path)


@bp.route("/api/docs")
def docs_page():
    from flask import current_app

    html = PAGE.format(
        title=escape(current_app.config.get("API_TITLE", "API")),
        css=url_for("api_docs.asset", filename="swagger-ui.css"),
        bundle=url_for("api_docs.asset", filename="swagger-ui-bundle.js"),
        init=url_for("api_docs.script"),
        spec="/api/openapi.json",
    )
    return Response(html, mimetype="text/html")


@bp.route("/api/docs/docs.js")
def script():
    return send_from_directory(STATIC, "docs.js", max_age=3600)


@bp.route("/api/docs/assets/<path:filename>")
def asset(filename):
    return send_from_directory(_swagger_dir(), filename, max_age=86400)

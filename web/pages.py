"""The page blueprint. Pages call kb/ directly, never api/'s views."""
from __future__ import annotations

from flask import Blueprint, render_template

from api.db import get_session, require_schema
from kb import versions
from kb.errors import KbError

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


@bp.app_errorhandler(404)
def _not_found(_exc):
    return render_template("error.html", message="页面不存在"), 404


@bp.route("/")
def home():
    try:
        require_schema()
        items = versions.list_versions(get_session())
    except KbError as exc:
        return render_template("error.html", message=exc.message), exc.status
    return render_template("home.html", versions=items)

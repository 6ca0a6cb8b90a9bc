"""What a request is: whether it belongs to the machine interfaces (the REST API and the reconciliation
service) rather than to the pages, whether it is rate limited, and which view method answers it."""
from __future__ import annotations

from flask import Flask, current_app, request

API_PREFIXES = ("/api/", "/reconcile")


def is_api_path(path: str | None = None) -> bool:
    path = request.path if path is None else path
    return path == "/api" or path.startswith(API_PREFIXES)


# The pages' machine endpoints (the drafting page's suggest/check/export, typeahead,
# search results as JSON) and the search page itself: as costly as the API's, so
# rate-limited like it.
LIMITED_PAGE_SUFFIXES = (".json", ".xlsx")


def is_limited_path(path: str | None = None) -> bool:
    path = request.path if path is None else path
    return is_api_path(path) or path.endswith(LIMITED_PAGE_SUFFIXES) or path == "/search"


def view_method(app: Flask | None = None):
    """The function that will answer this request (the MethodView's method)."""
    app = app or current_app
    view = app.view_functions.get(request.endpoint or "")
    cls = getattr(view, "view_class", None)
    if cls is None:
        return view
    method = "get" if request.method == "HEAD" else request.method.lower()
    return getattr(cls, method, None)

"""Which requests belong to the machine interfaces (the REST API and the
reconciliation service) rather than to the pages."""
from __future__ import annotations

from flask import request

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

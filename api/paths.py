"""Which requests belong to the machine interfaces (the REST API and the
reconciliation service) rather than to the pages."""
from __future__ import annotations

from flask import request

API_PREFIXES = ("/api/", "/reconcile")


def is_api_path(path: str | None = None) -> bool:
    path = request.path if path is None else path
    return path == "/api" or path.startswith(API_PREFIXES)

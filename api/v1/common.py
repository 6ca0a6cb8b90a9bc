"""What every /api/v1 view shares: pinning a read to a version, and its ETag."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata

from urllib.parse import urlencode

from flask import g, request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.exceptions import NotModified
from sqlalchemy import func, select
from marshmallow import missing
from webargs.flaskparser import FlaskParser, is_json_request

from api import auth
from server import db as server_db
from server.db import get_session, require_schema
from kb import untrusted
from kb.library import versions
from kb.errors import InvalidInput
from kb.models import ChangeLog
from kb.library.versions import VersionRef


class Parser(FlaskParser):
    """webargs' parser, reading JSON bodies through kb.untrusted (depth, NaN,
    huge numbers and bad characters refused in Chinese before any schema runs)."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        return untrusted.loads(req.get_data(cache=True))


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint, letting each schema's own `unknown` rule apply
    everywhere (webargs would otherwise drop unknown query parameters silently)."""
    ARGUMENTS_PARSER = Parser(unknown=None)


@lru_cache(maxsize=1)
def software_version() -> str:
    try:
        return metadata.version("zhibiao")
    except metadata.PackageNotFoundError:
        return "dev"


def resolve_version(label: str | None) -> VersionRef:
    """The version a read is pinned to ("current" by default); the draft needs the curate scope."""
    require_schema()
    if label == versions.DRAFT:
        auth.require_scope("curate")
    ref = server_db.resolve_version(label)
    g.version_ref = ref  # for Cache-Control (api.rest): a pinned published version may be cached for good
    return ref


def draft_token() -> str:
    """Changes whenever the draft does: every change to it writes a change-log row."""
    last = get_session().execute(select(func.max(ChangeLog.id))).scalar()
    return f"draft-{last or 0}"


def set_etag(tag: str) -> None:
    """Use `tag` as this response's ETag; 304 at once when the client has it already."""
    g.etag = tag
    if request.method in ("GET", "HEAD") and tag in request.if_none_match:
        raise NotModified()


def version_etag(ref: VersionRef) -> None:
    """An ETag known before any work: what was asked, and the state of the version read.

    A published version never changes, so its id says it all; "current" is
    resolved first, so publishing a new version changes the tag.
    """
    state = draft_token() if ref.is_draft else f"v{ref.id}"
    asked = sorted(request.args.items(multi=True))
    raw = json.dumps([software_version(), request.path, asked, ref.label, state], ensure_ascii=False)
    set_etag(hashlib.sha1(raw.encode("utf-8")).hexdigest())


def read(label: str | None) -> VersionRef:
    """Resolve the version of a read and answer 304 if the client is up to date."""
    ref = resolve_version(label)
    version_etag(ref)
    return ref


def json_body():
    """The request's JSON, for views that read it themselves (400 when it is not JSON)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise InvalidInput("请求体为空：应为 JSON")
    return untrusted.loads(raw)


def page_links(total: int, page: int, per_page: int) -> dict:
    """first / prev / next / last URLs of a paged list (prev and next None at the ends); kept in g for the
    Link header (api.rest) as well, so a client may follow either."""
    from math import ceil

    last = max(1, ceil(total / per_page)) if per_page else 1

    def url(n: int) -> str:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(n)]
        return request.base_url + "?" + urlencode(args, doseq=True)

    links = {"first": url(1), "prev": url(page - 1) if page > 1 else None,
             "next": url(page + 1) if page < last else None, "last": url(last)}
    g.page_links = links
    return links

"""What every /api/v1 view shares: pinning a read to a version, and its ETag."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from flask import current_app, g, request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.exceptions import NotModified
from sqlalchemy import func, select
from webargs.flaskparser import FlaskParser

from api import auth
from api.db import get_session, require_schema
from kb import versions
from kb.errors import InvalidInput, KbError
from kb.models import ChangeLog
from kb.versions import VersionRef


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint, letting each schema's own `unknown` rule apply
    everywhere (webargs would otherwise drop unknown query parameters silently)."""
    ARGUMENTS_PARSER = FlaskParser(unknown=None)


@lru_cache(maxsize=1)
def software_version() -> str:
    try:
        return metadata.version("zhibiao")
    except metadata.PackageNotFoundError:
        return "dev"


def index_dir() -> Path:
    """Where the search indexes live (one per version and engine)."""
    return Path(current_app.config["DATA_DIR"]) / "index"


def resolve_version(label: str | None) -> VersionRef:
    """The version a read is pinned to ("current" by default); the draft needs the curate scope."""
    require_schema()
    if label == versions.DRAFT:
        auth.require_scope("curate")
    return versions.resolve(get_session(), label)


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


class MalformedJson(KbError):
    status = 400


def json_body():
    """The request's JSON, for views that read it themselves (400 when it is not JSON)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise InvalidInput("请求体为空：应为 JSON")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MalformedJson("JSON 格式错误") from None

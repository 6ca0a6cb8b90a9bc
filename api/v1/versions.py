"""/api/v1/versions: list, one, diff; publish the draft (curate)."""
from __future__ import annotations

from collections import Counter

from flask.views import MethodView

from api import auth
from api.db import get_session, require_schema
from api.limits import costly
from api.v1.common import Blueprint, index_dir
from api.v1.schemas import DiffSchema, PublishSchema, VersionListSchema, VersionSchema
from kb import search, versions

blp = Blueprint("versions", __name__, url_prefix="/api/v1/versions", description="已发布的指标库版本")


@blp.route("")
class Versions(MethodView):
    @blp.response(200, VersionListSchema)
    def get(self):
        """List published versions, newest first."""
        require_schema()
        items = versions.list_versions(get_session())
        current = next((v.label for v in items if v.is_current), None)
        return {"current": current, "versions": items}

    @costly
    @blp.arguments(PublishSchema)
    @blp.response(201, VersionSchema)
    def post(self, args):
        """Publish the draft as a new version (runs the publish gates; curate scope)."""
        require_schema()
        return versions.publish(get_session(), args["label"], notes=args["notes"], user=auth.actor(),
                                after_snapshot=_after_snapshot())


def _after_snapshot():
    """Build the new version's search index inside the publish transaction: a failed build publishes nothing."""
    return search.publish_hook(index_dir())


@blp.route("/<label>")
class OneVersion(MethodView):
    @blp.response(200, VersionSchema)
    def get(self, label):
        """One version ("current" for the current one)."""
        require_schema()
        return versions.resolve(get_session(), label)


@blp.route("/<a>/diff/<b>")
class VersionDiff(MethodView):
    @blp.response(200, DiffSchema)
    def get(self, a, b):
        """Field-level differences from version a to version b ("draft" allowed, with curate scope)."""
        require_schema()
        if versions.DRAFT in (a, b):
            auth.require_scope("curate")
        session = get_session()
        va, vb = versions.resolve(session, a), versions.resolve(session, b)
        changes = versions.diff(session, va, vb)
        return {"a": va.label, "b": vb.label, "summary": dict(Counter(c.change for c in changes)), "changes": changes}

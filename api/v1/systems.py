"""/api/v1/systems: indicator systems as weighted trees."""
from __future__ import annotations

from flask.views import MethodView

from api.db import get_session
from api.v1.common import Blueprint, read
from api.v1.schemas import SystemListSchema, SystemTreeSchema, VersionArgs
from kb import systems

blp = Blueprint("systems", __name__, url_prefix="/api/v1/systems", description="指标体系（带权重的指标树）")


@blp.route("")
class Systems(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, SystemListSchema)
    def get(self, args):
        """The indicator systems of a version."""
        ref = read(args["version"])
        return {"version": ref.label, "systems": systems.list_systems(get_session(), ref)}


@blp.route("/<code>")
class OneSystem(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, SystemTreeSchema)
    def get(self, args, code):
        """One system as a weighted tree; leaves name the indicators they cite."""
        ref = read(args["version"])
        return systems.system_tree(get_session(), code, ref)

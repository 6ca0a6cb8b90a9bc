"""/api/v1/systems: indicator systems as weighted trees, and scoring units with one."""
from __future__ import annotations

from flask import request
from flask.views import MethodView

from api import auth
from api.auth import requires
from server.db import get_session, require_schema
from server.limits import costly
from api.media import JSON, MULTIPART, accepts
from server.inputs import uploaded_file
from api.v1.common import Blueprint, json_body, read, resolve_version
from api.v1.schemas import (
    RoundListSchema,
    RoundSchema,
    ScoreRequestSchema,
    SystemListSchema,
    SystemTreeSchema,
    UploadSchema,
    VersionArgs,
)
from kb.systems import rounds, tree as systems
from kb.library import versions

blp = Blueprint("systems", __name__, url_prefix="/api/v1/systems", description="指标体系（带权重的指标树）与用体系评分")

SCORE_BODY_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": ScoreRequestSchema},
    "multipart/form-data": {"schema": UploadSchema},
}}}


@blp.route("")
class Systems(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, SystemListSchema)
    def get(self, args):
        """The indicator systems of a version."""
        ref = read(args["version"])
        return {"version": ref.label, "systems": systems.list_systems(get_session(), ref)}


@blp.route("/<code:code>")
class OneSystem(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, SystemTreeSchema)
    def get(self, args, code):
        """One system as a weighted tree; leaves name the indicators they cite."""
        ref = read(args["version"])
        return systems.system_tree(get_session(), code, ref)


@blp.route("/<code:code>/score")
class Score(MethodView):
    @requires("curate")  # it keeps the round: a write, like every other the API takes
    @costly
    @accepts(JSON, MULTIPART)
    @blp.arguments(VersionArgs, location="query")
    @blp.doc(**SCORE_BODY_DOC)
    @blp.response(200, RoundSchema)
    def post(self, args, code):
        """Score units with the system (JSON {"units": [...]} or an uploaded .xlsx/.json) and save the round.

        Every leaf needs a value for every unit; a value that does not fit its leaf's rule, an unknown
        leaf or a missing value is 422 naming unit and leaf, and nothing is saved."""
        from importers.round_files import read_units_file, units_from_json

        ref = resolve_version(args["version"])
        if request.mimetype == MULTIPART:
            units = read_units_file(*uploaded_file())
        else:
            units = units_from_json(json_body())
        session = get_session()
        round_id, _ = rounds.score_and_save(session, code, units, ref.label, user=auth.actor())
        return rounds.round_dict(rounds.get_round(session, code, round_id))


@blp.route("/<code:code>/rounds")
class Rounds(MethodView):
    @blp.response(200, RoundListSchema)
    def get(self, code):
        """The saved scoring rounds of a system, newest first."""
        require_schema()
        session = get_session()
        found = rounds.list_rounds(session, code)
        if not found:
            versions.record(session, "system", code, versions.resolve(session))  # 404 for a system that is not there
        return {"system": code, "rounds": found}


@blp.route("/<code:code>/rounds/<int:round_id>")
class OneRound(MethodView):
    @blp.response(200, RoundSchema)
    def get(self, code, round_id):
        """One saved round: every unit's total, rank, grade, scores by 一级, weakest leaves and leaf scores."""
        require_schema()
        return rounds.round_dict(rounds.get_round(get_session(), code, round_id))

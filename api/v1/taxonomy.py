"""/api/v1/taxonomy: sectors (a tree), departments, project types."""
from __future__ import annotations

from flask.views import MethodView

from server.db import get_session
from api.v1.common import Blueprint, read
from api.v1.schemas import DepartmentListSchema, ProjectTypeListSchema, SectorTreeSchema, VersionArgs
from kb import taxonomy

blp = Blueprint("taxonomy", __name__, url_prefix="/api/v1/taxonomy", description="分类：行业（功能分类）、部门、项目类别")


@blp.route("/sectors")
class Sectors(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, SectorTreeSchema)
    def get(self, args):
        """Sectors (支出功能分类) as a tree: 类 → 款 → 项."""
        ref = read(args["version"])
        return {"version": ref.label, "sectors": taxonomy.sectors(get_session(), ref)}


@blp.route("/departments")
class Departments(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, DepartmentListSchema)
    def get(self, args):
        """Departments (部门类型) and the sectors they serve."""
        ref = read(args["version"])
        return {"version": ref.label, "departments": taxonomy.departments(get_session(), ref)}


@blp.route("/project-types")
class ProjectTypes(MethodView):
    @blp.arguments(VersionArgs, location="query")
    @blp.response(200, ProjectTypeListSchema)
    def get(self, args):
        """Project types (项目类别) with the words that recognise them."""
        ref = read(args["version"])
        return {"version": ref.label, "project_types": taxonomy.project_types(get_session(), ref)}

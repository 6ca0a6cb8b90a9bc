"""Editing the three-year plan in place: years, and milestones with
revision-checked saves. Every change goes to the change log (kind
"plan_year" / "milestone"), like the draft's."""
from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from kb.errors import AlreadyExists, Conflict, InvalidInput, NotFound, Problem
from kb.library.draft import field_changes, guarded_update, log_change, require_revision
from kb.models import Department, Milestone, PlanYear, ProjectType, Sector
from kb.schemas import MilestoneSchema, PlanYearSchema, flatten_messages

MEASURES = {"specific": "个性指标数", "common": "共性指标数", "quota": "支出标准数", "task": "工作任务（不计数）"}
MILESTONE_FIELDS = ("year", "title", "sector", "department", "project_type", "measure", "target_count", "due_date", "owner", "note")


def _load(schema, raw: dict, what: str) -> dict:
    try:
        return schema().load(raw)
    except ValidationError as exc:
        raise InvalidInput(f"{what}内容有误", [Problem(m, field=f) for f, m in flatten_messages(exc.messages)])


def _json(data: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


# --- years ------------------------------------------------------------------------------

def get_year(session: Session, year: int) -> PlanYear:
    row = session.get(PlanYear, year)
    if row is None:
        raise NotFound(f"规划中没有 {year} 年")
    return row


def save_year(session: Session, raw: dict, user: str = "") -> PlanYear:
    """Add a year or change its theme and plan name."""
    data = _load(PlanYearSchema, raw, "规划年度")
    row = session.get(PlanYear, data["year"])
    before = None if row is None else {"theme": row.theme, "plan_name": row.plan_name}
    if row is None:
        row = PlanYear(**data)
        session.add(row)
    else:
        row.theme, row.plan_name = data["theme"], data["plan_name"]
    after = {"theme": data["theme"], "plan_name": data["plan_name"]}
    changes = field_changes(before, after)
    if changes:
        log_change(session, "plan_year", str(data["year"]), "create" if before is None else "update", changes, user)
    session.commit()
    return row


def delete_year(session: Session, year: int, user: str = "") -> None:
    row = get_year(session, year)
    if session.execute(select(Milestone.code).where(Milestone.year == year)).first() is not None:
        raise Conflict(f"{year} 年还有里程碑，请先删除或移到其他年度")
    log_change(session, "plan_year", str(year), "delete", field_changes({"theme": row.theme}, None), user)
    session.delete(row)
    session.commit()


# --- milestones -------------------------------------------------------------------------

def get_milestone(session: Session, code: str) -> Milestone:
    row = session.get(Milestone, code)
    if row is None:
        raise NotFound(f"未找到里程碑“{code}”")
    return row


def milestone_data(m: Milestone) -> dict:
    return {"code": m.code, **{k: getattr(m, k) for k in MILESTONE_FIELDS}}


def next_code(session: Session, year: int) -> str:
    taken = set(session.execute(select(Milestone.code)).scalars())
    n = 1
    while f"M{year}-{n:02d}" in taken:
        n += 1
    return f"M{year}-{n:02d}"


def _checked_milestone(session: Session, raw: dict) -> dict:
    cleaned = {k: (None if v == "" and k in ("sector", "department", "project_type", "due_date") else v) for k, v in raw.items()}
    data = _load(MilestoneSchema, cleaned, "里程碑")
    problems = []
    if session.get(PlanYear, data["year"]) is None:
        problems.append(Problem(f"规划中没有 {data['year']} 年，请先添加该年度", field="year"))
    for key, model, what in (("sector", Sector, "功能分类"), ("department", Department, "部门"), ("project_type", ProjectType, "项目类别")):
        if data.get(key) and session.get(model, data[key]) is None:
            problems.append(Problem(f"草稿中没有{what}“{data[key]}”", field=key))
    if data["measure"] == "task" and data["target_count"]:
        problems.append(Problem("工作任务不计数，目标数量应为0", field="target_count"))
    if problems:
        raise InvalidInput("里程碑内容有误", problems)
    return data


def create_milestone(session: Session, raw: dict, user: str = "") -> Milestone:
    data = _checked_milestone(session, raw)
    if session.get(Milestone, data["code"]) is not None:
        raise AlreadyExists(f"里程碑编码“{data['code']}”已存在")
    row = Milestone(**data)
    session.add(row)
    log_change(session, "milestone", row.code, "create", field_changes(None, _json(data)), user)
    session.commit()
    return row


def update_milestone(session: Session, code: str, raw: dict, expected_revision: int, user: str = "") -> Milestone:
    """Save a milestone unless someone else saved it since it was loaded (guarded UPDATE)."""
    row = get_milestone(session, code)
    before = _json(milestone_data(row))
    data = _checked_milestone(session, {**raw, "code": code})
    changes = field_changes(before, _json(data))
    if not changes:
        require_revision(row, expected_revision, f"里程碑“{code}”已被他人修改，请刷新后再改")
        return row
    guarded_update(session, Milestone, code, expected_revision, {k: data[k] for k in MILESTONE_FIELDS},
                   f"里程碑“{code}”已被他人修改，请刷新后再改；您的修改未保存")
    log_change(session, "milestone", code, "update", changes, user)
    session.commit()
    session.expire_all()
    return get_milestone(session, code)


def delete_milestone(session: Session, code: str, expected_revision: int, user: str = "") -> None:
    row = get_milestone(session, code)
    require_revision(row, expected_revision, f"里程碑“{code}”已被他人修改，请刷新后再删除")
    log_change(session, "milestone", code, "delete", field_changes(_json(milestone_data(row)), None), user)
    session.delete(row)
    session.commit()

"""Drafters' proposals of custom indicators (change requests) and the
curator's decision on them.

Identical proposals (same sector, same name) are one piece of demand: the
plan dashboard counts them, and a decision settles all of them at once.
"""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import select, update
from sqlmodel import Session

from kb.library import draft as library
from kb.dimensions import dimensions
from kb.errors import Conflict, InvalidInput, NotFound, Problem
from kb.models import ChangeRequest, Indicator, Sector, utcnow
from kb.schemas import SECTOR_CODE_RE, Base, flatten_messages

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
STATUS_NAMES = {PENDING: "待处理", ACCEPTED: "已采纳", REJECTED: "未采纳"}
DATA_FIELDS = ("level1", "level2", "definition", "unit", "value", "department", "project_type", "project", "reason")


class ProposalSchema(Base):
    proposer = fields.String(load_default="", validate=validate.Length(max=80))
    sector = fields.String(load_default=None, allow_none=True,
                           validate=validate.Regexp(SECTOR_CODE_RE, error="请选择行业（功能分类）"))
    name = fields.String(required=True, validate=validate.Length(min=2, max=120, error="指标名称应为2–120个字"))
    level1 = fields.String(load_default="", validate=validate.Length(max=40))
    level2 = fields.String(load_default="", validate=validate.Length(max=40))
    definition = fields.String(load_default="", validate=validate.Length(max=1000, error="指标解释不超过1000字"))
    unit = fields.String(load_default="", validate=validate.Length(max=40))
    value = fields.String(load_default="", validate=validate.Length(max=100))
    department = fields.String(load_default="", validate=validate.Length(max=80))
    project_type = fields.String(load_default="", validate=validate.Length(max=80))
    project = fields.String(load_default="", validate=validate.Length(max=200))
    reason = fields.String(load_default="", validate=validate.Length(max=1000, error="提议理由不超过1000字"))

    @validates_schema
    def _dims(self, data, **kwargs):
        dims = dimensions()
        if data.get("level1") and data["level1"] not in dims.target_level1:
            raise ValidationError("一级指标须为：" + "、".join(dims.target_level1), "level1")
        if data.get("level2") and data.get("level1") and data["level2"] not in dims.level2_of(data["level1"]):
            raise ValidationError(f"“{data['level2']}”不是“{data['level1']}”下的二级指标", "level2")


def propose(session: Session, raw: dict) -> ChangeRequest:
    """Record a drafter's proposal (no account needed; no personal data kept beyond the unit's name)."""
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
    if not cleaned.get("sector"):
        cleaned["sector"] = None
    try:
        data = ProposalSchema().load(cleaned)
    except ValidationError as exc:
        raise InvalidInput("提议内容有误", [Problem(m, field=f) for f, m in flatten_messages(exc.messages)])
    if data["sector"] and session.get(Sector, data["sector"]) is None:
        raise InvalidInput(f"未知的行业（功能分类）“{data['sector']}”")
    request = ChangeRequest(proposer=data["proposer"], sector=data["sector"], name=data["name"],
                            data={k: data[k] for k in DATA_FIELDS if data.get(k)})
    session.add(request)
    session.commit()
    session.refresh(request)
    return request


# --- reading ----------------------------------------------------------------------------

@dataclass
class ProposalGroup:
    """Identical pending proposals: the first one stands for the group."""
    requests: list[ChangeRequest]

    @property
    def first(self) -> ChangeRequest:
        return self.requests[0]

    @property
    def count(self) -> int:
        return len(self.requests)


def get_request(session: Session, request_id: int) -> ChangeRequest:
    request = session.get(ChangeRequest, request_id)
    if request is None:
        raise NotFound(f"未找到编号为 {request_id} 的提议")
    return request


def pending_groups(session: Session) -> list[ProposalGroup]:
    """Pending proposals grouped by (sector, name), most asked for first."""
    rows = session.execute(select(ChangeRequest).where(ChangeRequest.status == PENDING).order_by(ChangeRequest.id)).scalars()
    groups: dict[tuple, list[ChangeRequest]] = {}
    for r in rows:
        groups.setdefault((r.sector or "", r.name), []).append(r)
    return sorted((ProposalGroup(g) for g in groups.values()), key=lambda g: (-g.count, g.first.id))


def decided(session: Session, limit: int = 50) -> list[ChangeRequest]:
    return list(session.execute(
        select(ChangeRequest).where(ChangeRequest.status != PENDING).order_by(ChangeRequest.decided_at.desc(), ChangeRequest.id.desc())
        .limit(limit)
    ).scalars())


def pending_count(session: Session) -> int:
    return len(session.execute(select(ChangeRequest.id).where(ChangeRequest.status == PENDING)).all())


# --- deciding ---------------------------------------------------------------------------

def _resolve(session: Session | None, kind: str, text: str) -> str | None:
    """A department or project type a unit typed (its code or name, 类 optional) → its code in the draft."""
    text = (text or "").strip()
    if not text or session is None:
        return None
    for r in library.draft_records(session, kind):
        if text in (r.code, r.name) or text.removesuffix("类") == r.name.removesuffix("类"):
            return r.code
    return None


def indicator_draft(request: ChangeRequest, code: str = "", session: Session | None = None) -> dict:
    """A starting point for the indicator the curator makes of a proposal: every field the unit proposed is
    carried over (its value as a 计划标准 reference value; its department and project type where the library
    knows them, otherwise named in the note)."""
    data = request.data or {}
    note = f"来自预算单位提议（#{request.id}{'，' + request.proposer if request.proposer else ''}）"
    if data.get("reason"):
        note += f"：{data['reason']}"
    department = _resolve(session, "department", data.get("department", ""))
    project_type = _resolve(session, "project_type", data.get("project_type", ""))
    unknown = [f"{label}“{data[key]}”" for key, label, found in (("department", "部门", department),
                                                                ("project_type", "项目类别", project_type))
               if data.get(key) and not found]
    if unknown:
        note += "；提议的" + "、".join(unknown) + "不在库中"
    if data.get("project"):
        note += f"；提议项目：{data['project']}"
    values = []
    if data.get("value"):
        values.append({"value": data["value"], "basis": "计划标准",
                       "note": f"提议单位建议值{('（' + data['project'] + '）') if data.get('project') else ''}"[:300]})
    return {
        "code": code, "kind": "specific", "level1": data.get("level1", ""), "level2": data.get("level2", ""),
        "name": request.name, "definition": data.get("definition", ""), "unit": data.get("unit", ""), "direction": "none",
        "sectors": [request.sector] if request.sector else [], "departments": [department] if department else [],
        "project_types": [project_type] if project_type else [], "reference_values": values, "status": "candidate",
        "source": {"document": f"预算单位提议（{request.proposer or '未署名'}）"}, "provenance": "local",
        "certainty": "uncertain", "note": note[:4000],
    }


def _settle(session: Session, request: ChangeRequest, status: str, user: str, note: str) -> list[int]:
    """Mark the request and its identical pending siblings decided; refuse if someone decided first."""
    if request.status != PENDING:
        raise Conflict(f"该提议已被{request.decided_by or '他人'}处理（{STATUS_NAMES.get(request.status, request.status)}）")
    sector_match = ChangeRequest.sector.is_(None) if request.sector is None else ChangeRequest.sector == request.sector
    ids = list(session.execute(
        select(ChangeRequest.id).where(ChangeRequest.status == PENDING, ChangeRequest.name == request.name, sector_match)
    ).scalars())
    if request.id not in ids:
        raise Conflict("该提议刚刚已被他人处理，请刷新")
    moved = session.execute(
        update(ChangeRequest).where(ChangeRequest.id.in_(ids), ChangeRequest.status == PENDING)
        .values(status=status, decided_by=user or "", decided_at=utcnow(), note=note)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != len(ids):
        session.rollback()
        raise Conflict("该提议刚刚已被他人处理，请刷新")
    return ids


def accept(session: Session, request_id: int, indicator: dict, user: str = "", note: str = "") -> tuple[Indicator, list[int]]:
    """Add the indicator made of a proposal to the draft and settle the proposal (one transaction)."""
    request = get_request(session, request_id)
    if indicator.get("status") not in ("candidate", "standard"):
        raise InvalidInput("采纳的指标状态须为候选或标准")
    try:
        ids = _settle(session, request, ACCEPTED, user, note or f"已采纳为 {indicator.get('code', '')}")
        obj = library.create_record(session, "indicator", indicator, user=user)  # commits the settlement with it
    except Exception:
        session.rollback()
        raise
    session.expire_all()
    return obj, ids


def reject(session: Session, request_id: int, user: str = "", note: str = "") -> list[int]:
    note = (note or "").strip()
    if len(note) < 2:
        raise InvalidInput("请写明不予采纳的理由（至少2个字），提议单位会看到它")
    request = get_request(session, request_id)
    try:
        ids = _settle(session, request, REJECTED, user, note[:1000])
        session.commit()
    except Exception:
        session.rollback()
        raise
    session.expire_all()
    return ids

"""Tables of the library.

Each versioned kind has a `*Record` class (the fields, also used as the data
class for published snapshots) and a table class for the draft, which adds a
`revision` counter for optimistic locking. Published versions live in
`Revision` (one row per distinct content of a code) and `VersionItem` (which
revisions make up a version); both are insert-only.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _json_list() -> Any:
    return Field(default_factory=list, sa_type=JSON)


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_type=JSON)


class Provenanced(SQLModel):
    source: dict = _json_dict()  # document, doc_number, issuer, url
    provenance: str = "local"  # verbatim | adapted | local
    certainty: str = "likely"  # verified | likely | uncertain
    note: str = ""


# --- taxonomy ---------------------------------------------------------------

class SectorRecord(Provenanced):
    code: str = Field(primary_key=True, max_length=16)
    name: str


class Sector(SectorRecord, table=True):
    revision: int = 1


class DepartmentRecord(Provenanced):
    code: str = Field(primary_key=True, max_length=40)
    name: str
    sectors: list[str] = _json_list()
    type: bool = True  # a department type (市级综合医院), not a named unit


class Department(DepartmentRecord, table=True):
    revision: int = 1


class ProjectTypeRecord(Provenanced):
    code: str = Field(primary_key=True, max_length=40)
    name: str
    description: str = ""
    keywords: list[str] = _json_list()


class ProjectType(ProjectTypeRecord, table=True):
    __tablename__ = "project_type"
    revision: int = 1


# --- indicators ---------------------------------------------------------------

class IndicatorRecord(Provenanced):
    code: str = Field(primary_key=True, max_length=40)
    kind: str  # common | specific
    level1: str
    level2: str
    name: str = Field(index=True)
    definition: str = ""
    formula: str = ""
    unit: str = ""
    operator: str = ""  # ≥ ≤ = > < 区间 定性
    direction: str = "none"  # up | down | monitor | none
    qualitative: bool = False
    target_level1: str = ""
    target_level2: str = ""
    reference_values: list[dict] = _json_list()  # {value, basis, note}
    scoring_rule: str = ""
    data_source: str = ""
    national_monitoring: bool = False
    sectors: list[str] = _json_list()
    departments: list[str] = _json_list()
    project_types: list[str] = _json_list()
    keywords: list[str] = _json_list()
    status: str = "standard"  # candidate | standard | superseded | retired
    superseded_by: Optional[str] = None

    @property
    def target_dims(self) -> tuple[str, str]:
        """Where the indicator goes in a 绩效目标表 (一级, 二级)."""
        return (self.target_level1 or self.level1, self.target_level2 or self.level2)


class Indicator(IndicatorRecord, table=True):
    revision: int = 1
    updated_at: datetime = Field(default_factory=utcnow)


# --- indicator systems ------------------------------------------------------------

class SystemRecord(Provenanced):
    code: str = Field(primary_key=True, max_length=40)
    name: str
    description: str = ""
    sectors: list[str] = _json_list()
    nodes: list[dict] = _json_list()  # {name, weight, children} or {indicator, weight, scoring_rule}
    status: str = "standard"


class IndicatorSystem(SystemRecord, table=True):
    __tablename__ = "indicator_system"
    revision: int = 1


# --- quota standards ------------------------------------------------------------

class QuotaRecord(Provenanced):
    code: str = Field(primary_key=True, max_length=40)
    name: str
    category: str = Field(index=True)
    standard_type: str = "开支标准"
    tier: str = ""
    unit: str
    amount: float
    items: list[dict] = _json_list()  # {name, amount}
    control_mode: str = ""
    adjustments: str = ""
    conditions: list[str] = _json_list()
    scope: str = ""
    level: str = ""
    region: str = ""
    published_date: Optional[date] = None
    effective_date: date
    expiry_date: Optional[date] = None
    status: str = "current"  # current | superseded | repealed
    supersedes: Optional[str] = None
    sectors: list[str] = _json_list()
    project_types: list[str] = _json_list()
    keywords: list[str] = _json_list()


class Quota(QuotaRecord, table=True):
    revision: int = 1


# --- cases: real target tables, versioned with the library --------------------------

class CaseRecord(Provenanced):
    """A real, published 绩效目标表 (or 自评表) as its source printed it: the project
    and its rows. Rows are {level1, level2, name, operator, value, unit, actual,
    indicator}; `indicator` is the library code a row corresponds to, when one does."""
    code: str = Field(primary_key=True, max_length=40)
    name: str
    summary: str = ""  # 项目概况 / 立项依据, as printed
    goal: str = ""  # 年度总体目标
    sector: str = ""  # 支出功能分类 code
    department: str = ""  # 主管部门, as printed
    unit: str = ""  # 实施单位, as printed
    region: str = ""
    province: str = ""
    year: Optional[int] = None
    budget_wan_yuan: Optional[float] = None
    project_type: str = ""
    expenditure_type: str = ""  # 项目 | 部门整体 | 政策
    table_kind: str = "目标表"  # 目标表 | 自评表 | 监控表
    rows: list[dict] = _json_list()
    incomplete: bool = False  # rows left out (illegible, cut off) or the table cut off
    actuals: bool = False  # rows carry actual results (自评), not only targets
    status: str = "standard"  # standard | retired


class Case(CaseRecord, table=True):
    __tablename__ = "target_case"
    revision: int = 1


# --- search text (synonyms), versioned with the library ----------------------------

class TextListRecord(SQLModel):
    code: str = Field(primary_key=True, max_length=40)  # "synonyms"
    data: dict = _json_dict()


class TextList(TextListRecord, table=True):
    __tablename__ = "text_list"
    revision: int = 1


# --- versions -----------------------------------------------------------------------

class Version(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    label: str = Field(unique=True, max_length=32)
    notes: str = ""
    published_at: datetime = Field(default_factory=utcnow)
    published_by: str = ""
    counts: dict = _json_dict()
    content_hash: str = ""


class Revision(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("kind", "code", "number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    code: str = Field(max_length=40, index=True)
    number: int
    data: dict = _json_dict()
    content_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class VersionItem(SQLModel, table=True):
    __tablename__ = "version_item"
    version_id: int = Field(foreign_key="version.id", primary_key=True)
    kind: str = Field(primary_key=True, max_length=20)
    code: str = Field(primary_key=True, max_length=40)
    revision_id: int = Field(foreign_key="revision.id", index=True)


class LibraryState(SQLModel, table=True):
    """A single row: which version is current. Publishing bumps `revision`
    with a guarded update, so two publishes at once cannot both win."""
    __tablename__ = "library_state"
    id: int = Field(default=1, primary_key=True)
    current_version_id: Optional[int] = Field(default=None, foreign_key="version.id")
    revision: int = 1


class ChangeLog(SQLModel, table=True):
    __tablename__ = "change_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user: str = ""
    kind: str = Field(max_length=20)
    code: str = Field(max_length=40, index=True)
    action: str = Field(max_length=20)  # create | update | retire | import | publish
    changes: dict = _json_dict()  # {field: {"previous": …, "current": …}}


# --- the three-year plan (a working document, not versioned) -----------------------

class PlanYear(SQLModel, table=True):
    __tablename__ = "plan_year"
    year: int = Field(primary_key=True)
    theme: str = ""
    plan_name: str = ""


class Milestone(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=40)
    year: int = Field(foreign_key="plan_year.year", index=True)
    title: str
    sector: Optional[str] = None
    department: Optional[str] = None
    project_type: Optional[str] = None
    # what target_count counts: specific | common (indicators in scope), quota (支出标准), task (nothing)
    measure: str = Field(default="specific", max_length=20)
    target_count: int = 0
    due_date: Optional[date] = None
    owner: str = ""
    note: str = ""
    revision: int = 1


# --- search log, accounts, API keys, change requests -------------------------------

class QueryLog(SQLModel, table=True):
    """One search as it was asked: no user, no address (no personal data)."""
    __tablename__ = "query_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    query: str = Field(max_length=200)
    normalized: str = Field(default="", max_length=200, index=True)
    filters: dict = _json_dict()
    version: str = Field(default="", max_length=32)
    total: int = 0
    duration_ms: float = 0.0
    source: str = Field(default="", max_length=20)  # web | api | cli | suggest


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=80)
    password_hash: str
    role: str = Field(max_length=20)  # curator | admin
    active: bool = True
    # a login remembers the epoch it began in; raising it ends every session of the account
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16, index=True)  # the key's first characters, to find its row
    key_hash: str
    scopes: list[str] = _json_list()  # read | suggest | curate
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: Optional[datetime] = None
    revoked_at: Optional[datetime] = None


class ChangeRequest(SQLModel, table=True):
    """A drafter's proposal of a custom indicator, for the curator to accept or reject."""
    __tablename__ = "change_request"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    proposer: str = Field(default="", max_length=80)  # a unit's name, as they give it
    sector: Optional[str] = Field(default=None, max_length=16, index=True)
    name: str = Field(max_length=120)
    data: dict = _json_dict()  # the proposed indicator fields
    status: str = Field(default="pending", max_length=20)  # pending | accepted | rejected
    decided_by: str = ""
    decided_at: Optional[datetime] = None
    note: str = ""


# --- long operations run in the background ------------------------------------------------

class Job(SQLModel, table=True):
    """A long operation (publishing) that runs beside the request that asked for it."""
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # publish
    status: str = Field(default="queued", max_length=20)  # queued | running | done | failed
    params: dict = _json_dict()
    progress: str = ""
    result: dict = _json_dict()
    error: str = ""
    problems: list[dict] = _json_list()  # {message, location, row, field}
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    host: str = Field(default="", max_length=120)
    pid: Optional[int] = None


# --- evaluation rounds: units scored with an indicator system ------------------------------

class EvaluationRound(SQLModel, table=True):
    """One scoring of several units (e.g. 12 hospitals) with a system as a published version
    had it. The input is kept as given, so the round can be scored again and must agree."""
    __tablename__ = "evaluation_round"
    id: Optional[int] = Field(default=None, primary_key=True)
    system_code: str = Field(max_length=40, index=True)
    version_label: str = Field(max_length=32)  # never "current": the label it resolved to
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    units: list[dict] = _json_list()  # [{name, values}] as given
    results: dict = _json_dict()  # kb.systems.scoring.RoundScores.to_dict()

"""The draft library: reading records of any version, and changing the draft.

Every change to the draft goes through these functions, which validate with
kb.schemas, write the change log and guard against stale writes.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from marshmallow import ValidationError
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel

from kb.library import integrity
from kb.errors import AlreadyExists, Conflict, ImmutableError, InvalidInput, Problem, UnknownCode
from kb.models import (
    Case,
    CaseRecord,
    ChangeLog,
    Department,
    DepartmentRecord,
    Indicator,
    IndicatorRecord,
    IndicatorSystem,
    ProjectType,
    ProjectTypeRecord,
    Quota,
    QuotaRecord,
    Revision,
    Sector,
    SectorRecord,
    SystemRecord,
    TextList,
    TextListRecord,
    Version,
    VersionItem,
    utcnow,
)
from kb.schemas import SCHEMAS, flatten_messages

# Order matters: referenced kinds come before the kinds that reference them.
KINDS = ("sector", "department", "project_type", "text", "indicator", "system", "quota", "case")
DRAFT_MODELS: dict[str, type[SQLModel]] = {
    "sector": Sector,
    "department": Department,
    "project_type": ProjectType,
    "text": TextList,
    "indicator": Indicator,
    "system": IndicatorSystem,
    "quota": Quota,
    "case": Case,
}
RECORD_MODELS: dict[str, type[SQLModel]] = {
    "sector": SectorRecord,
    "department": DepartmentRecord,
    "project_type": ProjectTypeRecord,
    "text": TextListRecord,
    "indicator": IndicatorRecord,
    "system": SystemRecord,
    "quota": QuotaRecord,
    "case": CaseRecord,
}
KIND_NAMES = {kind: name for kind, (_, name) in SCHEMAS.items()}


# --- published rows never change -----------------------------------------------------

@event.listens_for(OrmSession, "before_flush")
def _refuse_changes_to_published(session, _flush_context, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (Version, Revision, VersionItem)) and (obj in session.deleted or session.is_modified(obj)):
            raise ImmutableError("已发布的版本不可修改")


@event.listens_for(OrmSession, "do_orm_execute")
def _refuse_bulk_changes_to_published(state):
    if state.is_update or state.is_delete:
        tables = {getattr(m.class_, "__tablename__", None) for m in state.all_mappers}
        if tables & {"version", "revision", "version_item"}:
            raise ImmutableError("已发布的版本不可修改")


# --- plain helpers ------------------------------------------------------------

def record_data(kind: str, obj: Any) -> dict:
    """The record's fields as JSON-ready data (what a snapshot stores)."""
    model = RECORD_MODELS[kind]
    record = obj if type(obj) is model else model.model_validate(obj, from_attributes=True)
    return record.model_dump(mode="json")


def content_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- comparing records: a missing key is an empty value -----------------------------
#
# A record written before a field existed lacks its key; the same record read
# through today's model carries the field's default ("", None, [] or {}). Both
# say "no value", so revisions, hashes, diffs and the change log must treat them
# as equal, or adding a field gives every record a new revision at the next publish.

def is_blank(value: Any) -> bool:
    """No value: what a missing key means, whatever the field's type (0 and False are values)."""
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def field_changes(before: dict | None, after: dict | None) -> dict[str, dict]:
    before, after = before or {}, after or {}
    return {
        key: {"previous": before.get(key), "current": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key) and not (is_blank(before.get(key)) and is_blank(after.get(key)))
    }


# The fields each kind had when revisions were first hashed. Their keys stay in
# the hash even when blank, so every hash already stored in `revision` keeps
# matching the same content; a field added since counts only when it holds a
# value. A fact about stored data, not a list to maintain: never add to it.
HASHED_WHEN_BLANK: dict[str, frozenset[str]] = {kind: frozenset(names.split()) for kind, names in {
    "sector": "certainty code name note provenance source",
    "department": "certainty code name note provenance sectors source type",
    "project_type": "certainty code description keywords name note provenance source",
    "text": "code data",
    "indicator": "certainty code data_source definition departments direction formula keywords kind level1 level2 "
                 "name national_monitoring note operator project_types provenance qualitative reference_values "
                 "scoring_rule sectors source status superseded_by target_level1 target_level2 unit",
    "system": "certainty code description name nodes note provenance sectors source status",
    "quota": "adjustments amount category certainty code conditions control_mode effective_date expiry_date items "
             "keywords level name note project_types provenance published_date region scope sectors source "
             "standard_type status supersedes tier unit",
    "case": "actuals budget_wan_yuan certainty code department expenditure_type goal incomplete name note "
            "project_type provenance province region rows sector source status summary table_kind unit year",
}.items()}


def record_hash(kind: str, data: dict) -> str:
    """The content hash of one record, blind to blank fields added after HASHED_WHEN_BLANK."""
    kept = HASHED_WHEN_BLANK[kind]
    return content_hash({key: value for key, value in data.items() if key in kept or not is_blank(value)})


def log_change(session: Session, kind: str, code: str, action: str, changes: dict, user: str = "") -> None:
    session.add(ChangeLog(kind=kind, code=code, action=action, changes=changes, user=user or ""))


# --- validation -----------------------------------------------------------------------

@dataclass
class Batch:
    """Validated records to apply to the draft, by kind, in input order."""
    items: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in KINDS})
    locations: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, code) → where it came from

    def count(self) -> int:
        return sum(len(v) for v in self.items.values())


_schemas: dict[str, object] = {}


def validate_record(kind: str, raw: dict, location: str = "", row: int | None = None) -> tuple[dict | None, list[Problem]]:
    # one schema instance per kind: building one costs as much as validating a record
    schema = _schemas.get(kind)
    if schema is None:
        schema = _schemas[kind] = SCHEMAS[kind][0]()
    try:
        return schema.load(raw), []
    except ValidationError as exc:
        return None, [Problem(message=m, location=location, row=row, field=f) for f, m in flatten_messages(exc.messages)]


def build_batch(entries: Iterable[tuple[str, dict, str, int | None]],
                progress: Callable[[int, int | None], None] | None = None) -> tuple[Batch, list[Problem]]:
    """entries: (kind, raw record, location, row). Validates each and refuses duplicate codes.

    `progress(records_done, records_total)` as records are validated (total None for an iterator)."""
    batch, problems = Batch(), []
    total = len(entries) if isinstance(entries, (list, tuple)) else None
    for done, (kind, raw, location, row) in enumerate(entries, start=1):
        if progress is not None:
            progress(done, total)
        data, errs = validate_record(kind, raw, location, row)
        problems.extend(errs)
        if data is None:
            continue
        key = (kind, data["code"])
        if key in batch.locations:
            problems.append(Problem(f"编码“{data['code']}”重复（首次出现于 {batch.locations[key]}）", location, row, "code"))
            continue
        batch.locations[key] = f"{location} 第{row}项" if row else location
        batch.items[kind].append(data)
    return batch, problems


# --- reading the draft --------------------------------------------------------------

def draft_records(session: Session, kind: str) -> list:
    model = DRAFT_MODELS[kind]
    return list(session.exec(select(model).order_by(model.code)).scalars())


def draft_count(session: Session, kind: str) -> int:
    """How many records of `kind` the draft holds, counted by the database (reading them costs a second at 4,000)."""
    return session.exec(select(func.count()).select_from(DRAFT_MODELS[kind])).scalar_one()


def draft_record(session: Session, kind: str, code: str):
    obj = session.get(DRAFT_MODELS[kind], code)
    if obj is None:
        raise UnknownCode(code, kind, KIND_NAMES[kind])
    return obj


# --- changing the draft ----------------------------------------------------------------

def _refuse_broken_references(session: Session, touched: list[tuple[str, Any]]) -> None:
    """The checks publishing makes of codes and references (kb.library.integrity), made of the
    records a write touches, so the draft never holds what a publish would refuse."""
    if not touched:
        return
    codes = {kind: set(session.exec(select(DRAFT_MODELS[kind].code)).scalars()) for kind in KINDS}
    for kind, record in touched:
        codes[kind].add(record.code)
    retired = set(session.exec(select(Indicator.code).where(Indicator.status == "retired")).scalars())
    problems = integrity.problems(touched, codes, retired)
    if problems:
        raise InvalidInput(f"有 {len(problems)} 处编码或引用问题：{problems[0].message}", problems)


@dataclass
class ApplyReport:
    added: dict[str, list[str]] = field(default_factory=dict)
    changed: dict[str, list[str]] = field(default_factory=dict)
    unchanged: int = 0
    dry_run: bool = False

    def total(self, what: str) -> int:
        return sum(len(v) for v in getattr(self, what).values())


def apply_batch(session: Session, batch: Batch, user: str = "", dry_run: bool = False, action: str = "import",
                progress: Callable[[int, int], None] | None = None) -> ApplyReport:
    """Apply a validated batch to the draft in one transaction (all or nothing).

    `progress(records_done, records_total)` is called as records are applied (a seed or a large import
    takes seconds)."""
    report = ApplyReport(dry_run=dry_run)
    touched: list[tuple[str, Any]] = []
    total = sum(len(items) for items in batch.items.values())
    try:
        for kind in KINDS:
            model = DRAFT_MODELS[kind]
            existing = {obj.code: obj for obj in session.exec(select(model)).scalars()}
            for data in batch.items.get(kind, []):
                obj = existing.get(data["code"])
                new = RECORD_MODELS[kind](**data)
                new_data = new.model_dump(mode="json")
                touched.append((kind, new))
                if progress is not None:
                    progress(len(touched), total)
                if obj is None:
                    session.add(model(**new.model_dump()))
                    report.added.setdefault(kind, []).append(data["code"])
                    log_change(session, kind, data["code"], "create", field_changes(None, new_data), user)
                    continue
                old_data = record_data(kind, obj)
                changes = field_changes(old_data, new_data)
                if not changes:
                    report.unchanged += 1
                    continue
                for key in changes:
                    setattr(obj, key, getattr(new, key))
                obj.revision += 1
                report.changed.setdefault(kind, []).append(data["code"])
                log_change(session, kind, data["code"], action, changes, user)
        session.flush()
        _refuse_broken_references(session, touched)
    except Exception:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


def create_record(session: Session, kind: str, raw: dict, user: str = ""):
    data, problems = validate_record(kind, raw)
    if problems:
        raise InvalidInput(f"{KIND_NAMES[kind]}内容有误", problems)
    model = DRAFT_MODELS[kind]
    if session.get(model, data["code"]) is not None:
        raise AlreadyExists(f"编码“{data['code']}”已存在")
    record = RECORD_MODELS[kind](**data)
    _refuse_broken_references(session, [(kind, record)])
    obj = model(**record.model_dump())
    session.add(obj)
    log_change(session, kind, obj.code, "create", field_changes(None, record_data(kind, obj)), user)
    session.commit()
    return obj


# --- optimistic locking --------------------------------------------------------------
# Draft records and plan milestones carry a revision. A save names the revision the editor loaded and
# lands only if the row is still at it: a stale write gets Conflict (HTTP 409), never a silent overwrite.

def require_revision(row, expected_revision: int, message: str) -> None:
    """Refuse (Conflict) when `row` is no longer at the revision the editor loaded."""
    if row.revision != expected_revision:
        raise Conflict(message)


def guarded_update(session: Session, model: type[SQLModel], code: str, expected_revision: int, values: dict,
                   message: str) -> None:
    """UPDATE the row `code` of `model` with `values` and the next revision, WHERE it is still at
    `expected_revision` (and stamp updated_at where the model has one). The guard is in the statement, so
    of two editors who loaded the same revision only the first one's save lands, whatever the database;
    the other's transaction is rolled back and Conflict(message) raised. No commit."""
    stmt = (
        update(model)
        .where(model.code == code, model.revision == expected_revision)
        .values(**values, revision=expected_revision + 1)
    )
    if hasattr(model, "updated_at"):
        stmt = stmt.values(updated_at=utcnow())
    if session.execute(stmt.execution_options(synchronize_session=False)).rowcount != 1:
        session.rollback()
        raise Conflict(message)


def update_record(session: Session, kind: str, code: str, changes: dict, expected_revision: int, user: str = "", action: str = "update"):
    """Change fields of one draft record, refusing a stale write.

    `expected_revision` is the revision the editor loaded. The write is a
    guarded UPDATE (… WHERE revision = expected), so of two editors who loaded
    the same revision only the first one's save lands.
    """
    model = DRAFT_MODELS[kind]
    current = draft_record(session, kind, code)
    before = record_data(kind, current)
    if "code" in changes and changes["code"] != code:
        raise InvalidInput("编码不可修改；如需改编码，请新建指标并将旧指标标为已替代")
    merged = {**before, **changes, "code": code}
    data, problems = validate_record(kind, merged)
    if problems:
        raise InvalidInput(f"{KIND_NAMES[kind]}内容有误", problems)
    record = RECORD_MODELS[kind](**data)
    values = record.model_dump()
    diff = field_changes(before, record.model_dump(mode="json"))
    if not diff:
        require_revision(current, expected_revision, f"“{code}”已被他人修改（当前修订号 {current.revision}），请刷新后再改")
        return current
    _refuse_broken_references(session, [(kind, record)])
    guarded_update(session, model, code, expected_revision, {k: values[k] for k in diff},
                   f"“{code}”已被他人修改，请刷新后再改；您的修改未保存")
    log_change(session, kind, code, action, diff, user)
    session.commit()
    session.expire_all()
    return draft_record(session, kind, code)


def retire_indicator(session: Session, code: str, expected_revision: int, user: str = "", superseded_by: str | None = None):
    if superseded_by:
        draft_record(session, "indicator", superseded_by)
        changes = {"status": "superseded", "superseded_by": superseded_by}
    else:
        changes = {"status": "retired"}
    return update_record(session, "indicator", code, changes, expected_revision, user, action="retire")


def change_log(session: Session, code: str | None = None, limit: int = 200) -> list[ChangeLog]:
    stmt = select(ChangeLog).order_by(ChangeLog.id.desc()).limit(limit)
    if code:
        stmt = stmt.where(ChangeLog.code == code)
    return list(session.exec(stmt).scalars())

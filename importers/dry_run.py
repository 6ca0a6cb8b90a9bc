"""Importing a file into the draft in two steps: `plan_import` reads and
validates it and says what would happen (a dry run); `apply_import` applies
a plan without errors in one transaction, all or nothing.

    plan = plan_import(session, "湖南省卫生健康指标库.xlsx", defaults=ImportDefaults(source_document="…"))
    plan.adds, plan.changes, plan.duplicates, plan.errors, plan.unmapped
    apply_import(session, plan, user="张三")

Tables (.xlsx, .csv) and JSON lists hold indicators; a whole-library JSON
document (what `zhibiao export --format json` writes) may hold every kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from marshmallow import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from importers import library_json
from importers.aliases import alias_table
from importers.csv_reader import read_csv
from importers.files import FileRejected, Limits, Source, file_format, read_upload
from importers.indicator_rows import ImportDefaults, RowFields, column_label, field_column, merge, read_row
from importers.names import generated_code, identity, normalised_name
from importers.table import Progress, Table, TableSheet
from importers.taxonomy import AXES, AXIS_NAMES, Taxonomy
from importers.xlsx_reader import read_xlsx
from kb import untrusted
from kb.errors import Conflict, InvalidInput, Problem
from kb.library.draft import (
    DRAFT_MODELS,
    KINDS,
    RECORD_MODELS,
    ApplyReport,
    Batch,
    apply_batch,
    draft_records,
    field_changes,
    record_data,
)
from kb.schemas import SCHEMAS, flatten_messages

INACTIVE = ("retired", "superseded")
DRAFT_PLACE = "草稿"


@dataclass
class PlannedRecord:
    """One record of the file and what applying it does to the draft."""
    kind: str  # record kind: indicator (tables) or any kind (whole-library JSON)
    code: str
    name: str
    sheet: str  # sheet, file or part of the file it came from
    row: int | None
    data: dict = field(repr=False)  # the validated record
    changes: dict = field(default_factory=dict)  # {field: {"previous", "current"}} for a code in the draft
    generated_code: bool = False

    @property
    def where(self) -> str:
        return f"{self.sheet} 第{self.row}行" if self.row else self.sheet


@dataclass(frozen=True)
class Duplicate:
    """The same indicator as another under a different code: the same normalised name and scope, or
    (against the draft) the same name or a synonym of it in any scope. Not an error: a duplicate of
    a draft indicator is left out of the import unless the curator confirms it."""
    code: str
    name: str
    sheet: str
    row: int | None
    other_code: str
    other_name: str
    other_where: str  # "草稿", or where the other row is in the file
    reason: str = "同名同范围"  # 同名同范围 | 同名 | 同义词

    @property
    def in_draft(self) -> bool:
        return self.other_where == DRAFT_PLACE


@dataclass(frozen=True)
class ColumnNote:
    sheet: str
    column: str  # the column letter
    header: str
    reason: str = ""


@dataclass(frozen=True)
class SheetSummary:
    name: str
    header_row: int | None
    rows: int
    columns: dict  # column key → the file's header, e.g. {"name": "指标名称（C列）"}
    skipped: str = ""


@dataclass
class ImportPlan:
    filename: str
    format: str  # xlsx | csv | json
    adds: list[PlannedRecord] = field(default_factory=list)
    changes: list[PlannedRecord] = field(default_factory=list)
    unchanged: list[PlannedRecord] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    unmapped: list[ColumnNote] = field(default_factory=list)  # headers no alias knows: confirm a mapping
    ignored: list[ColumnNote] = field(default_factory=list)  # columns read but not used (序号, 分值 …)
    sheets: list[SheetSummary] = field(default_factory=list)
    batch: Batch = field(default_factory=Batch, repr=False)
    # (kind, code) → draft revision the plan was made against (None: not in the draft)
    expected: dict[tuple[str, str], int | None] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {"adds": len(self.adds), "changes": len(self.changes), "unchanged": len(self.unchanged),
                "duplicates": len(self.duplicates), "errors": len(self.errors), "unmapped": len(self.unmapped)}

    def to_dict(self) -> dict:
        """JSON-ready (the CLI's --json answer and the preview page's data)."""
        def rec(r: PlannedRecord, with_changes: bool = False) -> dict:
            out = {"kind": r.kind, "code": r.code, "name": r.name, "sheet": r.sheet, "row": r.row,
                   "generated_code": r.generated_code}
            if with_changes:
                out["changes"] = r.changes
            return out

        return {
            "filename": self.filename,
            "format": self.format,
            "ok": self.ok,
            "counts": self.counts(),
            "sheets": [{"name": s.name, "header_row": s.header_row, "rows": s.rows, "columns": s.columns,
                        "skipped": s.skipped} for s in self.sheets],
            "unmapped": [vars_of(c) for c in self.unmapped],
            "ignored": [vars_of(c) for c in self.ignored],
            "adds": [rec(r) for r in self.adds],
            "changes": [rec(r, True) for r in self.changes],
            "duplicates": [{**vars_of(d), "in_draft": d.in_draft} for d in self.duplicates],
            "errors": [{"sheet": p.location, "row": p.row, "column": p.field, "message": p.message} for p in self.errors],
        }


def vars_of(obj) -> dict:
    return dict(obj.__dict__)


# --- planning ------------------------------------------------------------------------

def plan_import(session: Session, source: Source, filename: str | None = None, mapping: dict | None = None,
                defaults: ImportDefaults | None = None, *, sheet: str | None = None, limits: Limits | None = None,
                progress: Progress | None = None) -> ImportPlan:
    """Read and validate a file and say what importing it into the draft would do.

    `mapping` overrides the header alias table ({"考核内容": "definition", "联系人": None});
    `defaults` fill what rows do not state; `progress(rows_read, total_or_None)` is called
    every 500 rows. Raises FileRejected for a file that cannot be read at all; every other
    problem is in `plan.errors`, located by sheet, row and column.
    """
    limits = limits or Limits.from_env()
    defaults = (defaults or ImportDefaults()).checked()
    data, filename = read_upload(source, filename, limits)
    fmt = file_format(data, filename)
    builder = _PlanBuilder(session, ImportPlan(filename, fmt), defaults)
    if fmt == "json":
        builder.json_document(_load_json(data, filename))
    else:
        if fmt == "xlsx":
            table = read_xlsx(data, filename, sheet=sheet, mapping=mapping, limits=limits, progress=progress)
        else:
            table = read_csv(data, filename, mapping=mapping, limits=limits, progress=progress)
        builder.table(table)
    return builder.finish()


def _load_json(data: bytes, filename: str):
    try:
        return untrusted.loads(data)
    except untrusted.MalformedInput as exc:
        raise FileRejected(f"“{filename}”{exc.message}") from None


class _Validator:
    """kb.library.draft.validate_record with one schema instance per kind: building a
    marshmallow schema costs more than loading a record with it."""

    def __init__(self):
        self.schemas: dict[str, Any] = {}

    def __call__(self, kind: str, raw: dict, location: str = "", row: int | None = None) -> tuple[dict | None, list[Problem]]:
        schema = self.schemas.get(kind)
        if schema is None:
            schema = self.schemas[kind] = SCHEMAS[kind][0]()
        try:
            return schema.load(raw), []
        except ValidationError as exc:
            return None, [Problem(m, location, row, f) for f, m in flatten_messages(exc.messages)]


@dataclass(frozen=True)
class _DraftLike:
    """A draft indicator as the file being imported states it (code, name, kind: what duplicates compare)."""
    code: str
    name: str
    kind: str | None


class _PlanBuilder:
    def __init__(self, session: Session, plan: ImportPlan, defaults: ImportDefaults):
        self.session, self.plan, self.defaults = session, plan, defaults
        self.validate = _Validator()
        self.records: list[PlannedRecord] = []
        self.seen: dict[tuple[str, str], str] = {}  # (kind, code) → where first seen
        self.generated: dict[str, int] = {}
        self._draft: dict[str, Any] | None = None
        self._draft_data: dict[str, dict] = {}
        self._taxonomy: Taxonomy | None = None

    @property
    def draft(self) -> dict[str, Any]:
        if self._draft is None:
            self._draft = {obj.code: obj for obj in draft_records(self.session, "indicator")}
        return self._draft

    def draft_data(self, code: str) -> dict | None:
        """The draft indicator's record data (None when the code is new), computed once."""
        if code not in self.draft:
            return None
        if code not in self._draft_data:
            self._draft_data[code] = record_data("indicator", self.draft[code])
        return self._draft_data[code]

    @property
    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            self._taxonomy = Taxonomy.of_draft(self.session)
        return self._taxonomy

    # --- tables ---

    def table(self, table: Table) -> None:
        for sheet in table.sheets:
            self.plan.unmapped += [ColumnNote(sheet.name, c.letter, c.header) for c in sheet.unmapped]
            self.plan.ignored += [ColumnNote(sheet.name, c.letter, c.header, why) for c, why in sheet.ignored]
            self.plan.sheets.append(SheetSummary(sheet.name, sheet.header_row, len(sheet.rows),
                                                 {k: c.label for k, c in sheet.columns.items()}, sheet.skipped))
        read = [s for s in table.sheets if not s.skipped]
        if not read:
            for s in table.sheets:
                self.plan.errors.append(Problem(s.skipped, s.name))
            return
        for sheet in read:
            self._sheet(sheet)

    def _sheet(self, sheet: TableSheet) -> None:
        aliases = alias_table()
        missing = [aliases.header_of(k) for k in ("level1", "level2", "name") if k not in sheet.columns]
        if missing:
            self.plan.errors.append(Problem(f"缺少必需的列：{'、'.join(missing)}", sheet.name, sheet.header_row))
            return
        lacking: dict[str, int] = {}  # column key → rows that need a column the sheet lacks
        for row in sheet.rows:
            fields = read_row(row, sheet, self.taxonomy)
            code, generated = self._code(fields)
            base = self.draft_data(code)
            raw = merge(fields, code, base, self.defaults)
            data, schema_problems = self.validate("indicator", raw, sheet.name, row.row)
            problems = list(fields.problems)
            flagged = {p.field for p in problems}  # a cell already reported is not reported again as missing
            for p in schema_problems:
                key = field_column(p.field)
                if key == "code" and generated:
                    continue  # no name to make a code from: the name's own problem says so
                if key in ("kind", "source_document") and key not in sheet.columns:
                    lacking[key] = lacking.get(key, 0) + 1
                    continue
                label = column_label(sheet, key) if key else p.field
                if label not in flagged:
                    problems.append(Problem(p.message, sheet.name, row.row, label))
            if problems or data is None:
                self.plan.errors += problems
                continue
            self._add("indicator", data, sheet.name, row.row, generated)
        for key, count in lacking.items():
            header = aliases.header_of(key)
            hint = "共性/个性" if key == "kind" else "来源文件名称及文号"
            self.plan.errors.append(Problem(
                f"{count} 行缺少{header}：文件中没有“{header}”列，请加上此列（{hint}），或导入时指定默认{header}",
                sheet.name, sheet.header_row, header))

    def _code(self, fields: RowFields) -> tuple[str, bool]:
        if fields.values.get("code"):
            return fields.values["code"], False
        if not fields.values.get("name"):
            return "", True
        probe = {**fields.values, "kind": fields.values.get("kind") or self.defaults.kind}
        code = generated_code(probe)
        n = self.generated[code] = self.generated.get(code, 0) + 1
        return (code if n == 1 else f"{code}-{n}"), True

    # --- JSON ---

    def json_document(self, doc) -> None:
        if isinstance(doc, dict) and doc.get("format") == library_json.EXPORT_FORMAT:
            self._library(doc)
        elif isinstance(doc, list):
            self._json_list(doc, "")
        elif isinstance(doc, dict) and isinstance(doc.get("indicators"), list) and "format" not in doc:
            self._json_list(doc["indicators"], "indicators")
        else:
            raise FileRejected(f"“{self.plan.filename}”不是指标库导出文件，也不是指标列表（JSON 数组）")

    def _library(self, doc: dict) -> None:
        try:
            batch = library_json.read_document(doc, self.plan.filename)
        except InvalidInput as exc:
            self.plan.errors += exc.problems or [Problem(exc.message, self.plan.filename)]
            return
        for kind in KINDS:
            for data in batch.items.get(kind, []):
                self._add(kind, data, batch.locations.get((kind, data["code"]), self.plan.filename), None, False)

    def _json_list(self, items: list, key: str) -> None:
        where = f"{self.plan.filename} {key}".strip()
        for i, item in enumerate(items, start=1):
            location = f"{where} 第{i}项"
            if not isinstance(item, dict):
                self.plan.errors.append(Problem("每一项应为一个指标对象", location))
                continue
            fields = RowFields(values={k: v for k, v in item.items() if k != "source"},
                               source=item["source"] if isinstance(item.get("source"), dict) and item["source"].get("document") else None)
            code, generated = self._code(fields)
            base = self.draft_data(code)
            raw = merge(fields, code, base, self.defaults)
            if "source" in item and fields.source is None:
                raw["source"] = item["source"]
            data, problems = self.validate("indicator", raw, location)
            if data is not None:
                problems += self._unknown_references(data, location)
            if problems:
                self.plan.errors += problems
                continue
            self._add("indicator", data, location, None, generated)

    def _unknown_references(self, data: dict, location: str) -> list[Problem]:
        problems = []
        for axis in AXES:
            for code in data.get(axis) or []:
                if code not in self.taxonomy.names[axis]:
                    problems.append(Problem(f"未知的{AXIS_NAMES[axis]}编码“{code}”", location, None, axis))
        return problems

    # --- all formats ---

    def _add(self, kind: str, data: dict, sheet: str, row: int | None, generated: bool) -> None:
        where = f"{sheet} 第{row}行" if row else sheet
        key = (kind, data["code"])
        if key in self.seen:
            self.plan.errors.append(Problem(f"编码“{data['code']}”重复（首次出现于 {self.seen[key]}）", sheet, row,
                                            column_label(None, "code")))
            return
        self.seen[key] = where
        self.records.append(PlannedRecord(kind, data["code"], data.get("name", ""), sheet, row, data, generated_code=generated))

    def finish(self) -> ImportPlan:
        plan = self.plan
        if not self.records and not plan.errors:
            plan.errors.append(Problem("文件中没有可导入的指标行", plan.filename))
        current = self._draft_state()
        for r in self.records:
            revision, old = current.get((r.kind, r.code), (None, None))
            plan.expected[(r.kind, r.code)] = revision
            plan.batch.items[r.kind].append(r.data)
            plan.batch.locations[(r.kind, r.code)] = r.where
            if old is None:
                plan.adds.append(r)
                continue
            r.changes = field_changes(old, RECORD_MODELS[r.kind](**r.data).model_dump(mode="json"))
            (plan.changes if r.changes else plan.unchanged).append(r)
        plan.duplicates = self._duplicates()
        return plan

    def _duplicates(self) -> list[Duplicate]:
        out: list[Duplicate] = []
        first: dict[tuple, PlannedRecord] = {}
        file_codes = {r.code for r in self.records if r.kind == "indicator"}
        in_draft: dict[tuple, list] = {}
        by_name: dict[str, list] = {}
        for obj in self.draft.values():
            if obj.status not in INACTIVE and obj.code not in file_codes:
                in_draft.setdefault(identity(obj), []).append(obj)
                by_name.setdefault(normalised_name(obj.name), []).append(obj)
        # a draft indicator the file also carries (a whole-library document carries them all) is still a draft
        # indicator, as the file states it: a new row like it repeats the draft, not just another row of the file
        carried: dict[tuple, list] = {}
        carried_names: dict[str, list] = {}
        for r in self.records:
            if r.kind == "indicator" and r.code in self.draft and r.data.get("status") not in INACTIVE:
                kept = _DraftLike(r.code, r.name, r.data.get("kind"))
                carried.setdefault(identity(r.data), []).append(kept)
                carried_names.setdefault(normalised_name(r.name), []).append(kept)
        synonyms = self._synonym_names()
        for r in self.records:
            if r.kind != "indicator" or r.data.get("status") in INACTIVE:
                continue
            new = r.code not in self.draft
            key = identity(r.data)
            other = first.setdefault(key, r)
            if other is not r and not (new and other.code in self.draft):  # (that one is reported as the draft's)
                out.append(Duplicate(r.code, r.name, r.sheet, r.row, other.code, other.name, other.where))
            same = in_draft.get(key, []) + (carried.get(key, []) if new else [])
            found = {obj.code for obj in same}
            for obj in same:
                out.append(Duplicate(r.code, r.name, r.sheet, r.row, obj.code, obj.name, DRAFT_PLACE))
            name = normalised_name(r.name)
            for reason, names in (("同名", [name]), ("同义词", sorted(synonyms.get(name, set()) - {name}))):
                for other_name in names:
                    for obj in by_name.get(other_name, []) + (carried_names.get(other_name, []) if new else []):
                        if obj.code not in found and obj.kind == r.data.get("kind"):
                            found.add(obj.code)
                            out.append(Duplicate(r.code, r.name, r.sheet, r.row, obj.code, obj.name, DRAFT_PLACE, reason))
        return out

    def _synonym_names(self) -> dict[str, set[str]]:
        """Normalised name → the normalised names of its synonym group (the library's own list)."""
        from kb.models import TextList

        record = self.session.get(TextList, "synonyms")
        out: dict[str, set[str]] = {}
        for group in ((record.data or {}).get("groups", []) if record else []):
            names = {normalised_name(w) for w in group if w}
            for n in names:
                out.setdefault(n, set()).update(names)
        return out


    def _draft_state(self) -> dict[tuple[str, str], tuple[int, dict]]:
        """(kind, code) → (revision, record data) of the draft records the file names."""
        out: dict[tuple[str, str], tuple[int, dict]] = {}
        others = set()
        for r in self.records:
            if r.kind == "indicator":
                if r.code in self.draft:
                    out[("indicator", r.code)] = (self.draft[r.code].revision, self.draft_data(r.code))
            else:
                others.add((r.kind, r.code))
        out.update(_draft_state(self.session, others))
        return out


def _draft_state(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, dict]]:
    """(kind, code) → (revision, record data) of the draft records among `keys`."""
    by_kind: dict[str, list[str]] = {}
    for kind, code in keys:
        by_kind.setdefault(kind, []).append(code)
    out: dict[tuple[str, str], tuple[int, dict]] = {}
    for kind, codes in by_kind.items():
        model = DRAFT_MODELS[kind]
        for start in range(0, len(codes), 500):
            chunk = codes[start:start + 500]
            for obj in session.execute(select(model).where(model.code.in_(chunk))).scalars():
                out[(kind, obj.code)] = (obj.revision, record_data(kind, obj))
    return out


def batch_duplicates(session: Session, batch: Batch, where: str = "请求") -> tuple[list[Duplicate], set[str]]:
    """What a file import's dry run says of duplicates, for an already-read whole-library batch (the API's
    import): every duplicate of its indicators (同名同范围 within the batch or against the draft, 同名 and
    同义词 against the draft), and the codes of the new ones that duplicate a draft indicator — the rows an
    import leaves out unless the curator confirms them."""
    builder = _PlanBuilder(session, ImportPlan(where, "json"), ImportDefaults())
    for kind in KINDS:
        for data in batch.items.get(kind, []):
            builder._add(kind, data, batch.locations.get((kind, data["code"]), where), None, False)
    duplicates = builder._duplicates()
    new_codes = {r.code for r in builder.records if r.kind == "indicator" and r.code not in builder.draft}
    return duplicates, {d.code for d in duplicates if d.in_draft and d.code in new_codes}


# --- applying ----------------------------------------------------------------------

def held_back(plan: ImportPlan, confirmed: Iterable[str] | None) -> set[str]:
    """New rows that duplicate a draft indicator and were not confirmed (None: every one confirmed)."""
    if confirmed is None:
        return set()
    adds = {r.code for r in plan.adds}
    return {d.code for d in plan.duplicates if d.in_draft and d.code in adds} - set(confirmed)


def apply_import(session: Session, plan: ImportPlan, user: str = "", skip_codes: Iterable[str] = (),
                 confirmed_duplicates: Iterable[str] | None = (), progress=None) -> ApplyReport:
    """Apply a plan to the draft in one transaction, all or nothing (`progress` as kb.library.draft.apply_batch takes it).

    Refuses a plan with errors, and a plan made before someone else changed
    one of its records in the draft (plan again to see the new differences).
    `skip_codes` leaves out records the curator chose not to import; a new row that duplicates a
    draft indicator is left out too unless its code is in `confirmed_duplicates` (None: import them all).
    """
    if plan.errors:
        raise InvalidInput(f"导入文件有 {len(plan.errors)} 处错误，未导入任何内容", plan.errors)
    skip = set(skip_codes) | held_back(plan, confirmed_duplicates)
    batch = Batch()
    for kind, items in plan.batch.items.items():
        batch.items[kind] = [d for d in items if d["code"] not in skip]
    batch.locations = {k: v for k, v in plan.batch.locations.items() if k[1] not in skip}
    wanted = {(kind, d["code"]) for kind, items in batch.items.items() for d in items}
    current = _draft_revisions(session, wanted)
    stale = sorted(code for (kind, code) in wanted if current.get((kind, code)) != plan.expected.get((kind, code)))
    if stale:
        session.rollback()
        shown = "、".join(stale[:5]) + ("等" if len(stale) > 5 else "")
        raise Conflict(f"预览之后草稿中的 {len(stale)} 条记录（{shown}）已被修改，请重新预览后再导入；未导入任何内容")
    return apply_batch(session, batch, user=user, action="import", progress=progress)


def _draft_revisions(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    by_kind: dict[str, list[str]] = {}
    for kind, code in keys:
        by_kind.setdefault(kind, []).append(code)
    out: dict[tuple[str, str], int] = {}
    for kind, codes in by_kind.items():
        model = DRAFT_MODELS[kind]
        for start in range(0, len(codes), 500):
            rows = session.execute(select(model.code, model.revision).where(model.code.in_(codes[start:start + 500])))
            out.update({(kind, code): revision for code, revision in rows})
    return out


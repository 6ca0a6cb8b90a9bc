"""Read real target tables into the case library: 绩效目标表/自评表 workbooks (every
layout importers/target_xlsx.py reads: ours and the provincial ones of importers/README.md),
a CSV of rows, or JSON (a list of cases, a {"cases": [...]} document, or one target table as
the check takes it).

A workbook or a single target table does not say where it was published: the caller gives
the source (URL or document, 文号, provenance) and the case's code; a workbook of several
tables (a sheet of 重庆 一般性项目绩效目标表, a 四川 横表) gives cases CODE-01, CODE-02 … in
the order of the sheet. Everything is validated before anything is written
(kb.library.draft.apply_batch is all or nothing); problems name the file, the case and the row
(a workbook's sheet and sheet row).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from importers.files import FileRejected, file_format
from kb import untrusted
from kb.errors import InvalidInput, Problem
from kb.library.draft import ApplyReport, Batch, apply_batch, build_batch

# CSV headers (Chinese or English) → case or row field
CASE_COLUMNS = {
    "案例编码": "code", "code": "code", "项目名称": "name", "name": "name", "项目概况": "summary", "summary": "summary",
    "年度总体目标": "goal", "goal": "goal", "功能分类": "sector", "sector": "sector", "主管部门": "department",
    "department": "department", "实施单位": "unit", "unit_name": "unit", "地区": "region", "region": "region",
    "省份": "province", "province": "province", "年度": "year", "year": "year", "预算（万元）": "budget_wan_yuan",
    "预算": "budget_wan_yuan", "budget_wan_yuan": "budget_wan_yuan", "项目类别": "project_type", "project_type": "project_type",
    "表别": "table_kind", "table_kind": "table_kind", "来源网址": "source.url", "source_url": "source.url",
    "来源文件": "source.document", "source_document": "source.document", "文号": "source.doc_number",
    "doc_number": "source.doc_number", "发布单位": "source.issuer", "issuer": "source.issuer", "来源性质": "provenance",
    "provenance": "provenance", "可靠程度": "certainty", "certainty": "certainty", "不完整": "incomplete",
    "incomplete": "incomplete", "备注": "note", "note": "note",
}
ROW_COLUMNS = {
    "一级指标": "level1", "level1": "level1", "二级指标": "level2", "level2": "level2", "三级指标": "name",
    "指标名称": "name", "row_name": "name", "指标性质": "operator", "operator": "operator", "指标值": "value",
    "value": "value", "度量单位": "unit", "计量单位": "unit", "unit": "unit", "实际完成值": "actual", "actual": "actual",
    "指标编码": "indicator", "indicator": "indicator",
}
TRUE_WORDS = ("是", "true", "1", "yes", "y")
# a case's fields and its rows' as a problem names them
CASE_FIELD_NAMES = {
    "code": "案例编码", "name": "项目名称", "summary": "项目概况", "goal": "年度总体目标", "sector": "功能分类",
    "department": "主管部门", "unit": "实施单位", "region": "地区", "province": "省份", "year": "年度",
    "budget_wan_yuan": "预算（万元）", "project_type": "项目类别", "expenditure_type": "支出类型", "table_kind": "表别",
    "rows": "指标行", "source": "来源", "provenance": "来源性质", "certainty": "可靠程度", "incomplete": "不完整",
}
ROW_FIELD_NAMES = {"level1": "一级指标", "level2": "二级指标", "name": "三级指标", "operator": "指标性质", "value": "指标值",
                   "unit": "计量单位", "actual": "实际完成值", "indicator": "指标编码"}
_SECTOR_CODE_RE = re.compile(r"^\d{3}(\d{2}(\d{2})?)?$")
_TYPE_CODE_RE = re.compile(r"^PT-[A-Z0-9.\-]+$")


@dataclass
class CaseSource:
    """What a workbook or a single table does not say about itself."""
    code: str = ""
    url: str = ""
    document: str = ""
    doc_number: str = ""
    issuer: str = ""
    provenance: str = "verbatim"
    certainty: str = "verified"
    region: str = ""
    province: str = ""
    year: int | None = None
    table_kind: str = ""  # 目标表 | 自评表 | 监控表; empty: as the workbook's title and columns say


@dataclass
class CasePlan:
    filename: str
    batch: Batch | None = None
    errors: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.batch is not None

    @property
    def codes(self) -> list[str]:
        return [c["code"] for c in self.batch.items.get("case", [])] if self.batch else []

    def to_dict(self) -> dict:
        return {"file": self.filename, "ok": self.ok, "cases": self.codes,
                "errors": [{"message": p.message, "where": p.location, "row": p.row, "field": p.field} for p in self.errors]}


@dataclass
class _Origin:
    """Where a case read from a workbook came from, to name the sheet row of a problem."""
    sheet: str
    rows: list[int]


def _from_table(table, source: CaseSource, filename: str, code: str | None = None, kind: str = "") -> dict:
    code = source.code if code is None else code
    if not code:
        raise InvalidInput(f"“{filename}”是目标表：请用 --code 给出案例编码（如 CASE-210-101）")
    if not (source.url or source.document):
        raise InvalidInput(f"“{filename}”是目标表：请给出来源网址（--url）或来源文件（--document）")
    p = table.project
    # a case names its sector and type by code (the library's references); a table that writes
    # them as text ("一般公共服务", "(31)部门预算项目") keeps that text in the note for the curator
    sector = p.sector if _SECTOR_CODE_RE.match(p.sector or "") else ""
    project_type = p.project_type if _TYPE_CODE_RE.match(p.project_type or "") else ""
    notes = [f"表中{label}：{text}" for label, text, kept in (("所属行业", p.sector, sector), ("项目类别", p.project_type, project_type))
             if text and not kept]
    # a row without its 三级指标 is reported as the missing field it is
    rows = [{"level1": r.level1, "level2": r.level2, **({"name": r.name} if r.name else {}), "operator": r.operator,
             "value": r.value, "unit": r.unit, **({"actual": r.actual} if r.actual else {}),
             **({"indicator": r.code} if r.code else {})} for r in table.indicators]
    return {
        "code": code, "name": p.name, "summary": p.description, "goal": table.goal, "sector": sector,
        "department": p.department, "unit": p.implementing_unit, "region": source.region, "province": source.province,
        "year": source.year or p.year, "budget_wan_yuan": p.budget_wan_yuan, "project_type": project_type,
        "expenditure_type": p.expenditure_type,
        "table_kind": source.table_kind or kind or ("自评表" if table.has_actuals else "目标表"),
        "rows": rows, "actuals": any(r.get("actual") for r in rows),
        "source": {"document": source.document or p.name, "url": source.url, "doc_number": source.doc_number,
                   "issuer": source.issuer},
        "provenance": source.provenance, "certainty": source.certainty,
        **({"note": "；".join(notes)} if notes else {}),
    }


def _from_workbook(data: bytes, filename: str, source: CaseSource) -> list[tuple[dict, _Origin]]:
    from importers.target_xlsx import read_tables

    tables = read_tables(data)
    if not source.code:
        raise InvalidInput(f"“{filename}”是目标表：请用 --code 给出案例编码（如 CASE-210-101）")
    many = len(tables) > 1
    if many and len(f"{source.code}-{len(tables):02d}") > 40:
        raise InvalidInput(f"“{filename}”有 {len(tables)} 张目标表，案例编码将为“{source.code}-01”等：请用更短的 --code")
    return [(_from_table(t.table, source, filename, f"{source.code}-{i:02d}" if many else source.code, t.kind),
             _Origin(t.sheet, t.rows)) for i, t in enumerate(tables, start=1)]


def _from_csv(data: bytes, filename: str) -> list[dict]:
    from importers.csv_reader import decode

    reader = csv.DictReader(io.StringIO(decode(data, filename)))
    headers = [h.strip() for h in reader.fieldnames or []]
    unknown = [h for h in headers if h not in CASE_COLUMNS and h not in ROW_COLUMNS]
    if unknown:
        raise InvalidInput(f"“{filename}”有未识别的列：{'、'.join(unknown)}（可用列：案例编码、项目名称、功能分类、"
                           "地区、年度、预算（万元）、来源网址、一级指标、二级指标、三级指标、指标性质、指标值、度量单位 等）")
    if "code" not in {CASE_COLUMNS.get(h) for h in headers} or "name" not in {ROW_COLUMNS.get(h) for h in headers}:
        raise InvalidInput(f"“{filename}”须有“案例编码”和“三级指标”两列")
    cases: dict[str, dict] = {}
    for line in reader:
        line = {(k or "").strip(): (v or "").strip() for k, v in line.items()}
        code = next((v for k, v in line.items() if CASE_COLUMNS.get(k) == "code"), "")
        case = cases.setdefault(code, {"code": code, "rows": [], "source": {}})
        for k, v in line.items():
            target = CASE_COLUMNS.get(k)
            if not target or not v or target == "code":
                continue
            if target.startswith("source."):
                case["source"].setdefault(target[7:], v)
            elif target in ("incomplete",):
                case[target] = v.lower() in TRUE_WORDS
            else:
                case.setdefault(target, v)
        row = {ROW_COLUMNS[k]: v for k, v in line.items() if k in ROW_COLUMNS and v}
        if row:
            case["rows"].append(row)
    for case in cases.values():
        if case["source"] and not case["source"].get("document"):
            case["source"]["document"] = case.get("name") or case["code"]
    return list(cases.values())


def read_cases(data: bytes, filename: str, source: CaseSource | None = None) -> list[dict]:
    """The raw case records in a file (not yet validated)."""
    return [case for case, _ in _read(data, filename, source or CaseSource())]


def _read(data: bytes, filename: str, source: CaseSource) -> list[tuple[dict, _Origin | None]]:
    from kb.targets.schema import load_table

    fmt = file_format(data, filename)
    if fmt == "xlsx":
        return list(_from_workbook(data, filename, source))
    if fmt == "csv":
        return [(case, None) for case in _from_csv(data, filename)]
    if fmt == "json":
        try:
            doc = untrusted.loads(data)
        except untrusted.MalformedInput as exc:
            raise FileRejected(f"“{filename}”不是有效的 JSON 文件：{exc.message}") from None
        if isinstance(doc, dict) and isinstance(doc.get("cases"), list):
            return [(case, None) for case in doc["cases"]]
        if isinstance(doc, list):
            return [(case, None) for case in doc]
        if isinstance(doc, dict) and "project" in doc:
            return [(_from_table(load_table(doc), source, filename), None)]
        raise FileRejected(f"“{filename}”不是案例文件：应为案例列表、{{\"cases\": [...]}} 或一张目标表")
    raise FileRejected("案例请上传 .xlsx、.csv 或 .json 文件")


def _placed(p: Problem, filename: str, code: str, origin: _Origin | None) -> Problem:
    """A case's problem as the file shows it: a workbook's row by its sheet row, fields by their headers."""
    if origin is None:
        return p
    m = re.match(r"^rows\.(\d+)\.(\w+)", p.field or "")
    if m and int(m.group(1)) < len(origin.rows):
        return Problem(p.message, f"{filename} 工作表“{origin.sheet}”", origin.rows[int(m.group(1))],
                       ROW_FIELD_NAMES.get(m.group(2), m.group(2)))
    top = (p.field or "").split(".")[0]
    return Problem(p.message, f"{filename} 工作表“{origin.sheet}” 案例“{code}”", None, CASE_FIELD_NAMES.get(top, p.field))


def plan_cases(data: bytes, filename: str, source: CaseSource | None = None, progress=None) -> CasePlan:
    """Read and validate the cases in a file; `progress(cases_done, cases_total)` as they are validated."""
    plan = CasePlan(filename)
    try:
        raw = _read(data, filename, source or CaseSource())
    except InvalidInput as exc:
        plan.errors += [Problem(p.message, f"{filename} {p.location}".strip(), p.row, p.field) for p in exc.problems] \
            or [Problem(exc.message, filename)]
        return plan
    entries, origins = [], {}
    for i, (item, origin) in enumerate(raw, start=1):
        if not isinstance(item, dict):
            plan.errors.append(Problem("每个案例应为一个对象", filename, i))
            continue
        location = f"{filename} 案例“{item.get('code', '')}”"
        origins[location] = (item.get("code", ""), origin)
        entries.append(("case", item, location, None if origin else i))
    if not entries and not plan.errors:
        plan.errors.append(Problem("文件中没有案例", filename))
    batch, problems = build_batch(entries, progress=progress)
    plan.errors += [_placed(p, filename, *origins.get(p.location, ("", None))) for p in problems]
    plan.batch = batch
    return plan


def apply_cases(session, plan: CasePlan, user: str = "", dry_run: bool = False, progress=None) -> ApplyReport:
    """Apply a valid plan to the draft (all or nothing; references are checked as every write checks them);
    `progress` as kb.library.draft.apply_batch takes it."""
    if not plan.ok:
        raise InvalidInput(f"“{plan.filename}”有 {len(plan.errors)} 处错误，未导入任何案例", plan.errors)
    return apply_batch(session, plan.batch, user=user, dry_run=dry_run, action="import", progress=progress)

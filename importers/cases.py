"""Read real target tables into the case library: a 绩效目标表/自评表 workbook
(the layout the check reads), a CSV of rows, or JSON (a list of cases, a
{"cases": [...]} document, or one target table as the check takes it).

A workbook or a single target table does not say where it was published:
the caller gives the source (URL or document, 文号, provenance) and the case's
code. Everything is validated before anything is written (kb.library.draft.apply_batch
is all or nothing); problems name the file, the case and the row.
"""
from __future__ import annotations

import csv
import io
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
    table_kind: str = "目标表"


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


def _from_table(table, source: CaseSource, filename: str) -> dict:
    if not source.code:
        raise InvalidInput(f"“{filename}”是单张目标表：请用 --code 给出案例编码（如 CASE-210-101）")
    if not (source.url or source.document):
        raise InvalidInput(f"“{filename}”是单张目标表：请给出来源网址（--url）或来源文件（--document）")
    p = table.project
    return {
        "code": source.code, "name": p.name, "summary": p.description, "goal": table.goal, "sector": p.sector,
        "department": p.department, "region": source.region, "province": source.province, "year": source.year,
        "budget_wan_yuan": p.budget_wan_yuan, "project_type": p.project_type, "expenditure_type": p.expenditure_type,
        "table_kind": source.table_kind,
        "rows": [{"level1": r.level1, "level2": r.level2, "name": r.name, "operator": r.operator, "value": r.value,
                  "unit": r.unit, **({"indicator": r.code} if r.code else {})} for r in table.indicators],
        "source": {"document": source.document or p.name, "url": source.url, "doc_number": source.doc_number,
                   "issuer": source.issuer},
        "provenance": source.provenance, "certainty": source.certainty,
    }


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
    from importers.target_xlsx import read_table
    from kb.targets.schema import load_table

    source = source or CaseSource()
    fmt = file_format(data, filename)
    if fmt == "xlsx":
        return [_from_table(read_table(data), source, filename)]
    if fmt == "csv":
        return _from_csv(data, filename)
    if fmt == "json":
        try:
            doc = untrusted.loads(data)
        except untrusted.MalformedInput as exc:
            raise FileRejected(f"“{filename}”不是有效的 JSON 文件：{exc.message}") from None
        if isinstance(doc, dict) and isinstance(doc.get("cases"), list):
            return doc["cases"]
        if isinstance(doc, list):
            return doc
        if isinstance(doc, dict) and "project" in doc:
            return [_from_table(load_table(doc), source, filename)]
        raise FileRejected(f"“{filename}”不是案例文件：应为案例列表、{{\"cases\": [...]}} 或一张目标表")
    raise FileRejected("案例请上传 .xlsx、.csv 或 .json 文件")


def plan_cases(data: bytes, filename: str, source: CaseSource | None = None, progress=None) -> CasePlan:
    """Read and validate the cases in a file; `progress(cases_done, cases_total)` as they are validated."""
    plan = CasePlan(filename)
    try:
        raw = read_cases(data, filename, source)
    except InvalidInput as exc:
        plan.errors += exc.problems or [Problem(exc.message, filename)]
        return plan
    entries = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            plan.errors.append(Problem("每个案例应为一个对象", filename, i))
            continue
        entries.append(("case", item, f"{filename} 案例“{item.get('code', '')}”", i))
    if not entries and not plan.errors:
        plan.errors.append(Problem("文件中没有案例", filename))
    batch, problems = build_batch(entries, progress=progress)
    plan.errors += problems
    plan.batch = batch
    return plan


def apply_cases(session, plan: CasePlan, user: str = "", dry_run: bool = False, progress=None) -> ApplyReport:
    """Apply a valid plan to the draft (all or nothing; references are checked as every write checks them);
    `progress` as kb.library.draft.apply_batch takes it."""
    if not plan.ok:
        raise InvalidInput(f"“{plan.filename}”有 {len(plan.errors)} 处错误，未导入任何案例", plan.errors)
    return apply_batch(session, plan.batch, user=user, dry_run=dry_run, action="import", progress=progress)

"""The checks a draft must pass before it can be published (DESIGN §4)."""
from __future__ import annotations

from collections import Counter

from sqlmodel import Session

from kb.errors import Problem
from kb.library import KIND_NAMES, KINDS, draft_records

WEIGHT_TOLERANCE = 1e-6
SOURCED = ("indicator", "quota", "system")
REQUIRED = {
    "indicator": ("code", "kind", "level1", "level2", "name", "provenance"),
    "quota": ("code", "name", "category", "unit", "effective_date", "provenance"),
    "system": ("code", "name", "provenance"),
    "sector": ("code", "name"),
    "department": ("code", "name"),
    "project_type": ("code", "name"),
}


def check_draft(session: Session) -> list[Problem]:
    records = {kind: draft_records(session, kind) for kind in KINDS}
    problems: list[Problem] = []
    problems += unique_codes(records)
    problems += required_fields(records)
    problems += specific_have_scope(records["indicator"])
    problems += system_weights(records["system"])
    problems += dangling_references(records)
    return problems


def unique_codes(records: dict) -> list[Problem]:
    """A code names one thing in the whole library, whatever its kind."""
    seen = Counter(r.code for kind in KINDS if kind not in ("sector", "text") for r in records[kind])
    return [Problem(f"编码“{code}”被多条记录使用", "编码唯一性") for code, n in seen.items() if n > 1]


def required_fields(records: dict) -> list[Problem]:
    problems = []
    for kind, names in REQUIRED.items():
        for r in records[kind]:
            missing = [n for n in names if getattr(r, n, None) in (None, "")]
            if kind in SOURCED and not (r.source or {}).get("document"):
                missing.append("source.document")
            if missing:
                problems.append(Problem(f"{KIND_NAMES[kind]}“{r.code}”缺少必填项：{'、'.join(missing)}", "必填项"))
    return problems


def specific_have_scope(indicators) -> list[Problem]:
    return [
        Problem(f"个性指标“{i.code} {i.name}”没有适用范围（行业、部门或项目类别）", "适用范围")
        for i in indicators
        if i.kind == "specific" and i.status != "retired" and not (i.sectors or i.departments or i.project_types)
    ]


def system_weights(systems) -> list[Problem]:
    problems = []
    for s in systems:
        problems += _weights(s, s.nodes, 100.0, s.name)
    return problems


def _weights(system, nodes: list[dict], expected: float, path: str) -> list[Problem]:
    total = sum(float(n.get("weight") or 0) for n in nodes)
    problems = []
    if abs(total - expected) > WEIGHT_TOLERANCE:
        problems.append(Problem(f"指标体系“{system.code}”中“{path}”的下级权重合计为 {total:g}，应为 {expected:g}", "权重"))
    for n in nodes:
        if n.get("children"):
            problems += _weights(system, n["children"], float(n.get("weight") or 0), f"{path} / {n.get('name')}")
    return problems


def system_leaves(nodes: list[dict]):
    for n in nodes:
        if n.get("indicator"):
            yield n
        yield from system_leaves(n.get("children") or [])


def dangling_references(records: dict) -> list[Problem]:
    sectors = {r.code for r in records["sector"]}
    departments = {r.code for r in records["department"]}
    project_types = {r.code for r in records["project_type"]}
    indicators = {r.code: r for r in records["indicator"]}
    quotas = {r.code for r in records["quota"]}
    problems: list[Problem] = []

    def missing(owner: str, what: str, codes, known) -> None:
        for code in codes or []:
            if code not in known:
                problems.append(Problem(f"{owner}引用了不存在的{what}“{code}”", "引用完整性"))

    for d in records["department"]:
        missing(f"部门“{d.code}”", "功能分类", d.sectors, sectors)
    for i in indicators.values():
        owner = f"指标“{i.code}”"
        missing(owner, "功能分类", i.sectors, sectors)
        missing(owner, "部门", i.departments, departments)
        missing(owner, "项目类别", i.project_types, project_types)
        if i.superseded_by:
            missing(owner, "替代指标", [i.superseded_by], indicators)
    for q in records["quota"]:
        owner = f"支出标准“{q.code}”"
        missing(owner, "功能分类", q.sectors, sectors)
        missing(owner, "项目类别", q.project_types, project_types)
        if q.supersedes:
            missing(owner, "被替代标准", [q.supersedes], quotas)
    for s in records["system"]:
        owner = f"指标体系“{s.code}”"
        missing(owner, "功能分类", s.sectors, sectors)
        for leaf in system_leaves(s.nodes):
            code = leaf["indicator"]
            if code not in indicators:
                missing(owner, "指标", [code], indicators)
            elif indicators[code].status == "retired":
                problems.append(Problem(f"{owner}引用了已停用的指标“{code}”", "引用完整性"))
    return problems

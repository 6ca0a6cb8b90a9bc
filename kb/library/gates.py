"""The checks a draft must pass before it can be published (DESIGN §4)."""
from __future__ import annotations

from sqlmodel import Session

from kb.library import integrity
from kb.errors import Problem
from kb.library.draft import KIND_NAMES, KINDS, draft_records
from kb.systems.scoring_rules import RuleError, parse_rule

WEIGHT_TOLERANCE = 1e-6
SOURCED = ("indicator", "quota", "system", "case")
REQUIRED = {
    "indicator": ("code", "kind", "level1", "level2", "name", "provenance"),
    "quota": ("code", "name", "category", "unit", "effective_date", "provenance"),
    "system": ("code", "name", "provenance"),
    "sector": ("code", "name"),
    "department": ("code", "name"),
    "project_type": ("code", "name"),
    "case": ("code", "name", "provenance"),
}


def check_draft(session: Session) -> list[Problem]:
    return check_records({kind: draft_records(session, kind) for kind in KINDS})


def check_records(records: dict) -> list[Problem]:
    """The gates over records of every kind (draft rows or record objects, in code order)."""
    problems: list[Problem] = []
    problems += required_fields(records)
    problems += specific_have_scope(records["indicator"])
    problems += system_weights(records["system"])
    problems += system_rules(records["system"])
    problems += codes_and_references(records)
    problems += content_errors(records["indicator"])
    return problems


def content_errors(indicators) -> list[Problem]:
    """The content lint's errors (kb.library.lint): a contradiction in an indicator blocks publishing; its warnings do not."""
    from kb.library.lint import lint

    return [Problem(f.message, f"内容检查 {f.rule}") for f in lint(indicators) if f.severity == "error"]


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


def system_rules(systems) -> list[Problem]:
    """Every structured scoring rule is complete and valid, and sits on a leaf: a round scored
    with a published version must never meet a rule it cannot apply."""
    problems = []
    for s in systems:
        for node in _all_nodes(s.nodes):
            if node.get("rule") is None:
                continue
            where = f"指标体系“{s.code}”中“{node.get('indicator') or node.get('name')}”"
            if not node.get("indicator"):
                problems.append(Problem(f"{where}是分组，不能有计分规则", "计分规则"))
                continue
            try:
                parse_rule(node["rule"])
            except RuleError as exc:
                problems.append(Problem(f"{where}的计分规则有误：{exc.message}", "计分规则"))
    return problems


def _all_nodes(nodes: list[dict]):
    for n in nodes:
        yield n
        yield from _all_nodes(n.get("children") or [])


def system_leaves(nodes: list[dict]):
    for n in nodes:
        if n.get("indicator"):
            yield n
        yield from system_leaves(n.get("children") or [])


def codes_and_references(records: dict) -> list[Problem]:
    """Codes unique across kinds, references that exist (kb.library.integrity, as every write checks them)."""
    codes = {kind: {r.code for r in records[kind]} for kind in KINDS}
    retired = {r.code for r in records["indicator"] if r.status == "retired"}
    return integrity.problems(((kind, r) for kind in KINDS for r in records[kind]), codes, retired)

"""Codes and references: what every write to the draft and every publish
check alike, so nothing enters the draft that publishing would refuse.

- A code names one thing in the whole library, whatever its kind (sectors
  and the text lists have codes of their own kind).
- Every reference names a record that exists: an indicator's sectors,
  departments, project types and successor; a quota's sectors, project types
  and predecessor; a department's sectors; a system's sectors and leaves.
- Nothing replaces itself, and a system leaf is not a retired indicator.
"""
from __future__ import annotations

from typing import Iterable

from kb.errors import Problem

UNIQUE_KINDS = ("department", "project_type", "indicator", "system", "quota", "case")
KIND_NAMES = {"department": "部门", "project_type": "项目类别", "indicator": "指标", "system": "指标体系", "quota": "支出标准", "case": "案例"}


def _leaves(nodes: list[dict]):
    for n in nodes or []:
        if n.get("indicator"):
            yield n
        yield from _leaves(n.get("children") or [])


def problems(touched: Iterable[tuple[str, object]], codes: dict[str, set[str]], retired: set[str]) -> list[Problem]:
    """Problems of the `touched` records (kind, record), given every code of the
    draft by kind (the touched ones included) and the retired indicators."""
    out: list[Problem] = []

    def missing(owner: str, what: str, refs, known) -> None:
        for ref in refs or []:
            if ref not in known:
                out.append(Problem(f"{owner}引用了不存在的{what}“{ref}”", "引用完整性"))

    for kind, r in touched:
        if kind in UNIQUE_KINDS:
            for other in UNIQUE_KINDS:
                if other != kind and r.code in codes.get(other, ()):
                    out.append(Problem(f"编码“{r.code}”已被{KIND_NAMES[other]}使用：一个编码只能指一条记录", "编码唯一性"))
        owner = f"{KIND_NAMES.get(kind, kind)}“{r.code}”"
        if kind == "department":
            missing(owner, "功能分类", r.sectors, codes["sector"])
        elif kind == "indicator":
            missing(owner, "功能分类", r.sectors, codes["sector"])
            missing(owner, "部门", r.departments, codes["department"])
            missing(owner, "项目类别", r.project_types, codes["project_type"])
            if r.superseded_by == r.code:
                out.append(Problem(f"{owner}不能被自己替代", "引用完整性"))
            elif r.superseded_by:
                missing(owner, "替代指标", [r.superseded_by], codes["indicator"])
        elif kind == "quota":
            missing(owner, "功能分类", r.sectors, codes["sector"])
            missing(owner, "项目类别", r.project_types, codes["project_type"])
            if r.supersedes == r.code:
                out.append(Problem(f"{owner}不能替代自己", "引用完整性"))
            elif r.supersedes:
                missing(owner, "被替代标准", [r.supersedes], codes["quota"])
        elif kind == "case":
            missing(owner, "功能分类", [r.sector] if r.sector else [], codes["sector"])
            missing(owner, "项目类别", [r.project_type] if r.project_type else [], codes["project_type"])
            missing(owner, "指标", [row["indicator"] for row in r.rows if row.get("indicator")], codes["indicator"])
        elif kind == "system":
            missing(owner, "功能分类", r.sectors, codes["sector"])
            for leaf in _leaves(r.nodes):
                code = leaf["indicator"]
                if code not in codes["indicator"]:
                    missing(owner, "指标", [code], codes["indicator"])
                elif code in retired:
                    out.append(Problem(f"{owner}引用了已停用的指标“{code}”", "引用完整性"))
    return out

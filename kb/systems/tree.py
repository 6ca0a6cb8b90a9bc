"""Indicator systems as weighted trees, with the indicators they cite resolved
to their names in the same version."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from kb.library import versions
from kb.errors import UnknownCode
from kb.library.versions import VersionRef


@dataclass
class SystemNode:
    name: str
    weight: float
    indicator: str | None = None  # the code a leaf cites
    indicator_name: str | None = None  # None when the code is not in this version
    level1: str | None = None
    level2: str | None = None
    unit: str | None = None
    scoring_rule: str = ""  # the rule in words, for people
    rule: dict | None = None  # the same rule structured, for kb.systems.scoring (kb.systems.scoring_rules says what it may hold)
    note: str = ""
    children: list["SystemNode"] = field(default_factory=list)


@dataclass
class SystemTree:
    version: str
    code: str
    name: str
    description: str
    sectors: list[str]
    status: str
    source: dict
    nodes: list[SystemNode]

    @property
    def total_weight(self) -> float:
        return sum(n.weight for n in self.nodes)


def list_systems(session: Session, version: VersionRef) -> list:
    return versions.records(session, "system", version)


def _cited(nodes: list[dict]) -> set[str]:
    codes: set[str] = set()
    for node in nodes:
        if node.get("indicator"):
            codes.add(node["indicator"])
        codes |= _cited(node.get("children") or [])
    return codes


def _indicators(session: Session, codes: set[str], version: VersionRef) -> dict:
    found = {}
    for code in sorted(codes):
        try:
            found[code] = versions.record(session, "indicator", code, version)
        except UnknownCode:
            continue  # the publish gates refuse dangling codes; the draft may still have one
    return found


def _node(raw: dict, indicators: dict) -> SystemNode:
    code = raw.get("indicator") or None
    ind = indicators.get(code) if code else None
    return SystemNode(
        name=raw.get("name") or (ind.name if ind else code or ""),
        weight=float(raw.get("weight") or 0),
        indicator=code,
        indicator_name=ind.name if ind else None,
        level1=ind.level1 if ind else None,
        level2=ind.level2 if ind else None,
        unit=ind.unit if ind else None,
        scoring_rule=raw.get("scoring_rule") or (ind.scoring_rule if ind else "") or "",
        rule=raw.get("rule") or None,
        note=raw.get("note") or "",
        children=[_node(child, indicators) for child in raw.get("children") or []],
    )


def system_tree(session: Session, code: str, version: VersionRef) -> SystemTree:
    system = versions.record(session, "system", code, version)
    indicators = _indicators(session, _cited(system.nodes), version)
    return SystemTree(
        version=version.label,
        code=system.code,
        name=system.name,
        description=system.description,
        sectors=list(system.sectors),
        status=system.status,
        source=dict(system.source or {}),
        nodes=[_node(n, indicators) for n in system.nodes],
    )

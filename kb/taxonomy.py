"""The three axes of the library: sectors (功能分类, a tree by code prefix),
departments and project types."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from kb.library import versions
from kb.library.versions import VersionRef


@dataclass
class SectorNode:
    code: str
    name: str
    children: list["SectorNode"] = field(default_factory=list)


def sector_tree(sectors) -> list[SectorNode]:
    """类 (3 digits) → 款 (5) → 项 (7); a code hangs under its longest listed prefix."""
    nodes = {s.code: SectorNode(s.code, s.name) for s in sorted(sectors, key=lambda s: (len(s.code), s.code))}
    roots: list[SectorNode] = []
    for code, node in nodes.items():
        parent = next((nodes[code[:n]] for n in (5, 3) if n < len(code) and code[:n] in nodes), None)
        (parent.children if parent else roots).append(node)
    return roots


def sectors(session: Session, version: VersionRef) -> list[SectorNode]:
    return sector_tree(versions.records(session, "sector", version))


def departments(session: Session, version: VersionRef) -> list:
    return versions.records(session, "department", version)


def project_types(session: Session, version: VersionRef) -> list:
    return versions.records(session, "project_type", version)

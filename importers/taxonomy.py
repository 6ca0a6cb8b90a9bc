"""The sectors, departments and project types of a version, for turning what a
table says ("21002", "公立医院", "21002 公立医院", "培训类") into codes and back."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from sqlmodel import Session

from kb.library import versions

AXES = ("sectors", "departments", "project_types")
AXIS_KIND = {"sectors": "sector", "departments": "department", "project_types": "project_type"}
AXIS_NAMES = {"sectors": "行业（功能分类）", "departments": "部门", "project_types": "项目类别"}
# Suffixes a table often leaves off a name: 卫生健康(支出), 培训(类).
NAME_SUFFIXES = {"sectors": "支出", "departments": "", "project_types": "类"}
LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def split_list(text: str) -> list[str]:
    return [part.strip() for part in LIST_SEPARATORS.split(text or "") if part.strip()]


@dataclass
class Taxonomy:
    names: dict[str, dict[str, str]]  # axis → code → name
    _name_index: dict[str, dict[str, list[str]]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of_version(cls, session: Session, version: versions.VersionRef) -> "Taxonomy":
        return cls({axis: {r.code: r.name for r in versions.records(session, AXIS_KIND[axis], version)} for axis in AXES})

    @classmethod
    def of_draft(cls, session: Session) -> "Taxonomy":
        return cls.of_version(session, versions.resolve(session, versions.DRAFT))

    def label(self, axis: str, code: str) -> str:
        """How a table shows a code: "21002 公立医院" (the code alone when unknown)."""
        name = self.names[axis].get(code)
        return f"{code} {name}" if name else code

    def resolve(self, axis: str, text: str) -> tuple[list[str], list[str]]:
        """(codes, problems) for a cell listing codes and/or names."""
        codes: list[str] = []
        problems: list[str] = []
        for token in split_list(text):
            found, problem = self._token(axis, token)
            problems += [problem] if problem else []
            codes += [c for c in found if c not in codes]
        return codes, problems

    def _token(self, axis: str, token: str) -> tuple[list[str], str]:
        known = self.names[axis]
        if token in known:
            return [token], ""
        parts = token.split()
        if len(parts) > 1 and all(p in known for p in parts):
            return parts, ""
        if parts and parts[0] in known:
            return [parts[0]], ""  # "21002 公立医院": the code decides
        matches = self._by_name(axis).get(_norm(token), [])
        if len(matches) == 1:
            return matches, ""
        what = AXIS_NAMES[axis]
        if matches:
            shown = "、".join(self.label(axis, c) for c in matches[:5])
            return [], f"{what}名称“{token}”对应多个编码（{shown}），请填写编码"
        if _looks_like_code(axis, parts[0] if parts else token):
            return [], f"未知的{what}编码“{token}”"
        return [], f"未知的{what}“{token}”"

    def _by_name(self, axis: str) -> dict[str, list[str]]:
        cache = self._name_index
        if axis not in cache:
            index: dict[str, list[str]] = {}
            suffix = NAME_SUFFIXES[axis]
            for code, name in sorted(self.names[axis].items()):
                variants = {_norm(name)}
                if suffix and _norm(name).endswith(suffix) and len(_norm(name)) > len(suffix) + 1:
                    variants.add(_norm(name)[: -len(suffix)])
                for v in variants:
                    index.setdefault(v, []).append(code)
            cache[axis] = index
        return cache[axis]


def _looks_like_code(axis: str, token: str) -> bool:
    if axis == "sectors":
        return token.isdigit()
    return bool(re.fullmatch(r"[A-Z0-9][A-Z0-9.\-]{1,39}", token)) and "-" in token

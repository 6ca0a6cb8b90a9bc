"""Read the seeded library (indicators/*.yaml) into a validated batch.

`python -m importers.seed --check [DIR]` validates the whole folder, applies
it to a throw-away database and runs the publish gates, printing every problem
with its file and item.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from marshmallow import ValidationError

from kb.errors import Problem
from kb.library.draft import Batch, build_batch
from kb.paths import INDICATORS_DIR
from kb.schemas import MilestoneSchema, PlanYearSchema, flatten_messages

# top-level key of a data file → record kind
LIST_KEYS = {
    "indicators": "indicator",
    "quotas": "quota",
    "sectors": "sector",
    "departments": "department",
    "project_types": "project_type",
    "systems": "system",
    "cases": "case",
}
FILE_DEFAULT_KEYS = ("source", "provenance", "certainty")
SKIP_DIRS = {"framework"}


@dataclass
class SeedLibrary:
    batch: Batch
    plan_years: list[dict] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# libyaml's safe loader, when PyYAML was built with it: the same documents,
# parsed six times faster (the seed library: 1.2 s in pure Python, 0.2 s)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_directory(root: Path = INDICATORS_DIR) -> SeedLibrary:
    entries: list[tuple[str, dict, str, int | None]] = []
    problems: list[Problem] = []
    years: list[dict] = []
    milestones: list[dict] = []
    for path in sorted(root.rglob("*.yaml")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] in SKIP_DIRS:
            continue
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.append(Problem(f"无法解析 YAML：{exc}", rel))
            continue
        if not isinstance(doc, dict):
            problems.append(Problem("文件内容应为一个映射（key: value）", rel))
            continue
        if rel == "plan.yaml":
            y, m, p = _plan(doc, rel)
            years, milestones = y, m
            problems.extend(p)
        elif rel == "text/synonyms.yaml":
            entries.append(("text", {"code": "synonyms", "data": {"groups": doc.get("groups", []), "related": doc.get("related", [])}}, rel, None))
        elif "nodes" in doc:
            entries.append(("system", doc, rel, None))
        else:
            entries.extend(_list_entries(doc, rel, problems))
    batch, batch_problems = build_batch(entries)
    return SeedLibrary(batch, years, milestones, problems + batch_problems)


def _list_entries(doc: dict, rel: str, problems: list[Problem]):
    keys = [k for k in doc if k in LIST_KEYS]
    unknown = [k for k in doc if k not in LIST_KEYS and k not in FILE_DEFAULT_KEYS and k != "defaults"]
    if unknown:
        problems.append(Problem(f"未知的顶层键：{'、'.join(map(str, unknown))}", rel))
    if not keys:
        problems.append(Problem("文件中没有 indicators/quotas/sectors/departments/project_types/systems 列表", rel))
    file_defaults = {k: doc[k] for k in FILE_DEFAULT_KEYS if k in doc}
    defaults = {**file_defaults, **(doc.get("defaults") or {})}
    for key in keys:
        items = doc[key] or []
        if not isinstance(items, list):
            problems.append(Problem(f"{key} 应为列表", rel))
            continue
        kind = LIST_KEYS[key]
        for i, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                problems.append(Problem("每一项应为映射", rel, i))
                continue
            record = {**defaults, **item}
            if kind in ("sector", "department", "project_type"):
                record.setdefault("source", {"document": "支出功能分类科目（政府收支分类科目）" if kind == "sector" else "本库整理"})
                record.setdefault("provenance", "local")
            yield kind, record, rel, i


def _plan(doc: dict, rel: str):
    years, milestones, problems = [], [], []
    name = doc.get("name", "")
    for y in doc.get("years") or []:
        raw_year = {"year": y.get("year"), "theme": y.get("theme", ""), "plan_name": name}
        try:
            years.append(PlanYearSchema().load(raw_year))
        except ValidationError as exc:
            problems += [Problem(m, rel, None, f) for f, m in flatten_messages(exc.messages)]
            continue
        for i, m in enumerate(y.get("milestones") or [], start=1):
            try:
                milestones.append(MilestoneSchema().load({**m, "year": y.get("year")}))
            except ValidationError as exc:
                problems += [Problem(msg, f"{rel} {y.get('year')}年", i, f) for f, msg in flatten_messages(exc.messages)]
    return years, milestones, problems


class SeedInvalid(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"指标库数据文件有 {len(problems)} 处错误")
        self.problems = problems


def load_into(session, root: Path = INDICATORS_DIR, user: str = "seed", progress=None):
    """Apply the seeded library to the draft (and replace the plan), all or nothing;
    `progress(records_done, records_total)` as kb.library.draft.apply_batch calls it."""
    from kb.library import draft as library
    from kb.plan.progress import replace_plan

    seed = read_directory(root)
    if seed.problems:
        raise SeedInvalid(seed.problems)
    try:
        replace_plan(session, seed.plan_years, seed.milestones)
        return library.apply_batch(session, seed.batch, user=user, action="seed", progress=progress)
    except Exception:
        session.rollback()
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate the seeded library folder.")
    parser.add_argument("--check", action="store_true", help="validate, apply to a scratch database and run the publish gates")
    parser.add_argument("directory", nargs="?", default=str(INDICATORS_DIR))
    args = parser.parse_args(argv)
    seed = read_directory(Path(args.directory))
    problems = list(seed.problems)
    if not problems:
        from kb import db
        from kb.library import gates, draft as library
        from kb.plan.progress import replace_plan

        engine = db.make_engine("sqlite://")
        from sqlmodel import SQLModel
        SQLModel.metadata.create_all(engine)
        with db.session(engine) as session:
            library.apply_batch(session, seed.batch)
            replace_plan(session, seed.plan_years, seed.milestones)
            problems = gates.check_draft(session)
            problems += plan_references(session, seed.milestones)
    for p in problems:
        print(p, file=sys.stderr)
    counts = {k: len(v) for k, v in seed.batch.items.items()}
    print(f"{'OK' if not problems else 'FAILED'}: {counts}, milestones {len(seed.milestones)}, problems {len(problems)}")
    return 1 if problems else 0


def plan_references(session, milestones: list[dict]) -> list[Problem]:
    from kb.models import Department, ProjectType, Sector
    problems = []
    for m in milestones:
        for key, model in (("sector", Sector), ("department", Department), ("project_type", ProjectType)):
            if m.get(key) and session.get(model, m[key]) is None:
                problems.append(Problem(f"里程碑“{m['code']}”引用了不存在的编码“{m[key]}”", "plan.yaml", None, key))
    return problems


if __name__ == "__main__":
    sys.exit(main())

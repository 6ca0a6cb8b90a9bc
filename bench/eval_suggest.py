"""Suggest evaluation, leave-source-out: recall against real published target
tables, with three baselines in the same run, coverage, check-cleanliness of
the drafted tables, and suggest latency at 10k and 100k indicators.

    python bench/eval_suggest.py [--library indicators] [--sizes 10000,100000] [--rounds 3] [--quality-only]

Development set: bench/data/dev/*.json, one real project each, transcribed from
a published 绩效目标表 (project, goal, indicators, and `source` with its URL).
A project is suggested for from its name, description, sector and budget only;
its published indicators are the answer key.

Leave-source-out: for each dev table, every library indicator and every case
whose source URL is the dev table's own page is removed from the snapshot
before suggesting (kb.targets.cases.leave_source_out), and the name-search baseline
drops hits from that page too. (The search index's term statistics still
count those indicators; their text never reaches a suggestion.)

Recall@20 / @40: the share of a real table's indicators found among the 20 (40)
best-ranked suggestions (Recommendation.top), averaged over projects. A real
indicator is found when a suggestion's name matches it fuzzily
(kb.targets.cases.names_match: equal after kb.library.snapshot.name_key, one containing the
other with the shorter ≥ 4 characters, or character-bigram Dice ≥ 0.6), and
any two "…满意度" names match (学生满意度 and 群众满意度 are the same indicator
for different people).

Baselines, same run: the constant list (the 20 names the system suggests most
often over all dev tables, offered to every project); plain search (the first
20 hits of a search by the project's name); real-name popularity (the 20 names
most frequent in the *other* dev tables — it reads real answers, so it is a
ceiling for "one list for everyone", not a fair baseline). The same run also
scores the recommender without cases.

Reachable: the share of a real table's indicators that have any counterpart in
the leave-source-out library (and in it or the cases' rows), at any rank: the
ceiling of recall for this content, so a recall target above it is a content
target, not a ranking one.

Relevance: on the dev tables judged by hand (bench/data/judged.json), the
share of the top 20 judged irrelevant; suggestions not judged yet are counted
apart (re-judge after changing the recommender).

Real 二级 covered: the share of the real table's 101号 dimensions that the top
20 cover. Coverage: the share of the template's required dimensions with a
suggestion. Check-clean: the share of drafted tables the check finds no error in.

Latency: the real library padded with bench/search.py's synthetic generator
to each size, indexed with Whoosh (10k target ≤ 50 ms p95) and tantivy (100k
target ≤ 30 ms p95); every development project suggested `--rounds` times
after a warm-up round.

Writes bench/results/suggest.json; the last stdout line is its summary JSON.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "suggest.json"
DEV = ROOT / "bench" / "data" / "dev"
TOP_N = 20
REQUIRED = [("产出指标", "数量指标"), ("产出指标", "质量指标"), ("产出指标", "时效指标"),
            ("成本指标", "经济成本指标"), ("效益指标", "*"), ("满意度指标", "服务对象满意度指标")]


# --- matching --------------------------------------------------------------------------

def names_match(a: str, b: str) -> bool:
    """kb.targets.cases.names_match, and any two "…满意度" names (学生满意度 and 群众满意度 are the same
    indicator for different people)."""
    from kb.targets.cases import names_match as fuzzy
    from kb.library.snapshot import name_key

    x, y = name_key(a), name_key(b)
    if x.endswith("满意度") and y.endswith("满意度"):
        return True
    return fuzzy(a, b)


def recall(real: list[str], suggested: list[str]) -> float:
    if not real:
        return 0.0
    return sum(1 for r in real if any(names_match(r, s) for s in suggested)) / len(real)


def reachable_share(snap, real: list[str]) -> dict[str, float]:
    """The share of a real table's indicators that have any counterpart (names_match) among the library's live
    indicators, and among those or the cases' rows, in the leave-source-out snapshot: the recall a perfect
    ranking of unlimited length would reach with this content. A recall target above it needs content, not
    ranking."""
    if not real:
        return {"library": 0.0, "either": 0.0}
    names = {r.name for r in snap.rows if r.status in ("standard", "candidate")}
    case_names = {(row.get("name") or "").strip() for c in snap.cases for row in c.rows} - {""}
    in_library = [r for r in real if any(names_match(r, n) for n in names)]
    in_cases = [r for r in real if r not in in_library and any(names_match(r, n) for n in case_names)]
    return {"library": round(len(in_library) / len(real), 4), "either": round((len(in_library) + len(in_cases)) / len(real), 4)}


def covered(dims: set[tuple[str, str]]) -> float:
    hit = 0
    for level1, level2 in REQUIRED:
        if level2 == "*":
            hit += any(d[0] == level1 for d in dims)
        else:
            hit += (level1, level2) in dims
    return hit / len(REQUIRED)


def real_dims_covered(table, suggested: set[tuple[str, str]]) -> float | None:
    """The share of the real table's 二级 (placed in the 101号 template) that the suggestions cover."""
    from kb.targets.cases import template_dims

    real = {d for r in table.indicators if (d := template_dims(r.level1, r.level2, r.name))}
    if not real:
        return None
    return len(real & suggested) / len(real)


# --- the development set -----------------------------------------------------------------

def load_dev() -> list[tuple[str, object, dict]]:
    from kb.targets.schema import load_table

    out = []
    for path in sorted(DEV.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        out.append((path.stem, load_table(raw), raw.get("source", {})))
    return out


def popularity(dev, leave_out: str) -> list[tuple[str, tuple[str, str]]]:
    """The most frequent names in the other tables (a name counted once per table)."""
    counts: Counter = Counter()
    dims: dict[str, Counter] = {}
    for stem, table, _ in dev:
        if stem == leave_out:
            continue
        for name in {r.name for r in table.indicators if r.name}:
            counts[name] += 1
        for r in table.indicators:
            dims.setdefault(r.name, Counter())[(r.level1, r.level2)] += 1
    ranked = sorted(counts, key=lambda n: (-counts[n], n))[:TOP_N]
    return [(n, dims[n].most_common(1)[0][0]) for n in ranked]


def suggest_project(snap, opened, project):
    """Recommend; a sector the library does not know is set aside by recommend itself, with a warning."""
    from kb.targets.recommend import recommend_from

    rec = recommend_from(snap, opened, project)
    return rec, "；".join(rec.warnings)


JUDGED = ROOT / "bench" / "data" / "judged.json"


def judged_relevance(rows: list[dict]) -> dict:
    """Irrelevant suggestions in the top 20 of the hand-judged tables (bench/data/judged.json): a
    suggestion not judged yet (the suggestions changed since) is counted apart, never guessed."""
    if not JUDGED.exists():
        return {}
    tables = json.loads(JUDGED.read_text(encoding="utf-8"))["tables"]
    irrelevant = relevant = unjudged = 0
    for row in rows:
        judged = tables.get(row["project"])
        if judged is None:
            continue
        for name in row["top20"]:
            if name in judged["irrelevant"]:
                irrelevant += 1
            elif name in judged["relevant"]:
                relevant += 1
            else:
                unjudged += 1
    total = irrelevant + relevant
    return {"tables": len(tables), "irrelevant": irrelevant, "judged": total, "unjudged": unjudged,
            "irrelevant_share": round(irrelevant / total, 4) if total else None}


# --- the real library ----------------------------------------------------------------------

def open_library(dirs: list[Path], work: Path):
    from sqlmodel import SQLModel

    from importers import seed
    from kb import db
    from kb.library import versions

    engine = db.make_engine(f"sqlite:///{work / 'eval.sqlite3'}")
    SQLModel.metadata.create_all(engine)
    session = db.session(engine)
    for d in dirs:
        seed.load_into(session, d)
    versions.publish(session, "2024.1", notes="eval")
    return session


def quality(session, index_dir, dev, use_cases: bool = True) -> dict:
    from kb.library import snapshot as snapshots
    from kb.targets.cases import leave_source_out
    from kb.targets.check import check
    from kb.search import open_index

    base_snap = snapshots.load(session, None)
    if not use_cases:
        base_snap = replace(base_snap, cases=[], memo={})
    opened = open_index(session, index_dir, base_snap.version.label)
    rows, tops, times = [], {}, []
    for stem, table, source in dev:
        snap, dropped_indicators, dropped_cases = leave_source_out(base_snap, source.get("url", ""))
        t = time.perf_counter()
        rec, note = suggest_project(snap, opened, table.project)
        times.append((time.perf_counter() - t) * 1000)
        top = rec.top(40)
        tops[stem] = [s.name for s in top[:TOP_N]]
        base = popularity(dev, stem)
        # the search baseline is held to leave-source-out too: hits from the table's own page are dropped
        searched = [h.name for h in opened.search(table.project.name, None, 1, 3 * TOP_N, False).hits
                    if h.code in snap.by_code][:TOP_N]
        real = [r.name for r in table.indicators if r.name]
        reachable = reachable_share(snap, real)
        drafted = check(rec.to_table(), session)
        dims = {(s.level1, s.level2) for s in top[:TOP_N]}
        rows.append({
            "project": stem,
            "source_url": source.get("url", ""),
            "left_out": {"indicators": dropped_indicators, "cases": dropped_cases},
            "real_indicators": len(real),
            "recall": round(recall(real, tops[stem]), 4),
            "recall_at_40": round(recall(real, [s.name for s in top]), 4),
            "popularity_recall": round(recall(real, [n for n, _ in base]), 4),
            "search_recall": round(recall(real, searched), 4),
            "reachable_library": reachable["library"],
            "reachable": reachable["either"],
            "real_dims_covered": real_dims_covered(table, dims),
            "coverage": round(covered({(s.level1, s.level2) for s in rec.indicators}), 4),
            "similar_cases": [c.case.code for c in rec.similar],
            "case_suggestions": sum(1 for s in top[:TOP_N] if s.kind == "case"),
            "types": [t.code for t in rec.project_types],
            "terms": rec.terms,
            "top20": tops[stem],
            "drafted_errors": len(drafted.errors),
            "drafted_grade": drafted.grade,
            "note": note,
        })
    # the constant list: the 20 names the system suggests most often over all dev tables
    counts = Counter(name for names in tops.values() for name in set(names))
    constant = sorted(counts, key=lambda n: (-counts[n], n))[:TOP_N]
    for (stem, table, _), row in zip(dev, rows):
        row["constant_recall"] = round(recall([r.name for r in table.indicators if r.name], constant), 4)

    judged = judged_relevance(rows)

    def mean(key, subset=None):
        items = [r[key] for r in rows if (subset is None or subset(r)) and r[key] is not None]
        return round(statistics.fmean(items), 4) if items else None

    return {
        "projects": len(rows),
        "cases_in_library": len(base_snap.cases),
        "recall_at_20": mean("recall"),
        "recall_at_40": mean("recall_at_40"),
        "constant_recall_at_20": mean("constant_recall"),
        "search_recall_at_20": mean("search_recall"),
        "popularity_recall_at_20": mean("popularity_recall"),
        "reachable_library": mean("reachable_library"),
        "reachable": mean("reachable"),
        "real_dims_covered": mean("real_dims_covered"),
        "coverage": mean("coverage"),
        "check_clean_share": round(sum(1 for r in rows if r["drafted_errors"] == 0) / len(rows), 4),
        "with_similar_cases": sum(1 for r in rows if r["similar_cases"]),
        "judged": judged,
        "p95_ms": round(pct(times, 95), 2),
        "constant_list": constant,
        "per_project": rows,
    }


# --- latency at 10k and 100k ------------------------------------------------------------------

def synthetic_cases(records, count: int, seed: int = 7):
    """`count` made-up cases over the given (synthetic) indicators: a project name from an indicator's
    subject, eight rows of indicators of its sector. For timing only: never in a quality figure."""
    import random

    from kb.models import CaseRecord

    rng = random.Random(seed)
    by_sector: dict[str, list] = {}
    for r in records:
        for code in r.sectors:
            by_sector.setdefault(code, []).append(r)
    sectors = sorted(by_sector)
    cases = []
    for n in range(count):
        sector = rng.choice(sectors)
        pool = by_sector[sector]
        subject = (rng.choice(pool).keywords or ["项目"])[0]
        rows = [{"level1": r.level1, "level2": r.level2, "name": r.name, "operator": r.operator or "≥",
                 "value": str(rng.choice([90, 95, 100, 12, 300])), "unit": r.unit} for r in rng.sample(pool, min(8, len(pool)))]
        cases.append(CaseRecord(code=f"CASE-SYN-{n:05d}", name=f"{subject}{rng.choice(['专项资金', '项目', '工作经费', '补助资金', '建设项目'])}",
                                sector=sector, year=2020 + n % 6, budget_wan_yuan=float(rng.choice([5, 30, 120, 800])),
                                rows=rows, source={"document": "synthetic", "url": f"synthetic://case/{n}"}, provenance="local"))
    return cases


def padded_snapshot(session, size: int, cases: int = 0):
    """The real library plus synthetic indicators up to `size` (and synthetic cases up to `cases`),
    as a snapshot and as index text."""
    from bench.search import generate_library
    from kb.library import snapshot as snapshots
    from kb.models import IndicatorRecord, SectorRecord
    from kb.search.documents import read_library

    snap = snapshots.load(session, None)
    real_text = read_library(session, snap.version)
    need = max(0, size - len(real_text.indicators))
    synthetic = generate_library(need) if need else None
    records = list(snap.indicators)
    sectors = dict(snap.sectors)
    if synthetic:
        for ind in synthetic.indicators:
            records.append(IndicatorRecord(
                code=ind.code, kind=ind.kind, level1=ind.level1, level2=ind.level2, name=ind.name,
                definition=ind.definition, formula=ind.formula, unit=ind.unit, operator=ind.operator,
                direction=ind.direction, sectors=ind.sectors, departments=[], project_types=ind.project_types,
                keywords=ind.keywords, status=ind.status, data_source=ind.data_source,
                source={"document": "synthetic"},
            ))
        for code, name in synthetic.taxonomy.sectors.items():
            sectors.setdefault(code, SectorRecord(code=code, name=name, source={"document": "synthetic"}))
        real_text.taxonomy.sectors.update({c: n for c, n in synthetic.taxonomy.sectors.items() if c not in real_text.taxonomy.sectors})
    text = type(real_text)(records, real_text.taxonomy, real_text.synonyms)
    made_up = synthetic_cases(records[len(snap.indicators):], max(0, cases - len(snap.cases))) if synthetic else []
    padded = snapshots.Snapshot(version=replace(snap.version, label=f"pad{size}"), indicators=records, quotas=snap.quotas,
                                sectors=sectors, departments=snap.departments, project_types=snap.project_types,
                                cases=list(snap.cases) + made_up)
    return padded, text


def latency(session, dev, size: int, engine: str, rounds: int, work: Path, cases: int = 0) -> dict:
    from kb.targets.recommend import recommend_from
    from kb.search.engine import get_engine
    from kb.search.index import build_library_index
    from kb.search.reader import OpenIndex
    from kb.text import analyzer

    t = time.perf_counter()
    snap, text = padded_snapshot(session, size, cases)
    prepare_s = time.perf_counter() - t
    t = time.perf_counter()
    info = build_library_index(work / f"pad-{size}", snap.version.label, f"pad-{size}", text, engine=engine)
    build_s = time.perf_counter() - t
    path = Path(info.path)
    opened = OpenIndex(path, get_engine(engine).open(path), analyzer(work))
    projects = [table.project for _, table, _ in dev]  # an unknown sector is recommend's to set aside
    for p in projects:  # warm-up: snapshot memos, the tokenizer, the engine's caches
        recommend_from(snap, opened, p)
    times = []
    for _ in range(rounds):
        for p in projects:
            t = time.perf_counter()
            recommend_from(snap, opened, p)
            times.append((time.perf_counter() - t) * 1000)
    opened.reader.close()
    return {"size": len(snap.indicators), "cases": len(snap.cases), "engine": engine, "calls": len(times),
            "p50_ms": round(pct(times, 50), 2), "p95_ms": round(pct(times, 95), 2), "max_ms": round(max(times), 2),
            "index_build_s": round(build_s, 1), "prepare_s": round(prepare_s, 1)}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", default=str(ROOT / "indicators"), help="library folder(s), comma-separated")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--engines", default="", help="engine per size, e.g. whoosh,tantivy (default: whoosh at 10k, tantivy above)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quality-only", action="store_true", help="skip the latency runs")
    parser.add_argument("--cases", type=int, default=5000, help="cases in the latency runs (the real ones padded with made-up ones)")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)

    dev = load_dev()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    engines = args.engines.split(",") if args.engines else ["whoosh" if s <= 10000 else "tantivy" for s in sizes]
    with tempfile.TemporaryDirectory(prefix="zb-eval-") as tmp:
        work = Path(tmp)
        session = open_library([Path(d) for d in args.library.split(",")], work)
        index_dir = work / "index"
        t = time.perf_counter()
        q = quality(session, index_dir, dev)
        q["eval_s"] = round(time.perf_counter() - t, 1)
        q["without_cases"] = {k: v for k, v in quality(session, index_dir, dev, use_cases=False).items()
                              if k not in ("per_project", "constant_list")}
        print(f"dev set: {q['projects']} projects, leave-source-out, {q['cases_in_library']} cases; "
              f"recall@{TOP_N} {q['recall_at_20']:.3f} (@40 {q['recall_at_40']:.3f}) vs constant list {q['constant_recall_at_20']:.3f}, "
              f"name search {q['search_recall_at_20']:.3f}, real-name popularity {q['popularity_recall_at_20']:.3f}; "
              f"reachable with this content (any rank): library {q['reachable_library']:.3f}, library or cases {q['reachable']:.3f}; "
              f"without cases {q['without_cases']['recall_at_20']:.3f}; real 二级 covered {q['real_dims_covered']:.3f}; "
              f"drafted tables without check errors {q['check_clean_share']:.0%}; judged irrelevant in the top 20: "
              f"{q['judged'].get('irrelevant')} of {q['judged'].get('judged')} ({q['judged'].get('unjudged')} not judged yet)")
        lat = []
        for size, engine in zip([] if args.quality_only else sizes, engines):
            r = latency(session, dev, size, engine, args.rounds, work, args.cases)
            lat.append(r)
            print(f"suggest {engine} {r['size']} indicators, {r['cases']} cases: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms "
                  f"({r['calls']} calls; index build {r['index_build_s']} s)")
        session.close()
    out = {"quality": q, "latency": lat}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    summary = {k: v for k, v in q.items() if k != "per_project"}
    print(json.dumps({"quality": summary, "latency": lat}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

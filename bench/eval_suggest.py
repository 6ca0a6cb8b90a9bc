"""Suggest evaluation: recall against real published target tables, with a
popularity baseline in the same run, dimension coverage, check-cleanliness of
the drafted tables, and suggest latency at 10k and 100k indicators.

    python bench/eval_suggest.py [--library indicators] [--sizes 10000,100000] [--rounds 3]

Development set: bench/data/dev/*.json, one real project each, transcribed from
a published 绩效目标表 (project, goal, indicators, and `source` with its URL).
A project is suggested for from its name, description, sector and budget only;
its published indicators are the answer key.

Recall@20: the share of a real table's indicators found among the 20
best-scored suggestions, averaged over projects. A real indicator is found
when a suggestion's name matches it fuzzily (`names_match`): the names are
compared after `kb.snapshot.name_key` (spaces, punctuation and bracketed
remarks dropped) and match when they are equal, when one contains the other
and the shorter has at least 4 characters, or when their character-bigram
Dice coefficient is at least 0.6.

Popularity baseline: for each project, the 20 indicator names that occur in
most of the *other* development tables (leave-one-out), ties by name.

Dimension coverage: the share of the 101号 template's required dimensions
(产出 数量/质量/时效, 成本 经济成本, 效益 any, 满意度 服务对象满意度) that have at least
one suggestion. Check-clean: the share of projects whose drafted table
(`Recommendation.to_table()`) gets no error from `kb.check`.

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

def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def names_match(a: str, b: str) -> bool:
    from kb.snapshot import name_key

    x, y = name_key(a), name_key(b)
    if not x or not y:
        return False
    if x == y:
        return True
    short, long = sorted((x, y), key=len)
    if len(short) >= 4 and short in long:
        return True
    bx, by = _bigrams(x), _bigrams(y)
    return 2 * len(bx & by) / (len(bx) + len(by)) >= 0.6


def recall(real: list[str], suggested: list[str]) -> float:
    if not real:
        return 0.0
    return sum(1 for r in real if any(names_match(r, s) for s in suggested)) / len(real)


def covered(dims: set[tuple[str, str]]) -> float:
    hit = 0
    for level1, level2 in REQUIRED:
        if level2 == "*":
            hit += any(d[0] == level1 for d in dims)
        else:
            hit += (level1, level2) in dims
    return hit / len(REQUIRED)


# --- the development set -----------------------------------------------------------------

def load_dev() -> list[tuple[str, object, dict]]:
    from kb.target_schema import load_table

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


def suggest_project(session, index_dir, project):
    """Recommend; a sector the library does not know is dropped (and reported) rather than failing the project."""
    from kb.errors import InvalidInput
    from kb.recommend import recommend

    try:
        return recommend(session, index_dir, project), ""
    except InvalidInput as exc:
        if "行业" not in exc.message:
            raise
        return recommend(session, index_dir, replace(project, sector="")), exc.message


# --- the real library ----------------------------------------------------------------------

def open_library(dirs: list[Path], work: Path):
    from sqlmodel import SQLModel

    from importers import seed
    from kb import db, versions

    engine = db.make_engine(f"sqlite:///{work / 'eval.sqlite3'}")
    SQLModel.metadata.create_all(engine)
    session = db.session(engine)
    for d in dirs:
        seed.load_into(session, d)
    versions.publish(session, "2024.1", notes="eval")
    return session


def quality(session, index_dir, dev) -> dict:
    from kb.check import check

    rows = []
    for stem, table, source in dev:
        rec, note = suggest_project(session, index_dir, table.project)
        top = [s.name for s in rec.top(TOP_N)]
        base = popularity(dev, stem)
        real = [r.name for r in table.indicators if r.name]
        drafted = check(rec.to_table(), session)
        rows.append({
            "project": stem,
            "library_source": bool(source.get("library_source")),
            "real_indicators": len(real),
            "recall": round(recall(real, top), 4),
            "baseline_recall": round(recall(real, [n for n, _ in base]), 4),
            "coverage": round(covered({(s.level1, s.level2) for s in rec.indicators}), 4),
            "baseline_coverage": round(covered({d for _, d in base}), 4),
            "types": [t.code for t in rec.project_types],
            "terms": rec.terms,
            "drafted_errors": len(drafted.errors),
            "drafted_grade": drafted.grade,
            "note": note,
        })

    def mean(key, subset=None):
        items = [r[key] for r in rows if subset is None or subset(r)]
        return round(statistics.fmean(items), 4) if items else None

    return {
        "projects": len(rows),
        "recall_at_20": mean("recall"),
        "baseline_recall_at_20": mean("baseline_recall"),
        "recall_at_20_not_library_sources": mean("recall", lambda r: not r["library_source"]),
        "baseline_recall_at_20_not_library_sources": mean("baseline_recall", lambda r: not r["library_source"]),
        "coverage": mean("coverage"),
        "baseline_coverage": mean("baseline_coverage"),
        "check_clean_share": round(sum(1 for r in rows if r["drafted_errors"] == 0) / len(rows), 4),
        "per_project": rows,
    }


# --- latency at 10k and 100k ------------------------------------------------------------------

def padded_snapshot(session, size: int):
    """The real library plus synthetic indicators up to `size`, as a snapshot and as index text."""
    from bench.search import generate_library
    from kb import snapshot as snapshots
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
    padded = snapshots.Snapshot(version=replace(snap.version, label=f"pad{size}"), indicators=records, quotas=snap.quotas,
                                sectors=sectors, departments=snap.departments, project_types=snap.project_types)
    return padded, text


def latency(session, dev, size: int, engine: str, rounds: int, work: Path) -> dict:
    from kb.recommend import recommend_from
    from kb.search.engine import get_engine
    from kb.search.index import build_library_index
    from kb.search.reader import OpenIndex
    from kb.text import analyzer

    t = time.perf_counter()
    snap, text = padded_snapshot(session, size)
    prepare_s = time.perf_counter() - t
    t = time.perf_counter()
    info = build_library_index(work / f"pad-{size}", snap.version.label, f"pad-{size}", text, engine=engine)
    build_s = time.perf_counter() - t
    path = Path(info.path)
    opened = OpenIndex(path, get_engine(engine).open(path), analyzer(work))
    projects = []
    for _, table, _ in dev:
        p = table.project
        try:
            snap.resolve_sector(p.sector)
        except Exception:
            p = replace(p, sector="")
        projects.append(p)
    for p in projects:  # warm-up: snapshot memos, the tokenizer, the engine's caches
        recommend_from(snap, opened, p)
    times = []
    for _ in range(rounds):
        for p in projects:
            t = time.perf_counter()
            recommend_from(snap, opened, p)
            times.append((time.perf_counter() - t) * 1000)
    opened.reader.close()
    return {"size": len(snap.indicators), "engine": engine, "calls": len(times),
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
        print(f"dev set: {q['projects']} projects; recall@{TOP_N} {q['recall_at_20']:.3f} vs popularity {q['baseline_recall_at_20']:.3f} "
              f"(not library sources: {q['recall_at_20_not_library_sources']} vs {q['baseline_recall_at_20_not_library_sources']}); "
              f"coverage {q['coverage']:.3f} vs {q['baseline_coverage']:.3f}; drafted tables without check errors {q['check_clean_share']:.0%}")
        lat = []
        for size, engine in zip(sizes, engines):
            r = latency(session, dev, size, engine, args.rounds, work)
            lat.append(r)
            print(f"suggest {engine} {r['size']} indicators: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms "
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

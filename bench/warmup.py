"""A worker's warm-up at 10k and 100k indicators: what a freshly forked gunicorn worker does before it serves
at full speed (server.warmup: the search index opened, the version's snapshot read from its file, the case rows'
library matches, the gazetteer, the settle), timed in a fresh process each round.

    python bench/warmup.py [--sizes 10000,100000] [--rounds 5] [--engine tantivy]

Each size is seeded as bench/load.py seeds it (the real library padded with synthetic indicators, published with
its index); a first probe writes the version's file and its case-row matches (the publish job's part). Two cases
are measured in the same run, rounds alternating: `kept` (the matches read from beside the version's file, as
after a publish) and `computed` (that file removed first: the worker matches every case row against the library,
the way each worker did before the matches were kept). Prints the median and range of each, writes
bench/results/warmup.json, and its last stdout line is that JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "warmup.json"

# run in a fresh process: the time from create_app's return to the warm-up thread's end, and its parts
PROBE = r"""
import json, time
from server.app import create_app
from server import warmup
import kb.targets.cases as cases, kb.targets.places as places
from kb.library import snapshot
parts = {}
def timed(module, name):
    inner = getattr(module, name)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - started
    setattr(module, name, wrapper)
for module, name in ((snapshot, "load"), (cases, "case_index"), (places, "gazetteer"), (warmup, "settle")):
    timed(module, name)
app = create_app()
started = time.perf_counter()
thread = warmup.warm_up(app)
thread.join()
print(json.dumps({"total_s": time.perf_counter() - started, **{k + "_s": v for k, v in parts.items()}}))
"""


def probe(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(runs: list[dict]) -> dict:
    keys = runs[0].keys()
    return {k: {"median": round(statistics.median(r[k] for r in runs), 2),
                "min": round(min(r[k] for r in runs), 2), "max": round(max(r[k] for r in runs), 2)} for k in keys}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--engine", default=os.environ.get("ZHIBIAO_SEARCH_ENGINE", "tantivy"))
    args = parser.parse_args(argv)
    from bench.load import seed_instance

    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix=f"zb-warm-{size}-"))
        env = {**os.environ, "ZHIBIAO_DATA_DIR": str(work), "ZHIBIAO_SEARCH_ENGINE": args.engine,
               "ZHIBIAO_RATE_LIMIT": "off"}
        env.pop("ZHIBIAO_DATABASE_URL", None)
        try:
            seeded = seed_instance(size, work, env)
            probe(env)  # the version's file and the kept matches, written once (the publish job's part)
            kept_files = list((work / "snapshots").glob("*.json"))
            runs: dict[str, list[dict]] = {"kept": [], "computed": []}
            for _ in range(args.rounds):
                runs["kept"].append(probe(env))
                saved = {p: p.read_bytes() for p in kept_files}
                for p in kept_files:
                    p.unlink()
                runs["computed"].append(probe(env))
                for p, data in saved.items():  # as the publish left it, for the next round's `kept`
                    p.write_bytes(data)
            row = {"size": size, "indicators": seeded["indicators"], "engine": args.engine, "cores": os.cpu_count(),
                   "load_1min": round(os.getloadavg()[0], 1), "measured_at": time.strftime("%Y-%m-%d %H:%M"),
                   **{name: summary(r) for name, r in runs.items()}}
            results.append(row)
            print(f"size {size}: warm-up kept {row['kept']['total_s']} s, computed {row['computed']['total_s']} s "
                  f"(load {row['load_1min']})", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    out = {"results": results}
    RESULTS.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

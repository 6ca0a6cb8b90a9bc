"""Publishing a big draft through the API, as a job: the seeded library plus
synthetic indicators (bench/search.py's generator) up to --size, published
with POST /api/v1/versions and followed at its job until done.

    python bench/publish.py [--size 50000] [--engine whoosh|tantivy] [--baseline REV]

Reports the time to import the synthetic indicators into the draft, and the
publish job's time (gates, snapshot, search index) on SQLite, as wall time
and as the process's CPU time (the job is a thread of this process; on a
machine shared with other work the CPU time is the steadier figure).
`--baseline REV` runs the same measurement, in a fresh process, on the code
of git revision REV (extracted with `git archive`), so the old path and the
new are measured in the same run. Writes bench/results/publish.json; the
last stdout line is that JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "publish.json"


def _baseline(rev: str, size: int, engine: str) -> dict:
    """The same measurement on the code of `rev`, in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="zb-publish-base-") as tree:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--size", str(size), "--engine", engine,
                              "--code", tree, "--no-save"], capture_output=True, text=True)
        if out.returncode not in (0, 1) or not out.stdout.strip():
            raise SystemExit(f"baseline {rev} failed: {out.stderr[-2000:]}")
        row = json.loads(out.stdout.strip().splitlines()[-1])
    row["code"] = rev
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50000)
    parser.add_argument("--engine", default="whoosh")
    parser.add_argument("--baseline", help="also measure the code of this git revision (e.g. main)")
    parser.add_argument("--code", help=argparse.SUPPRESS)  # the tree whose code is measured (for --baseline)
    parser.add_argument("--no-save", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, args.code or str(ROOT))
    baseline = _baseline(args.baseline, args.size, args.engine) if args.baseline else None

    from server.app import create_app
    from bench.search import generate_library
    from importers import seed
    from kb import auth as kbauth
    from kb import db as kbdb
    from kb.library import draft as library, versions

    with tempfile.TemporaryDirectory(prefix="zb-publish-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'zb.sqlite3'}"
        os.environ["ZHIBIAO_SEARCH_ENGINE"] = args.engine
        engine = kbdb.make_engine(url)
        kbdb.upgrade(engine)
        with kbdb.session(engine) as s:
            seed.load_into(s)
            versions.publish(s, "2024.1")
            real = len(library.draft_records(s, "indicator"))
            synthetic = generate_library(max(0, args.size - real))
            t = time.perf_counter()
            entries = [("sector", {"code": c, "name": n, "source": {"document": "synthetic"}, "provenance": "local"}, "bench", None)
                       for c, n in synthetic.taxonomy.sectors.items() if s.get(library.DRAFT_MODELS["sector"], c) is None]
            entries += [("indicator", {"code": i.code, "kind": i.kind, "level1": i.level1, "level2": i.level2, "name": i.name,
                                       "definition": i.definition, "unit": i.unit, "operator": i.operator, "direction": i.direction,
                                       "sectors": i.sectors, "keywords": i.keywords,
                                       # the generator's departments and types are not the seeded ones: left out
                                       "status": "standard", "source": {"document": "synthetic"}, "provenance": "local"},
                         "bench", None) for i in synthetic.indicators]
            batch, problems = library.build_batch(entries)
            assert not problems, problems[:3]
            library.apply_batch(s, batch, user="bench")
            import_s = time.perf_counter() - t
            token = kbauth.create_api_key(s, "bench", "read,curate").token
            total = len(library.draft_records(s, "indicator"))
        engine.dispose()
        app = create_app({"DATABASE_URL": url, "DATA_DIR": tmp, "RATE_LIMIT": "off", "RATE_LIMIT_COSTLY": "off"})
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        t, cpu = time.perf_counter(), time.process_time()
        resp = client.post("/api/v1/versions", json={"label": "2024.2", "notes": "bench"}, headers=headers)
        accepted_ms = (time.perf_counter() - t) * 1000
        assert resp.status_code == 202, resp.get_data(as_text=True)
        location = resp.headers["Location"]
        while True:
            job = client.get(location, headers=headers).get_json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        publish_s, publish_cpu = time.perf_counter() - t, time.process_time() - cpu
    row = {"indicators": total, "engine": args.engine, "import_s": round(import_s, 1), "accepted_ms": round(accepted_ms, 1),
           "publish_job_s": round(publish_s, 1), "publish_cpu_s": round(publish_cpu, 1), "status": job["status"],
           "error": job.get("error", ""), "cores": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 1),
           "measured_at": time.strftime("%Y-%m-%d %H:%M")}
    print(f"{total} indicators ({args.engine}): import {row['import_s']} s; POST answered 202 in {row['accepted_ms']} ms; "
          f"publish job {job['status']} after {row['publish_job_s']} s ({row['publish_cpu_s']} s of CPU; "
          f"load average {row['load_1min']} on {row['cores']} cores)")
    if baseline is not None:
        row["baseline"] = baseline
        print(f"  baseline {baseline['code']}: publish job {baseline['status']} after {baseline['publish_job_s']} s"
              + (f" ({baseline['publish_cpu_s']} s of CPU)" if "publish_cpu_s" in baseline else ""))
    if args.no_save:
        print(json.dumps(row, ensure_ascii=False))
        return 0 if job["status"] == "done" else 1
    previous = json.loads(RESULTS.read_text(encoding="utf-8")).get("results", []) if RESULTS.exists() else []
    kept = [r for r in previous if (r.get("indicators"), r.get("engine")) != (total, args.engine)]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"results": kept + [row]}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(row, ensure_ascii=False))
    return 0 if job["status"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())

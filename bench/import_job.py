"""Big imports answered at once: how long a 50,000-row import keeps its request before the job takes over.

    python bench/import_job.py [--size 50000] [--baseline REV]

Two ways in, each on a fresh SQLite library (the seeded one, published):
- the API: POST /api/v1/draft/import of a whole-library JSON document with --size synthetic indicators
  (allow_duplicates=true): the time to its 202, then the job's time until the draft has them;
- the curators' pages: a --size-row CSV previewed (/curator/import/preview: the dry run, on the request by
  design), then confirmed (/curator/import/apply): the time to the redirect to the job's page, then the job's.

`--baseline REV` measures the code of git revision REV the same way, in a fresh process (extracted with
`git archive`), so the old path and the new one are measured in the same run. Wall times; the load average is
printed beside them. The last stdout line is the JSON of the figures; bench/results/import_job.json keeps them.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "import_job.json"
CODE = ROOT  # the tree whose code is measured (--code; modules are looked up by its layout, not by what imports)
PASSWORD = "bench-口令-2024"
HEADERS = ["指标编码", "指标类别", "一级指标", "二级指标", "三级指标", "计量单位", "指标性质", "行业", "来源文件"]


def _baseline(rev: str, size: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="zb-import-base-") as tree:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        # this script, run on the other tree's code
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--size", str(size), "--code", tree,
                              "--no-save"], capture_output=True, text=True)
        if out.returncode != 0 or not out.stdout.strip():
            raise SystemExit(f"baseline {rev} failed: {out.stderr[-2000:]}")
        row = json.loads(out.stdout.strip().splitlines()[-1])
    row["code"] = rev
    return row


def _documents(size: int) -> tuple[dict, bytes]:
    """The same synthetic indicators as a whole-library JSON document and as a CSV table (unique names)."""
    from bench.search import generate_library

    synthetic = generate_library(size)
    sectors = [{"code": c, "name": n, "source": {"document": "synthetic"}, "provenance": "local"}
               for c, n in synthetic.taxonomy.sectors.items()]
    indicators = [{"code": i.code, "kind": i.kind, "level1": i.level1, "level2": i.level2, "name": f"{i.name}{n}",
                   "definition": i.definition, "unit": i.unit, "operator": i.operator, "direction": i.direction,
                   "sectors": i.sectors, "keywords": i.keywords, "status": "standard",
                   "source": {"document": "synthetic"}, "provenance": "local"}
                  for n, i in enumerate(synthetic.indicators)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for n, i in enumerate(synthetic.indicators):
        # a seeded sector, so that the table's rows need nothing the draft lacks
        writer.writerow([f"CSV-{n:06d}", "个性", i.level1, i.level2, f"{i.name}{n}", i.unit, i.operator, "21002", "合成指标表"])
    return {"format": "zhibiao-library", "sectors": sectors, "indicators": indicators}, out.getvalue().encode("utf-8")


def _until_done(get, location: str, timeout: float = 600.0) -> tuple[str, float]:
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        status = get(location)
        if status in ("done", "failed"):
            return status, time.perf_counter() - t
        time.sleep(0.2)
    return "timeout", time.perf_counter() - t


def _fresh_app(tmp: str, name: str):
    if (CODE / "server" / "app.py").exists():
        from server.app import create_app
    else:  # the code of a revision from before server/ (--baseline)
        from api.app import create_app
    from importers import seed
    from kb import auth as kbauth
    from kb import db as kbdb
    if (CODE / "kb" / "library" / "versions.py").exists():
        from kb.library import versions
    else:
        from kb.library import versions

    url = f"sqlite:///{Path(tmp) / (name + '.sqlite3')}"
    engine = kbdb.make_engine(url)
    kbdb.upgrade(engine)
    with kbdb.session(engine) as s:
        seed.load_into(s)
        versions.publish(s, "2024.1")
        token = kbauth.create_api_key(s, "bench", "read,curate").token
        kbauth.create_user(s, "维护员", PASSWORD, "curator")
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "DATA_DIR": tmp, "RATE_LIMIT": "off", "RATE_LIMIT_COSTLY": "off",
                      "MAX_CONTENT_LENGTH": 512 * 1024 * 1024, "WTF_CSRF_ENABLED": False})
    return app, token


def _api(tmp: str, doc: dict) -> dict:
    app, token = _fresh_app(tmp, "api")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    t = time.perf_counter()
    resp = client.post("/api/v1/draft/import?allow_duplicates=true", data=body, headers=headers, content_type="application/json")
    answered_ms = (time.perf_counter() - t) * 1000
    assert resp.status_code == 202, resp.get_data(as_text=True)[:2000]
    status, job_s = _until_done(lambda loc: client.get(loc, headers=headers).get_json()["status"], resp.headers["Location"])
    return {"answered_ms": round(answered_ms), "job": status, "job_s": round(job_s, 1), "body_mb": round(len(body) / 2**20, 1)}


def _pages(tmp: str, table: bytes) -> dict:
    import re

    app, _ = _fresh_app(tmp, "pages")
    client = app.test_client()
    assert client.post("/curator/login", data={"name": "维护员", "password": PASSWORD}).status_code == 302
    t = time.perf_counter()
    preview = client.post("/curator/import/preview", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(table), "合成指标.csv"), "kind": "specific"})
    preview_s = time.perf_counter() - t
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page[:2000]
    form = {}
    for key in ("upload", "digest", "source_document", "kind", "provenance", "sheet"):
        m = re.search(rf'name="{key}" value="([^"]*)"', page)
        form[key] = m.group(1) if m else ""
    t = time.perf_counter()
    resp = client.post("/curator/import/apply", data=form)
    answered_ms = (time.perf_counter() - t) * 1000
    assert resp.status_code == 302 and "/curator/jobs/" in resp.headers["Location"], resp.get_data(as_text=True)[:2000]
    job_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    def status(_):
        from kb import db as kbdb
        if (CODE / "kb" / "library" / "jobs.py").exists():
            from kb.library import jobs
        else:
            from kb.library import jobs

        with kbdb.session(app.extensions["zhibiao.engine"]) as s:
            return jobs.get(s, job_id).status

    state, job_s = _until_done(status, "")
    return {"preview_s": round(preview_s, 1), "answered_ms": round(answered_ms), "job": state, "job_s": round(job_s, 1),
            "csv_mb": round(len(table) / 2**20, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50000)
    parser.add_argument("--baseline", help="also measure the code of this git revision (e.g. main)")
    parser.add_argument("--code", help=argparse.SUPPRESS)
    parser.add_argument("--no-save", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global CODE
    CODE = Path(args.code or ROOT).resolve()
    sys.path.insert(0, str(CODE))
    os.environ["ZHIBIAO_MAX_UPLOAD_MB"] = "512"  # a 50,000-row file is bigger than the default upload limit
    baseline = _baseline(args.baseline, args.size) if args.baseline else None
    doc, table = _documents(args.size)
    with tempfile.TemporaryDirectory(prefix="zb-import-") as tmp:
        api = _api(tmp, doc)
        pages = _pages(tmp, table)
    row = {"rows": args.size, "api": api, "pages": pages, "cores": os.cpu_count(),
           "load_1min": round(os.getloadavg()[0], 1), "measured_at": time.strftime("%Y-%m-%d %H:%M")}
    print(f"{args.size} rows: API JSON ({api['body_mb']} MB) answered 202 in {api['answered_ms']} ms, job {api['job']} after "
          f"{api['job_s']} s; curator CSV ({pages['csv_mb']} MB) preview {pages['preview_s']} s, confirm answered in "
          f"{pages['answered_ms']} ms, job {pages['job']} after {pages['job_s']} s (load average {row['load_1min']} on {row['cores']} cores)")
    if baseline is not None:
        row["baseline"] = baseline
        print(f"  baseline {baseline['code']}: API 202 in {baseline['api']['answered_ms']} ms (job {baseline['api']['job_s']} s); "
              f"curator confirm in {baseline['pages']['answered_ms']} ms (job {baseline['pages']['job_s']} s)")
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(row, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

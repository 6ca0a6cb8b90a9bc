"""HTTP load through gunicorn: search, complete and suggest at 10k (and 100k)
indicators, driven by wrk (Debian package `wrk`) from the same machine.

    python bench/load.py [--sizes 10000,100000] [--duration 15] [--connections 16] [--engine whoosh|tantivy]
    python bench/load.py --sizes 0 --scenarios versions,search_real,complete_real --rounds 5   # the seeded library

For each size it seeds the real library, pads it with the deterministic
synthetic indicators of bench/search.py (size 0: no padding, the seeded
library as shipped), publishes (building the index), starts gunicorn with
gunicorn.conf.py, and runs one wrk scenario per endpoint. GET /api/v1/versions
(one indexed query, no search) runs first as the reference: the server's
ceiling on this machine. `search` and `complete` cycle through queries made
from the synthetic library; `search_real` and `complete_real` through what
drafters type (bench/data/drafter_queries.txt, drafter_prefixes.txt: broad
words such as 门诊 or 满意度 included, which match hundreds of indicators).
Prints requests/s, p50/p95/p99, the error count per scenario, each
scenario's share of the versions route's requests/s and the workers' RSS
and PSS, writes bench/results/load.json (replacing the rows of the sizes and
engine it ran, keeping the others), and its last stdout line is that JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results" / "load.json"
DRAFTER_QUERIES = ROOT / "bench" / "data" / "drafter_queries.txt"
DRAFTER_PREFIXES = ROOT / "bench" / "data" / "drafter_prefixes.txt"

# wrk's Lua: cycle through the requests; report percentiles and errors as JSON.
LUA = r"""
local requests = {}
local i = 0
init = function(args)
  local f = io.open(os.getenv("ZB_REQUESTS"), "r")
  for line in f:lines() do
    local method, path, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
    local headers = {}
    if method == "POST" then headers["Content-Type"] = "application/json" end
    requests[#requests + 1] = wrk.format(method, path, headers, body ~= "" and body or nil)
  end
  f:close()
end
request = function()
  i = i % #requests + 1
  return requests[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'ZBJSON {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
"""

SUGGEST_PROJECTS = [
    ("市中心医院购置CT设备", "购置64排CT一台，提升影像检查能力，缩短患者检查等待时间", "210", 800),
    ("全市基层医务人员培训", "举办三类培训班2期，每期80人，每期3天，提升基层诊疗能力", "210", 40),
    ("高标准农田建设项目", "新建高标准农田2万亩，配套灌溉排水设施", "213", 3000),
    ("农村公路养护", "全年养护农村公路1200公里，提高优良中等路率", "214", 600),
    ("义务教育学校校舍改造", "改造中小学校舍3万平方米，消除安全隐患", "205", 1500),
    ("社区居家养老服务", "为80岁以上老人提供上门服务，覆盖全市社区", "208", 300),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_instance(size: int, work: Path, env: dict) -> dict:
    """`zhibiao init`, then pad the draft with synthetic indicators and publish."""
    subprocess.run([str(BIN / "zhibiao"), "init", "--label", "2024.1"], env=env, check=True, capture_output=True)
    os.environ.update(env)
    from bench.search import generate_library
    from kb import db, search
    from kb.library import draft as library, versions

    engine = db.make_engine(f"sqlite:///{work / 'zhibiao.sqlite3'}")
    started = time.perf_counter()
    with db.session(engine) as session:
        real = len(versions.records(session, "indicator", versions.resolve(session)))
        need = max(0, size - real)
        synthetic = generate_library(need) if need else None
        entries = []
        if synthetic:
            known_sectors = {s.code for s in library.draft_records(session, "sector")}
            source = {"document": "bench/load.py 合成数据"}
            for code, name in synthetic.taxonomy.sectors.items():
                if code not in known_sectors:
                    entries.append(("sector", {"code": code, "name": name, "source": source, "provenance": "local"}, "synthetic", None))
            for code, name in synthetic.taxonomy.departments.items():
                entries.append(("department", {"code": code, "name": name, "source": source, "provenance": "local"}, "synthetic", None))
            for ind in synthetic.indicators:
                entries.append(("indicator", {
                    "code": ind.code, "kind": ind.kind, "level1": ind.level1, "level2": ind.level2, "name": ind.name,
                    "definition": ind.definition, "formula": ind.formula, "unit": ind.unit, "operator": ind.operator,
                    "direction": ind.direction, "sectors": ind.sectors, "departments": ind.departments,
                    "project_types": ind.project_types, "keywords": ind.keywords, "status": ind.status,
                    "data_source": ind.data_source, "source": source, "provenance": "local",
                }, "synthetic", None))
        if entries:
            batch, problems = library.build_batch(entries)
            if problems:
                raise SystemExit(f"synthetic data invalid: {problems[:3]}")
            library.apply_batch(session, batch, user="bench")
            versions.publish(session, "2024.2", notes=f"load bench {size}",
                             after_snapshot=search.publish_hook(work / "index"))
        total = len(versions.records(session, "indicator", versions.resolve(session)))
    engine.dispose()
    return {"indicators": total, "seed_s": round(time.perf_counter() - started, 1),
            "queries": generate_queries_for(synthetic)}


def generate_queries_for(synthetic) -> tuple[list[str], list[str]]:
    from bench.search import generate_library, generate_queries

    lib = synthetic or generate_library(2000)
    queries, _, prefixes = generate_queries(lib, 500)
    real = ["门诊患者满意度", "病人满意", "四级手术", "资金到位率", "抗菌药物", "培训合格率", "高标准农田", "农村公路养护"]
    return real + queries, ["mzhz", "kjyw", "menzhen", "资金", "培训", "gbz"] + prefixes


def drafter_lines(path: Path) -> list[str]:
    """A data file's lines, without comments and blank lines."""
    lines = [l.strip() for l in path.read_text(encoding="utf-8").splitlines()]
    return [l for l in lines if l and not l.startswith("#")]


def _suggest_body(project: tuple) -> str:
    name, description, sector, budget = project
    return json.dumps({"name": name, "description": description, "sector": sector, "budget_wan_yuan": budget},
                      ensure_ascii=False)


def request_file(work: Path, scenario: str, queries: list[str], prefixes: list[str]) -> Path:
    rng = random.Random(7)
    lines = []
    if scenario == "versions":
        lines = ["GET\t/api/v1/versions"]
    elif scenario == "search":
        lines = [f"GET\t/api/v1/indicators?q={urllib.parse.quote(q)}" for q in queries]
    elif scenario == "complete":
        lines = [f"GET\t/api/v1/complete?q={urllib.parse.quote(p)}" for p in prefixes]
    elif scenario == "search_real":
        lines = [f"GET\t/api/v1/indicators?q={urllib.parse.quote(q)}" for q in drafter_lines(DRAFTER_QUERIES)]
    elif scenario == "complete_real":
        lines = [f"GET\t/api/v1/complete?q={urllib.parse.quote(p)}" for p in drafter_lines(DRAFTER_PREFIXES)]
    elif scenario == "suggest":
        lines = [f"POST\t/api/v1/suggest\t{_suggest_body(p)}" for p in SUGGEST_PROJECTS]
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    rng.shuffle(lines)
    path = work / f"{scenario}.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _post_suggest(port: int) -> float:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/suggest",
                                 data=_suggest_body(SUGGEST_PROJECTS[0]).encode(),
                                 headers={"Content-Type": "application/json"})
    t = time.monotonic()
    urllib.request.urlopen(req, timeout=300).read()
    return time.monotonic() - t


def wait_until_warm(port: int, workers: int, timeout: float = 600.0) -> float:
    """Until every worker has opened the index and loaded the version's
    snapshot (its warm-up thread does that beside the first requests): rounds
    of as many concurrent suggest requests as there are workers, until two
    rounds in a row answer quickly. Measuring before that would measure the
    warm-up, not the service."""
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    calm = 0
    with ThreadPoolExecutor(workers * 2) as pool:
        while calm < 2 and time.monotonic() - started < timeout:
            slowest = max(pool.map(lambda _: _post_suggest(port), range(workers * 2)))
            calm = calm + 1 if slowest < 2.0 else 0
    return round(time.monotonic() - started, 1)


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT,
                            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/versions", timeout=5) as r:
                if r.status == 200:
                    print(f"  workers warm after {wait_until_warm(port, os.cpu_count() + 1)} s", flush=True)
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def worker_memory_mb(master_pid: int) -> list[tuple[float, float | None]]:
    """(RSS, PSS) of each gunicorn worker (the master's children), from /proc. PSS shares each page among
    the processes that map it, so memory the workers share (a memory-mapped file) counts once in their sum."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() != str(master_pid):
            continue
        pss = None
        try:
            rollup = (status.parent / "smaps_rollup").read_text()
            pss = round(int(next(l for l in rollup.splitlines() if l.startswith("Pss:")).split()[1]) / 1024, 1)
        except (OSError, StopIteration, ValueError):
            pass
        sizes.append((round(int(fields["VmRSS"].split()[0]) / 1024, 1), pss))
    return sorted(sizes)


def run_wrk(port: int, requests: Path, lua: Path, duration: int, connections: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(lua), f"http://127.0.0.1:{port}"],
        env={**os.environ, "ZB_REQUESTS": str(requests)}, capture_output=True, text=True, check=True,
    ).stdout
    line = next(l for l in out.splitlines() if l.startswith("ZBJSON "))
    data = json.loads(line[len("ZBJSON "):])
    data["rps"] = round(data["requests"] / data["seconds"], 1)
    return data


def combine(runs: list[dict]) -> dict:
    """One scenario's rounds as one figure: requests/s over all of them, the median round's percentiles."""
    if len(runs) == 1:
        return runs[0]
    requests, seconds = sum(r["requests"] for r in runs), sum(r["seconds"] for r in runs)
    out = {"requests": requests, "seconds": round(seconds, 3), "rps": round(requests / seconds, 1)}
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        out[key] = sorted(r[key] for r in runs)[len(runs) // 2]
    out["errors"] = sum(r["errors"] for r in runs)
    out["non2xx"] = sum(r["non2xx"] for r in runs)
    return out


def _previous_rows() -> list[dict]:
    try:
        return json.loads(RESULTS.read_text(encoding="utf-8")).get("results", [])
    except (OSError, ValueError, AttributeError):
        return []


def run_server(server: str, env: dict, work: Path, size: int, queries, prefixes, lua: Path, args) -> list[dict]:
    """Every scenario against one gunicorn setup: "threads" (as shipped) or "sync" (the old one)."""
    port = free_port()
    proc = start_gunicorn({**env, "ZHIBIAO_WORKER_CLASS": "sync"} if server == "sync" else env, port)
    rows = []
    scenarios = args.scenarios.split(",")
    try:
        # With --rounds N every scenario runs N times for duration/N seconds, in turn: on a machine shared
        # with other work, a neighbour's burst then falls on every scenario alike instead of on one of them.
        rounds: dict[str, list[dict]] = {s: [] for s in scenarios}
        slice_s = max(2, round(args.duration / args.rounds))
        for _ in range(args.rounds):
            for scenario in scenarios:
                rounds[scenario].append(run_wrk(port, request_file(work, scenario, queries, prefixes), lua, slice_s,
                                                args.connections))
        for scenario in scenarios:
            figures = combine(rounds[scenario])
            row = {"scenario": scenario, "server": server, "size": size, "engine": args.engine,
                   "workers": os.cpu_count() + 1, "connections": args.connections, "cores": os.cpu_count(),
                   "rounds": args.rounds, "measured_at": time.strftime("%Y-%m-%d %H:%M"), **figures}
            reference = next((r["rps"] for r in rows if r["scenario"] == "versions"), None)
            if reference and scenario != "versions":
                row["of_versions"] = round(row["rps"] / reference, 2)
            rows.append(row)
            share = f"  {row['of_versions']:.2f} of versions" if "of_versions" in row else ""
            print(f"  {scenario:<13} {row['rps']:>8.1f} req/s  p50 {row['p50_ms']:.1f} ms  p95 {row['p95_ms']:.1f} ms"
                  f"  p99 {row['p99_ms']:.1f} ms  errors {row['errors']}  non-2xx {row['non2xx']}{share}", flush=True)
        memory = worker_memory_mb(proc.pid)
        rss = [m[0] for m in memory]
        pss = [m[1] for m in memory if m[1] is not None]
        print(f"  worker RSS after the run: {rss} MB; PSS: {pss} MB (sum {round(sum(pss), 1)} MB)", flush=True)
        for row in rows:
            row["worker_rss_mb"] = max(rss) if rss else None
            row["worker_pss_mb"] = max(pss) if pss else None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the scenarios in turn this many times (duration split among the rounds)")
    parser.add_argument("--engine", default=os.environ.get("ZHIBIAO_SEARCH_ENGINE", "whoosh"))
    parser.add_argument("--scenarios", default="versions,search,search_real,complete,complete_real,suggest",
                        help="comma-separated; versions first: the others are given as a share of it")
    parser.add_argument("--servers", default="threads",
                        help="comma-separated: threads (gunicorn.conf.py as shipped), sync (ZHIBIAO_WORKER_CLASS=sync)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix=f"zb-load-{size}-"))
        env = {**os.environ, "ZHIBIAO_DATA_DIR": str(work), "ZHIBIAO_RATE_LIMIT": "off", "ZHIBIAO_RATE_LIMIT_COSTLY": "off",
               "ZHIBIAO_ACCESS_LOG": "/dev/null", "ZHIBIAO_SEARCH_ENGINE": args.engine}
        env.pop("ZHIBIAO_DATABASE_URL", None)
        try:
            seeded = seed_instance(size, work, env)
            queries, prefixes = seeded.pop("queries")
            print(f"size {size}: {seeded['indicators']} indicators seeded and indexed in {seeded['seed_s']} s", flush=True)
            lua = work / "zb.lua"
            lua.write_text(LUA, encoding="utf-8")
            for server in args.servers.split(","):
                print(f" server {server}", flush=True)
                results += run_server(server, env, work, size, queries, prefixes, lua, args)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    summary = {"machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()[0]}, "results": results}
    print(json.dumps(summary, ensure_ascii=False))
    # the file keeps the latest figures of every size and engine: a 100k
    # tantivy run does not erase the 10k Whoosh one
    measured = {(r["size"], r["engine"], r["server"]) for r in results}
    kept = [r for r in _previous_rows() if (r.get("size"), r.get("engine"), r.get("server", "sync")) not in measured]
    summary["results"] = kept + results
    RESULTS.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

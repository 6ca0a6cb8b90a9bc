"""Search benchmark: our engines against two references, in the same run.

    python bench/search.py [--sizes 10000,100000] [--engines whoosh,tantivy,fts5,like]
                           [--large-engines tantivy,fts5] [--queries 500]

For each size, a deterministic generator makes a realistic synthetic library
(names of about 9 characters, definitions of about 80, sectors, departments,
project types, levels) and about 500 realistic queries (fragments, two-word
queries, synonyms, codes, traditional and full-width forms, typos, symbols)
and 500 typeahead prefixes (characters, full pinyin, initials). Each engine
is measured in fresh processes: one builds (build time, index size, of it
tokenizing), one opens the index like a web worker and answers (process start
to first answer, warm p50/p95/p99 search latency with facets, split by
all-words and any-word answers, without facets, from the LRU, completion
latency, RSS).

Engines: `whoosh` and `tantivy` run our real code (kb.search); the references
run the same queries planned the same way: `fts5` is SQLite FTS5 over the same
jieba tokens (bm25, count, no facets), `like` a plain SQL LIKE scan.

Writes bench/results/search.json; the last line on stdout is
{"results": [{"engine", "size", "search_p95_ms", "complete_p95_ms", "build_s", "rss_mb"}, …]}.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "search.json"
SEED = 20240601
REPEAT = 3  # runs per query; the median counts

# --- a realistic synthetic library ----------------------------------------------------------

SECTORS = {
    "201": ("一般公共服务支出", ["政务服务", "档案管理", "信息系统", "政府采购", "统计调查", "机关事务", "人大履职"]),
    "205": ("教育支出", ["义务教育", "学生资助", "校舍改造", "教师培训", "学前教育", "职业教育", "生均公用经费"]),
    "206": ("科学技术支出", ["科研项目", "科技成果转化", "高新技术企业", "实验室建设", "科普活动"]),
    "207": ("文化旅游体育与传媒支出", ["公共图书馆", "文物保护", "文艺演出", "全民健身", "旅游宣传", "广播电视"]),
    "208": ("社会保障和就业支出", ["养老金发放", "低保对象", "就业培训", "残疾人康复", "退役军人", "高龄津贴"]),
    "210": ("卫生健康支出", ["门诊患者", "住院患者", "基层医疗机构", "家庭医生签约", "孕产妇保健", "儿童疫苗接种",
                         "慢性病患者", "传染病报告", "手术患者", "抗菌药物", "医疗设备"]),
    "211": ("节能环保支出", ["空气质量", "污染源监测", "噪声治理", "秸秆综合利用", "节能改造"]),
    "212": ("城乡社区支出", ["垃圾分类", "污水处理", "城市路灯", "老旧小区改造", "园林绿化", "市政道路"]),
    "213": ("农林水支出", ["高标准农田", "农村饮水工程", "造林面积", "水土流失治理", "农田灌溉", "动物防疫"]),
    "214": ("交通运输支出", ["农村公路", "桥梁养护", "公交线路", "道路养护", "客运站", "货运物流"]),
    "221": ("住房保障支出", ["保障性住房", "棚户区改造", "公租房", "住房公积金"]),
    "222": ("粮油物资储备支出", ["储备粮", "应急物资", "粮食仓储"]),
}
QUALIFIERS = ["", "", "", "年度", "新增", "城区", "农村", "重点", "市级", "县级", "全市"]
ACTIONS = ["", "", "", "建设", "服务", "管理", "维护", "发放", "培训", "验收", "考核"]
MEASURES = [
    ("满意度", "满意度指标", "服务对象满意度指标", "%"), ("覆盖率", "产出指标", "数量指标", "%"),
    ("完成率", "产出指标", "数量指标", "%"), ("达标率", "产出指标", "质量指标", "%"),
    ("合格率", "产出指标", "质量指标", "%"), ("及时率", "产出指标", "时效指标", "%"),
    ("到位率", "产出指标", "数量指标", "%"), ("执行率", "产出指标", "数量指标", "%"),
    ("发生率", "效益指标", "社会效益指标", "%"), ("增长率", "效益指标", "经济效益指标", "%"),
    ("人次", "产出指标", "数量指标", "人次"), ("数量", "产出指标", "数量指标", "个"),
    ("面积", "产出指标", "数量指标", "亩"), ("次数", "产出指标", "数量指标", "次"),
    ("知晓率", "效益指标", "社会效益指标", "%"), ("使用率", "效益指标", "可持续影响指标", "%"),
    ("利用率", "效益指标", "可持续影响指标", "%"), ("按时完成率", "产出指标", "时效指标", "%"),
    ("投诉率", "满意度指标", "服务对象满意度指标", "%"), ("平均时长", "产出指标", "时效指标", "天"),
    ("成本节约率", "成本指标", "经济成本指标", "%"), ("单位成本", "成本指标", "经济成本指标", "元"),
]
PROJECT_TYPES = {"PT-GZ": "购置类", "PT-PX": "培训类", "PT-HY": "会议类", "PT-WZ": "文字成果类",
                 "PT-XXH": "信息化建设与运维类", "PT-JS": "基本建设与维修改造类", "PT-BZ": "补助补贴发放类",
                 "PT-GM": "政府购买服务类", "PT-XC": "宣传类", "PT-YZ": "运转保障类"}
PURPOSES = ["项目实施效果", "资金使用效益", "服务质量", "工作进度", "任务完成", "群众获得感", "管理水平", "政策落实"]
SOURCES = ["统计年报", "业务系统", "财务报表", "抽样调查", "验收报告", "第三方评估报告", "主管部门台账"]
FILLERS = ["按照相关规定", "结合本地实际", "依据年度工作计划", "对照行业标准", "通过信息系统采集", "由主管部门审核确认",
           "剔除不可抗力因素", "以年度为统计周期"]
SYNONYMS = {"groups": [["患者", "病人"], ["满意度", "满意率"], ["资金", "经费"], ["及时率", "及时性"],
                       ["覆盖率", "覆盖面"], ["到位率", "到账率"], ["运维", "运行维护"], ["人均", "每人"]],
            "related": [["门急诊", "门诊"], ["合格率", "达标率"]]}


@dataclass
class Indicator:
    """Duck-types kb.models.IndicatorRecord for kb.search.documents."""
    code: str
    kind: str
    level1: str
    level2: str
    name: str
    definition: str
    formula: str
    unit: str
    operator: str
    direction: str
    sectors: list
    departments: list
    project_types: list
    keywords: list
    status: str
    target_level1: str = ""
    target_level2: str = ""
    data_source: str = ""
    scoring_rule: str = ""
    source: dict = field(default_factory=dict)


def sector_tree(rng: random.Random):
    sectors, leaves = {}, []
    for top, (name, subjects) in SECTORS.items():
        sectors[top] = name
        for i in range(1, 5):
            mid = f"{top}{i:02d}"
            sectors[mid] = f"{subjects[(i - 1) % len(subjects)]}事务"
            for j in range(1, 3):
                leaf = f"{mid}{j:02d}"
                sectors[leaf] = f"{subjects[(i + j) % len(subjects)]}项目"
                leaves.append((top, leaf))
    return sectors, leaves


def generate_library(size: int):
    from kb.search.documents import LibraryText, Taxonomy

    rng = random.Random(SEED)
    sectors, leaves = sector_tree(rng)
    departments = {f"D-{top}-{k}": f"{name[:4]}{'局委办中心站所院'[k % 8]}" for top, (name, _) in SECTORS.items() for k in range(4)}
    indicators = []
    for n in range(size):
        top, leaf = rng.choice(leaves)
        subjects = SECTORS[top][1]
        subject = rng.choice(subjects)
        measure, l1, l2, unit = rng.choice(MEASURES)
        name = f"{rng.choice(QUALIFIERS)}{subject}{rng.choice(ACTIONS)}{measure}"
        common = rng.random() < 0.2
        purpose = rng.choice(PURPOSES)
        definition = (f"{rng.choice(FILLERS)}，{sectors[leaf]}中{subject}{rng.choice(ACTIONS) or '工作'}的{measure}，"
                      f"用以反映和考核{subject}{purpose}情况，{rng.choice(FILLERS)}，{rng.choice(FILLERS)}，"
                      f"数据来源于{rng.choice(SOURCES)}。")
        status = "retired" if rng.random() < 0.03 else "candidate" if rng.random() < 0.05 else "standard"
        indicators.append(Indicator(
            code=f"GX-{n:06d}" if common else f"S{leaf[:5]}-{n:06d}",
            kind="common" if common else "specific",
            level1=l1, level2=l2, name=name, definition=definition,
            formula=f"{name}=实际{subject}{measure}/计划{subject}{measure}×100%" if unit == "%" else "",
            unit=unit, operator="≥" if unit == "%" else "≥", direction="up",
            sectors=[] if common else [leaf],
            departments=[] if common else [f"D-{top}-{rng.randrange(4)}"],
            project_types=[rng.choice(list(PROJECT_TYPES))] if rng.random() < 0.5 else [],
            keywords=[subject, measure], status=status,
            data_source=rng.choice(SOURCES),
        ))
    return LibraryText(indicators, Taxonomy(sectors, departments, dict(PROJECT_TYPES)), SYNONYMS)


def generate_queries(library, count: int) -> tuple[list[str], list[str], list[str]]:
    """(queries, warm-up queries, completion prefixes), deterministic."""
    from kb.search.completion import pinyin_keys
    from kb.text import T2S

    rng = random.Random(SEED + 1)
    s2t = {v: k for k, v in T2S.items()}
    names = [i.name for i in library.indicators]
    subjects = [s for _, (_, subs) in SECTORS.items() for s in subs]
    measures = [m[0] for m in MEASURES]

    def one() -> str:
        r = rng.random()
        subject, measure = rng.choice(subjects), rng.choice(measures)
        if r < 0.30:
            return subject
        if r < 0.50:
            return f"{subject[:2]} {measure}" if rng.random() < 0.5 else f"{subject}{measure[:2]}"
        if r < 0.58:
            return measure
        if r < 0.66:
            return rng.choice(["病人满意度", "经费到位", "病人满意", "门诊病人", "满意率", "资金到账率", "及时性"])
        if r < 0.72:
            return rng.choice(library.indicators).code
        if r < 0.77:
            return "".join(s2t.get(ch, ch) for ch in rng.choice(names))
        if r < 0.80:
            return rng.choice(names).replace("率", "率％")[:6] + "ＡＢ"
        if r < 0.86:
            name = rng.choice(names)
            i = rng.randrange(len(name))
            return name[:i] + rng.choice("为位未味") + name[i + 1:]  # a typo
        if r < 0.93:
            return " ".join(rng.sample(subjects, 2) + [measure])
        return rng.choice(['资金"到位', "(门诊) AND 满意", "name:门诊", "OR", "*", "满意度 NOT 门诊", "%", "≥95%"])

    queries = [one() for _ in range(count)]
    warm = [one() for _ in range(50)]
    prefixes = []
    for _ in range(count):
        name = rng.choice(names)
        r = rng.random()
        if r < 0.4:
            prefixes.append(name[: rng.randint(1, 4)])
        elif r < 0.7:
            full, _ = pinyin_keys(name)
            prefixes.append(full[: rng.randint(2, 8)])
        else:
            _, initials = pinyin_keys(name)
            prefixes.append(initials[: rng.randint(2, 5)])
    return queries, warm, prefixes


# --- measuring -------------------------------------------------------------------------------

def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))], 3)


def timed(fn, items, repeat: int = 1) -> tuple[list[float], list]:
    """Milliseconds per item (the median of `repeat` runs, which keeps a busy
    machine's scheduling noise out of the tail) and the first run's answers."""
    runs, out = [], []
    for r in range(repeat):
        times = []
        for item in items:
            t = time.perf_counter()
            answer = fn(item)
            times.append((time.perf_counter() - t) * 1000)
            if r == 0:
                out.append(answer)
        runs.append(times)
    return [statistics.median(ts) for ts in zip(*runs)], out


# --- children: one process per step, so RSS and start-up are a worker's ----------------------

def child_build(engine: str, size: int, work: Path) -> dict:
    from kb.search.documents import index_docs
    from kb.search.index import build_library_index
    from kb.text import analyzer

    library = generate_library(size)
    chars = sum(len(i.name) + len(i.definition) + len(i.formula) for i in library.indicators)
    if engine in ("whoosh", "tantivy"):
        t = time.perf_counter()
        info = build_library_index(work / "index", "bench", f"synthetic-{size}", library, engine=engine)
        build_s = time.perf_counter() - t
        an = analyzer(work)
        t = time.perf_counter()
        for _ in index_docs(library, an):
            pass
        tokenize_s = time.perf_counter() - t
        return {"build_s": round(build_s, 2), "tokenize_s": round(tokenize_s, 2), "index_mb": round(dir_mb(Path(info.path)), 1),
                "chars": chars, "tokenizer": an.backend}
    t = time.perf_counter()
    tokenize_s = sql_build(engine, library, work / f"{engine}.sqlite3")
    return {"build_s": round(time.perf_counter() - t, 2), "tokenize_s": round(tokenize_s, 2),
            "index_mb": round((work / f"{engine}.sqlite3").stat().st_size / 1e6, 1), "chars": chars}


def child_search(engine: str, work: Path, spawned_at: float) -> dict:
    data = json.loads((work / "queries.json").read_text(encoding="utf-8"))
    queries, warm, prefixes = data["queries"], data["warm"], data["prefixes"]
    if engine in ("whoosh", "tantivy"):
        from kb.search.engine import get_engine
        from kb.search.index import engine_root, read_pointer
        from kb.search.reader import OpenIndex
        from kb.text import analyzer

        root = engine_root(work / "index", engine)
        path = root / read_pointer(root, "bench")["dir"]
        opened = OpenIndex(path, get_engine(engine).open(path), analyzer(work))
        opened.use_cache = False
        opened.search(queries[0])
        first_answer_s = time.time() - spawned_at
        search = opened.search
        complete = opened.complete
        for q in warm:
            search(q)
        opened.complete("a")
        # first pass: tokens not seen yet (Whoosh reads their postings now)
        first, _ = timed(search, queries)
        times, results = timed(search, queries, REPEAT)
        modes = [r.mode for r in results]
        totals = [r.total for r in results]
        nofacet, _ = timed(lambda q: search(q, facets=False), queries, REPEAT)
        opened.use_cache = True
        for q in queries:
            search(q)
        cached, _ = timed(search, queries, REPEAT)
        ctimes, _ = timed(complete, prefixes, REPEAT)
        extra = {"search_first_pass_p95_ms": pct(first, 95), "search_nofacets_p95_ms": pct(nofacet, 95),
                 "search_cached_p95_ms": pct(cached, 95)}
    else:
        ref = SqlReference(engine, work / f"{engine}.sqlite3")
        ref.search(queries[0])
        first_answer_s = time.time() - spawned_at
        for q in warm:
            ref.search(q)
        first, _ = timed(ref.search, queries)
        times, results = timed(ref.search, queries, REPEAT)
        modes = [m for m, _ in results]
        totals = [t for _, t in results]
        ctimes, _ = timed(ref.complete, prefixes, REPEAT)
        extra = {"search_first_pass_p95_ms": pct(first, 95)}
    by_mode = {m: [t for t, mm in zip(times, modes) if mm == m] for m in ("all", "any")}
    return {
        "search_p50_ms": pct(times, 50), "search_p95_ms": pct(times, 95), "search_p99_ms": pct(times, 99),
        "search_all_p95_ms": pct(by_mode["all"], 95), "search_any_p95_ms": pct(by_mode["any"], 95),
        "answered_all": len(by_mode["all"]), "answered_any": len(by_mode["any"]),
        "zero_results": sum(1 for t in totals if t == 0),
        "complete_p50_ms": pct(ctimes, 50), "complete_p95_ms": pct(ctimes, 95),
        "rss_mb": round(rss_mb(), 1), "first_answer_s": round(first_answer_s, 2), **extra,
    }


# --- the references: SQLite FTS5 over the same tokens, and LIKE -----------------------------

def sql_build(engine: str, library, path: Path) -> float:
    """Returns the seconds spent tokenizing."""
    from kb.search.completion import build_keys
    from kb.search.documents import index_docs, name_entries, user_words
    from kb.text import analyzer

    an = analyzer(path.parent)
    an.add_words(user_words(library))
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE docs(id INTEGER PRIMARY KEY, code TEXT, name TEXT, definition TEXT, body TEXT, status TEXT, stored TEXT)")
    db.execute("CREATE TABLE keys(key TEXT, name TEXT)")
    tokenize_s = 0.0
    if engine == "fts5":
        db.execute("CREATE VIRTUAL TABLE fts USING fts5(name, body, status UNINDEXED, tokenize='unicode61 remove_diacritics 0')")
        db.execute("CREATE TABLE df(token TEXT PRIMARY KEY, n INTEGER)")
        df: dict[str, int] = {}
        t = time.perf_counter()
        docs = list(index_docs(library, an))
        tokenize_s = time.perf_counter() - t
        for d in docs:
            for tok in set(d.name_tokens) | set(d.text_tokens):
                df[tok] = df.get(tok, 0) + 1
        db.executemany("INSERT INTO fts(rowid, name, body, status) VALUES (?, ?, ?, ?)",
                       ((d.ord, " ".join(d.name_tokens), " ".join(d.text_tokens), d.status) for d in docs))
        db.executemany("INSERT INTO df VALUES (?, ?)", df.items())
        db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, '', ?, ?)",
                       ((d.ord, d.code, d.stored["name"], d.stored["definition"], d.status, json.dumps(d.stored, ensure_ascii=False))
                        for d in docs))
        entries = name_entries(library)
        db.executemany("INSERT INTO keys VALUES (?, ?)", ((k, entries[r // 4].name) for k, r in build_keys(entries, an)))
        db.execute("CREATE INDEX keys_key ON keys(key)")
    else:
        from kb.search.documents import stored_fields

        ordered = sorted(library.indicators, key=lambda r: r.code)
        db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)",
                       ((n, i.code, i.name, i.definition, f"{i.formula} {' '.join(i.keywords)}", i.status,
                         json.dumps(stored_fields(i), ensure_ascii=False)) for n, i in enumerate(ordered)))
        entries = name_entries(library)
        db.executemany("INSERT INTO keys VALUES (?, ?)", ((k, entries[r // 4].name) for k, r in build_keys(entries, an)))
    db.commit()
    db.close()
    return tokenize_s


class SqlReference:
    """The same query plans (kb.search.query) run as SQL."""

    def __init__(self, engine: str, path: Path):
        from kb.search.query import Synonyms
        from kb.text import analyzer

        self.engine = engine
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.analyzer = analyzer(path.parent)
        self.synonyms = Synonyms.from_data(SYNONYMS)
        self.count = self.db.execute("SELECT count(*) FROM docs").fetchone()[0]
        self._df: dict[str, int] = {}

    def doc_freq(self, token: str) -> int:
        if token not in self._df:
            if self.engine == "fts5":
                row = self.db.execute("SELECT n FROM df WHERE token = ?", (token,)).fetchone()
                self._df[token] = row[0] if row else 0
            else:
                self._df[token] = 1  # LIKE knows no vocabulary: every word may match
        return self._df[token]

    def search(self, raw: str) -> tuple[str, int]:
        from kb.search.query import clean_query, plan

        q = clean_query(raw)
        planned = plan(q, self.analyzer, self.synonyms, self.doc_freq, self.count)
        for mode, p in (("all", planned.all_words), ("any", planned.any_word)):
            if p is None:
                continue
            total = self._run(p)
            if total:
                return mode, total
        return "none", 0

    def _run(self, p) -> int:
        if self.engine == "fts5":
            expr = _fts_expr(p)
            rows = self.db.execute(
                "SELECT rowid FROM fts WHERE fts MATCH ? AND status != 'retired' ORDER BY bm25(fts, 4.0, 1.0) LIMIT 20",
                (expr,)).fetchall()
            total = self.db.execute("SELECT count(*) FROM fts WHERE fts MATCH ? AND status != 'retired'", (expr,)).fetchone()[0]
        else:
            where, args = _like_expr(p)
            rows = self.db.execute(f"SELECT id FROM docs WHERE status != 'retired' AND ({where}) LIMIT 20", args).fetchall()
            total = self.db.execute(f"SELECT count(*) FROM docs WHERE status != 'retired' AND ({where})", args).fetchone()[0]
        ids = [r[0] for r in rows]
        if ids:
            self.db.execute(f"SELECT stored FROM docs WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall()
        return total

    def complete(self, prefix: str) -> list:
        from kb.search.completion import key_text

        prefix = key_text(prefix)
        if self.engine == "fts5":
            return self.db.execute("SELECT DISTINCT name FROM keys WHERE key >= ? AND key < ? LIMIT 10",
                                   (prefix, prefix + "\U0010ffff")).fetchall()
        return self.db.execute("SELECT DISTINCT name FROM keys WHERE key LIKE ? LIMIT 10", (prefix + "%",)).fetchall()


def _q(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _fts_expr(p) -> str:
    if p.mode == "any":
        return " OR ".join(_q(t) for t in p.tokens)
    groups = []
    for g in p.groups:
        alts = ["(" + " AND ".join("(" + " OR ".join(_q(t) for t in slot) + ")" for slot in alt.slots) + ")" for alt in g.alts]
        groups.append("(" + " OR ".join(alts) + ")")
    return " AND ".join(groups)


def _like_expr(p) -> tuple[str, list]:
    def tok(t):
        return "(name LIKE ? OR definition LIKE ? OR body LIKE ?)", [f"%{t}%"] * 3

    if p.mode == "any":
        parts = [tok(t) for t in p.tokens]
        return " OR ".join(s for s, _ in parts), [a for _, args in parts for a in args]
    clauses, args = [], []
    for g in p.groups:
        alts = []
        for alt in g.alts:
            slots = []
            for slot in alt.slots:
                ors = [tok(t) for t in slot]
                slots.append("(" + " OR ".join(s for s, _ in ors) + ")")
                args += [a for _, a2 in ors for a in a2]
            alts.append("(" + " AND ".join(slots) + ")")
        clauses.append("(" + " OR ".join(alts) + ")")
    return " AND ".join(clauses), args


# --- driver ------------------------------------------------------------------------------------

def run_child(args: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--engines", default="whoosh,tantivy,fts5,like")
    parser.add_argument("--large-engines", default=None,
                        help="engines for sizes above 20000 (default: --engines); a LIKE scan of 100k takes long")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--child", nargs=4, metavar=("STEP", "ENGINE", "SIZE", "WORK"), help=argparse.SUPPRESS)
    parser.add_argument("--spawned-at", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        step, engine, size, work = args.child
        out = child_build(engine, int(size), Path(work)) if step == "build" else child_search(engine, Path(work), args.spawned_at)
        print(json.dumps(out))
        return 0

    rows = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        work_root = Path(tempfile.mkdtemp(prefix=f"zhibiao-bench-{size}-"))
        try:
            library = generate_library(size)
            queries, warm, prefixes = generate_queries(library, args.queries)
            del library
            (work_root / "queries.json").write_text(json.dumps({"queries": queries, "warm": warm, "prefixes": prefixes},
                                                               ensure_ascii=False), encoding="utf-8")
            engines = args.large_engines if size > 20000 and args.large_engines else args.engines
            for engine in [e for e in engines.split(",") if e]:
                work = work_root / engine
                work.mkdir()
                shutil.copy(work_root / "queries.json", work / "queries.json")
                built = run_child(["--child", "build", engine, str(size), str(work)])
                searched = run_child(["--child", "search", engine, str(size), str(work), "--spawned-at", str(time.time())])
                row = {"engine": engine, "size": size, **built, **searched}
                rows.append(row)
                row["load_average"] = round(os.getloadavg()[0], 2)
                print(f"{engine:8} {size:>7}: build {row['build_s']:>7.2f}s (tokenize {row['tokenize_s']:.2f}s), "
                      f"index {row['index_mb']:.1f} MB, search p50/p95/p99 {row['search_p50_ms']}/{row['search_p95_ms']}/"
                      f"{row['search_p99_ms']} ms (all {row['search_all_p95_ms']}, any {row['search_any_p95_ms']}), "
                      f"complete p95 {row['complete_p95_ms']} ms, RSS {row['rss_mb']} MB, first answer {row['first_answer_s']} s, "
                      f"load {row['load_average']}",
                      flush=True)
        finally:
            shutil.rmtree(work_root, ignore_errors=True)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    doc = {"generated_at": time.strftime("%Y-%m-%d %H:%M:%S"),
           "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_average": os.getloadavg()},
           "queries": args.queries, "results": rows}
    output.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    summary = [{k: r[k] for k in ("engine", "size", "search_p95_ms", "complete_p95_ms", "build_s", "rss_mb")} for r in rows]
    print(json.dumps({"results": summary}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

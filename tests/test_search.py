"""kb.search on every engine (Whoosh, tantivy) and every database backend.

The library is tests/fixtures/search_library: real indicator names from
indicators/hospital and indicators/common.
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from kb import db as kbdb
from kb.library import draft as kblib
from kb.library import versions
from kb.models import QueryLog
from kb.search import (
    SearchFilters,
    build_index,
    complete,
    ensure_index,
    flush_query_log,
    forget_open_indexes,
    publish_hook,
    search,
    zero_result_report,
)
from kb.search.query import highlight
from tests.conftest import BACKENDS, search_library

ROOT = Path(__file__).resolve().parent.parent
SEARCH_LIBRARY = Path(__file__).parent / "fixtures" / "search_library"


def _engines() -> list[str]:
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return ["whoosh"]
    return ["whoosh", "tantivy"]


@pytest.fixture(params=_engines())
def engine_name(request):
    return request.param


@dataclass
class Env:
    session: object
    index_dir: Path
    engine: str

    def search(self, query: str, **kw):
        return search(self.session, self.index_dir, query, engine=self.engine, **kw)

    def codes(self, query: str, **kw) -> list[str]:
        return [h.code for h in self.search(query, **kw).hits]

    def complete(self, prefix: str, **kw) -> list[str]:
        return [c.text for c in complete(self.session, self.index_dir, prefix, engine=self.engine, **kw)]

    def publish(self, label: str):
        return versions.publish(self.session, label, after_snapshot=publish_hook(self.index_dir, self.engine))


@pytest.fixture(scope="session")
def built_indexes(tmp_path_factory):
    """Where each engine's index of the search library's 2024.1 is built once, to be copied per test
    (the index is keyed by the version's content hash, which every copy of the template shares)."""
    return tmp_path_factory.mktemp("search-indexes")


@pytest.fixture(scope="module", params=[(e, b) for e in _engines() for b in BACKENDS], ids="-".join)
def read_env(request, templates, built_indexes, tmp_path_factory):
    """One library and index per engine and backend for the module's tests that only search: a copy
    each would cost more than the searches (searches do log queries, which these tests never read)."""
    engine_name, backend = request.param
    where = tmp_path_factory.mktemp("search-read")
    url = templates.copy(backend, search_library, where)
    engine = kbdb.make_engine(url)
    try:
        with kbdb.session(engine) as s:
            yield Env(s, _copy_built(s, built_indexes, engine_name, where / "index"), engine_name)
    finally:
        engine.dispose()
        templates.drop(url)


def _copy_built(session, built_indexes: Path, engine_name: str, index_dir: Path) -> Path:
    built = built_indexes / engine_name
    if not built.exists():
        ensure_index(session, built, engine=engine_name)
    shutil.copytree(built, index_dir)
    return index_dir


@pytest.fixture
def env(search_db, tmp_path, engine_name, built_indexes):
    return Env(search_db, _copy_built(search_db, built_indexes, engine_name, tmp_path / "index"), engine_name)


NEW_INDICATOR = {
    "code": "GX-YL-901", "kind": "common", "level1": "产出指标", "level2": "数量指标", "name": "远程会诊覆盖率",
    "unit": "%", "operator": "≥", "direction": "up", "definition": "开展远程会诊的医疗机构占比。",
    "source": {"document": "本库整理"}, "provenance": "local",
}


# --- relevance (the examples) -----------------------------------------------------

def test_sick_person_satisfied_finds_outpatient_and_inpatient_satisfaction_in_top_five(read_env):
    top = read_env.codes("病人满意", per_page=5)
    assert "YY3-053" in top and "YY3-054" in top  # 门诊患者满意度, 住院患者满意度


def test_grade_four_surgery_finds_its_ratio_first(read_env):
    result = read_env.search("四级手术")
    assert result.hits[0].code == "YY3-006"  # 出院患者四级手术比例
    assert "<mark>" in result.hits[0].highlight


def test_funds_in_place_finds_the_funds_in_place_rate_first(read_env):
    assert read_env.codes("资金到位")[0] == "GX-XM-007"
    assert read_env.codes("资金到位率")[0] == "GX-XM-007"


def test_synonym_from_the_versioned_list_finds_the_other_word(read_env):
    assert read_env.codes("经费到位")[0] == "GX-XM-007"  # 经费 ↔ 资金
    assert "YY3-053" in read_env.codes("门诊病人")


def test_a_code_finds_its_indicator_first(read_env):
    for query in ("YY3-017", "yy3-017", "ＹＹ３－０１７", " YY3-017 "):
        result = read_env.search(query)
        assert result.hits[0].code == "YY3-017", query
        assert result.mode == "code"


def test_traditional_characters_find_simplified_indicators(read_env):
    codes = read_env.codes("門診")
    assert codes and {"YY3-053", "YY3-018", "YY3-021"} <= set(codes)
    assert read_env.codes("門診患者滿意度")[0] == "YY3-053"


def test_full_width_and_case_do_not_matter(read_env):
    assert read_env.codes("ＤＤＤｓ")[0] == "YY3-017"
    assert read_env.codes("ddds")[0] == "YY3-017"


def test_related_terms_are_suggested_not_merged(read_env):
    result = read_env.search("门诊")
    assert "门急诊" in result.related


# --- completion --------------------------------------------------------------------------

def test_pinyin_initials_complete_indicator_names(read_env):
    assert read_env.complete("kjyw")[0] == "抗菌药物使用强度（DDDs）"
    mzhz = read_env.complete("mzhz")
    assert mzhz and all(name.startswith("门诊患者") for name in mzhz)
    assert "门诊患者满意度" in mzhz


def test_full_pinyin_and_characters_complete_names(read_env):
    menzhen = read_env.complete("menzhen")
    assert menzhen and all(name.startswith("门诊") for name in menzhen)
    assert read_env.complete("资金")[0] == "资金到位率"
    assert "门诊患者满意度" in read_env.complete("满意", limit=20)  # from a word inside the name
    assert read_env.complete("") == [] and read_env.complete("？？") == []


def test_retired_indicators_are_not_completed(read_env):
    assert "门诊处方合格率" not in read_env.complete("门诊", limit=50)


# --- hostile input ------------------------------------------------------------------------

HOSTILE = [
    "", " ", "\t\n", '"', "'", '"""', "(", ")", "((门诊", "门诊))", "[", "]", "{", "}", "*", "?", "~", "^", "\\",
    "AND", "OR", "NOT", "门诊 AND", "OR 满意度", "NOT NOT", "name:门诊", "code:YY3-017", "field:value:", ":",
    "门诊^2", "满意度~", "资金*", "a" * 500, "门" * 300, "%", "%%%", "_", "≥", ">=", "<=", "<script>alert(1)</script>",
    "'; DROP TABLE indicator; --", "\x00", "\x1f\x7f", "😀", "门诊😀患者", "１２３", "YY3-", "-", "--", "+", "&&", "||",
    "/", "//", "\u200b", "\ufeff门诊", "A" * 41,
]


def test_hostile_queries_never_raise(read_env):
    assert len(HOSTILE) >= 30
    for query in HOSTILE:
        result = read_env.search(query)
        assert result.total >= 0
        for hit in result.hits:
            assert "<script>" not in hit.highlight and "<script>" not in hit.snippet


def test_hostile_prefixes_never_raise(read_env):
    for prefix in HOSTILE:
        read_env.complete(prefix)


def test_highlight_escapes_html_and_marks_matches():
    assert highlight("<b>门诊</b>&患者", ["门诊", "患者"]) == "&lt;b&gt;<mark>门诊</mark>&lt;/b&gt;&amp;<mark>患者</mark>"
    assert highlight("资金到位率", ["资金到位", "资金"]) == "<mark>资金到位</mark>率"
    assert highlight("抗菌药物使用强度（DDDs）", ["ddds"]) == "抗菌药物使用强度（<mark>DDDs</mark>）"


# --- filters, facets, pages ----------------------------------------------------------------

def test_sector_filter_includes_descendants(read_env):
    in_21002 = set(read_env.codes("", filters=SearchFilters(sector="21002"), per_page=100))
    assert "YY3-006" in in_21002  # its sector is 2100201, a child of 21002
    assert "YY3-053" in in_21002 and not any(c.startswith("GX-") for c in in_21002)
    assert set(read_env.codes("", filters=SearchFilters(sector="2100201"), per_page=100)) == {"YY3-006"}
    assert set(read_env.codes("手术", filters=SearchFilters(sector="210"))) >= {"YY3-006", "YY3-004"}
    assert read_env.codes("手术", filters=SearchFilters(sector="205")) == []


def test_department_project_type_level_kind_filters(read_env):
    assert read_env.codes("", filters=SearchFilters(department="D-EDU")) == ["S20502-001"]
    assert set(read_env.codes("", filters=SearchFilters(project_type="PT-PX"))) == {"GX-PX-001", "GX-PX-005"}
    assert set(read_env.codes("满意度", filters=SearchFilters(level1="满意度评价"))) == {"YY3-053", "YY3-054", "YY3-055"}
    assert set(read_env.codes("", filters=SearchFilters(level2="资金管理"))) == {"GX-XM-007", "GX-XM-008", "GX-XM-009"}
    common = read_env.codes("满意度", filters=SearchFilters(kind="common"))
    assert common == ["GX-PX-005"]


def test_retired_indicators_are_left_out_unless_asked_for(read_env):
    assert "YY2-099" not in read_env.codes("处方合格率", per_page=100)
    assert "YY2-099" not in read_env.codes("", per_page=100)
    assert read_env.codes("处方合格率", filters=SearchFilters(status="retired")) == ["YY2-099"]
    assert read_env.search("YY2-099").mode != "code"


def test_facets_count_every_match(read_env):
    result = read_env.search("门诊")
    kinds = {f.value: f.count for f in result.facets["kind"]}
    assert sum(kinds.values()) == result.total
    sectors = {f.value: (f.label, f.count) for f in result.facets["sector"]}
    assert sectors["21002"] == ("公立医院", result.total)
    level1 = {f.value: f.count for f in result.facets["level1"]}
    assert level1["满意度评价"] == 1 and sum(level1.values()) == result.total
    assert [f.label for f in result.facets["kind"]] == ["个性指标"]
    browse = read_env.search("")
    assert {f.value: f.count for f in browse.facets["project_type"]} == {"PT-PX": 2}
    assert {f.value: f.count for f in browse.facets["department"]} == {"D-HOSP-GEN": 12, "D-EDU": 1}


def test_pages_do_not_overlap_and_add_up(read_env):
    first = read_env.search("", per_page=5)
    seen = []
    for page in range(1, 5):
        result = read_env.search("", per_page=5, page=page)
        assert result.total == first.total
        seen += [h.code for h in result.hits]
    assert len(seen) == len(set(seen)) == first.total == 18
    assert read_env.search("", per_page=5, page=99).hits == []


def test_hits_carry_what_a_list_shows(read_env):
    hit = read_env.search("资金到位率").hits[0]
    assert (hit.code, hit.name, hit.level1, hit.level2, hit.kind) == ("GX-XM-007", "资金到位率", "过程", "资金管理", "common")
    assert hit.unit == "%" and hit.operator == "=" and hit.direction == "up"
    assert hit.definition.startswith("实际到位资金") and hit.score > 0
    assert "<mark>" in hit.snippet
    specific = read_env.search("四级手术").hits[0]
    assert specific.sectors == ["2100201"] and specific.sector == "2100201"


# --- zero results, query log -------------------------------------------------------------

def test_zero_results_offer_names_that_sound_alike(read_env):
    result = read_env.search("zijin daowei")
    assert result.total == 0 and "资金到位率" in result.did_you_mean
    assert "资金到位率" in read_env.search("资金到为率").did_you_mean


def test_query_log_and_zero_result_report(env):
    for query, n in (("zijin daowei", 3), ("不存在的词语组合", 2), ("门诊", 1)):
        for _ in range(n):
            env.search(query, source="test", filters=SearchFilters(kind="specific") if query == "门诊" else None)
    env.search("门诊", log=False)
    flush_query_log(env.session)
    rows = env.session.execute(select(QueryLog).where(QueryLog.source == "test")).scalars().all()
    assert len(rows) == 6
    menzhen = [r for r in rows if r.query == "门诊"][0]
    assert menzhen.total > 0 and menzhen.version == "2024.1" and menzhen.filters == {"kind": "specific"}
    assert menzhen.duration_ms >= 0
    report = zero_result_report(env.session)
    assert [(r.query, r.count) for r in report[:2]] == [("zijin daowei", 3), ("不存在的词语组合", 2)]


def _logged(env, source: str) -> list[QueryLog]:
    env.session.rollback()  # a fresh read: the rows were written on another connection
    return env.session.execute(select(QueryLog).where(QueryLog.source == source)).scalars().all()


def test_the_query_log_is_written_by_its_own_thread(env):
    """A few searches and then silence: their rows are written within FLUSH_SECONDS, with no flush called."""
    from kb.search import querylog

    for query in ("门诊", "培训", "资金到位率"):
        env.search(query, source="thread")
    deadline = time.monotonic() + querylog.FLUSH_SECONDS + 8
    while len(_logged(env, "thread")) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(r.query for r in _logged(env, "thread")) == ["培训", "资金到位率", "门诊"]


def test_a_search_never_waits_for_the_query_log(env, database_url, monkeypatch):
    """The database's write lock held elsewhere (SQLite holds it for a whole publish): searches answer at once,
    never writing the log themselves, and their rows are written once the lock is gone, none lost."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock that blocked searches is SQLite's")
    import sqlite3

    from kb.search import querylog

    writers = []
    insert = querylog._insert
    monkeypatch.setattr(querylog, "_insert", lambda *a: (writers.append(threading.current_thread()), insert(*a))[1])

    from sqlalchemy.engine import make_url

    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    env.search("门诊")  # the index opened, the session's connection made (a new one cannot set WAL under the lock)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, readers still welcome (WAL)
    try:
        started = time.monotonic()
        for i in range(3 * querylog.FLUSH_ROWS):
            env.search(f"满意度 {i}", source="locked")
        took = time.monotonic() - started
        time.sleep(0.3)  # the writer thread tries meanwhile, and keeps the rows
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert took < 3 * querylog.FLUSH_ROWS * 0.05, f"searches waited for the log: {took:.2f} s"
    assert writers and threading.current_thread() not in writers  # the writer thread tried, the searches did not
    flush_query_log(env.session)
    assert len(_logged(env, "locked")) == 3 * querylog.FLUSH_ROWS


def test_a_query_log_row_that_cannot_be_written_is_dropped_alone(env):
    from kb.search import querylog

    querylog.record(env.session, "门诊", "门诊", {}, "2024.1", 3, 1.0, source="bad-row")
    querylog.record(env.session, "门诊", "门诊", {}, "2024.1", "许多", 1.0, source="bad-row")  # not a count
    querylog.record(env.session, "培训", "培训", {"kind": "common"}, "2024.1", 2, 1.5, source="bad-row")
    flush_query_log(env.session)
    rows = _logged(env, "bad-row")
    assert sorted(r.total for r in rows) == [2, 3]


# --- versions, drafts, rebuilding ----------------------------------------------------------

def test_search_is_pinned_to_a_version_and_the_draft(env):
    kblib.create_record(env.session, "indicator", NEW_INDICATOR)
    assert env.codes("远程会诊") == []  # not yet published
    assert env.codes("远程会诊", version="draft") == ["GX-YL-901"]
    env.publish("2024.2")
    assert env.codes("远程会诊") == ["GX-YL-901"]
    assert env.search("远程会诊").version == "2024.2"
    assert env.codes("远程会诊", version="2024.1") == []


def test_draft_index_follows_draft_edits(env):
    assert env.codes("远程会诊", version="draft") == []
    kblib.create_record(env.session, "indicator", NEW_INDICATOR)
    assert env.codes("远程会诊", version="draft") == ["GX-YL-901"]
    current = kblib.draft_record(env.session, "indicator", "GX-YL-901")
    kblib.update_record(env.session, "indicator", "GX-YL-901", {"name": "远程心电诊断覆盖率"}, current.revision)
    assert env.codes("心电", version="draft") == ["GX-YL-901"]


def test_unknown_version_is_a_user_error(read_env):
    from kb.errors import UnknownVersion

    with pytest.raises(UnknownVersion):
        read_env.search("门诊", version="1999.1")


def test_missing_or_broken_index_is_rebuilt_by_itself(env):
    shutil.rmtree(env.index_dir)
    forget_open_indexes()
    assert env.codes("四级手术")[0] == "YY3-006"
    pointer = env.index_dir / env.engine / "2024.1.json"
    pointer.write_text("not json", encoding="utf-8")
    forget_open_indexes()
    assert env.codes("四级手术")[0] == "YY3-006"


def test_failed_index_build_publishes_nothing(env, monkeypatch):
    from kb.search import index as kbindex

    class Broken:
        name = env.engine

        def build(self, *args, **kwargs):
            raise RuntimeError("disk full")

    monkeypatch.setattr(kbindex, "get_engine", lambda name=None: Broken())
    kblib.create_record(env.session, "indicator", NEW_INDICATOR)
    with pytest.raises(RuntimeError):
        env.publish("2024.2")
    assert [v.label for v in versions.list_versions(env.session)] == ["2024.1"]
    assert versions.resolve(env.session).label == "2024.1"
    assert not list((env.index_dir / env.engine).glob("2024.2*"))


def test_one_writer_builds_a_missing_index(env):
    shutil.rmtree(env.index_dir)
    forget_open_indexes()
    url = env.session.get_bind().url
    results, errors = [], []

    def worker():
        eng = kbdb.make_engine(url.render_as_string(hide_password=False))
        try:
            with kbdb.session(eng) as s:
                results.append(ensure_index(s, env.index_dir, None, engine=env.engine))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(1 for r in results if r.built) == 1
    assert len({r.path for r in results}) == 1


def test_building_an_index_leaves_the_process_random_state_alone(env):
    # A publish builds its index in a job thread while the process's other threads run on: whoosh named its
    # files with the shared `random` generator, moving everyone else's state underneath them (hypothesis, in
    # the schemathesis test, warned that a strategy used `random` whenever a publish job ran during a draw).
    state = random.getstate()
    build_index(env.session, env.index_dir, versions.resolve(env.session), engine=env.engine)
    assert random.getstate() == state


def test_forced_rebuild_switches_atomically(env):
    before = ensure_index(env.session, env.index_dir, None, engine=env.engine)
    after = build_index(env.session, env.index_dir, versions.resolve(env.session), engine=env.engine)
    assert after.built and after.path != before.path and after.key == before.key
    pointer = json.loads((env.index_dir / env.engine / "2024.1.json").read_text(encoding="utf-8"))
    assert pointer["dir"] == Path(after.path).name
    assert env.codes("四级手术")[0] == "YY3-006"


def test_reader_in_a_loop_sees_old_or_new_version_while_the_index_is_rebuilt(env, engine):
    seen, errors = [], []
    stop = threading.Event()
    started = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                with kbdb.session(engine) as s:
                    result = search(s, env.index_dir, "门诊", engine=env.engine)
                seen.append((result.version, result.total))
                started.set()
            except Exception as exc:
                errors.append(repr(exc))
                started.set()
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        assert started.wait(60)
        kblib.create_record(env.session, "indicator", NEW_INDICATOR)
        env.publish("2024.2")
        build_index(env.session, env.index_dir, versions.resolve(env.session, "2024.2"), engine=env.engine)
        build_index(env.session, env.index_dir, versions.resolve(env.session, "2024.2"), engine=env.engine)
        build_index(env.session, env.index_dir, versions.resolve(env.session, "2024.1"), engine=env.engine)
        deadline = time.monotonic() + 30
        while not any(v == "2024.2" for v, _ in seen) and time.monotonic() < deadline and not errors:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(60)
    assert errors == []
    assert seen and all(total > 0 for _, total in seen)
    assert {v for v, _ in seen} <= {"2024.1", "2024.2"}
    assert seen[-1][0] == "2024.2"


READER_SCRIPT = """
import json, sys, time
from kb import db as kbdb
from kb.search import search
url, index_dir, engine = sys.argv[1:4]
eng = kbdb.make_engine(url)
deadline = time.monotonic() + 90
announced = False
while time.monotonic() < deadline:
    with kbdb.session(eng) as s:
        result = search(s, index_dir, "远程会诊", engine=engine, log=False)
    if not announced:
        print(json.dumps({"ready": result.version}), flush=True)
        announced = True
    if result.version == "2024.2":
        print(json.dumps({"version": result.version, "codes": [h.code for h in result.hits]}), flush=True)
        sys.exit(0)
    time.sleep(0.05)
sys.exit(3)
"""


def test_another_process_answers_from_a_new_version_without_restarting(env):
    url = env.session.get_bind().url.render_as_string(hide_password=False)
    proc = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, url, str(env.index_dir), env.engine],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        ready = json.loads(proc.stdout.readline() or "{}")
        assert ready == {"ready": "2024.1"}, proc.stderr.read() if proc.poll() is not None else ready
        kblib.create_record(env.session, "indicator", NEW_INDICATOR)
        env.publish("2024.2")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"version": "2024.2", "codes": ["GX-YL-901"]}


# --- command line --------------------------------------------------------------------------

@pytest.fixture
def run(cli, monkeypatch, engine_name):
    monkeypatch.setenv("ZHIBIAO_SEARCH_ENGINE", engine_name)
    return cli


def test_cli_search_json_and_reindex(run, tmp_path, engine_name):
    code, out, err = run("init", "--from", str(SEARCH_LIBRARY), "--label", "2024.1")
    assert code == 0, err
    assert (tmp_path / "inst" / "index" / engine_name / "2024.1.json").exists()  # init built the index
    code, out, err = run("search", "病人满意", "--json", "--limit", "5")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["version"] == "2024.1" and doc["total"] >= 2
    keys = {"code", "name", "level1", "level2", "kind", "sector", "unit", "direction", "definition", "score", "highlight"}
    assert keys <= set(doc["results"][0])
    assert {"YY3-053", "YY3-054"} <= {r["code"] for r in doc["results"]}
    code, out, err = run("search", "手术", "--sector", "2100201", "--kind", "specific", "--json")
    assert [r["code"] for r in json.loads(out)["results"]] == ["YY3-006"]
    code, out, err = run("search", "资金到位")
    assert code == 0 and out.splitlines()[0].startswith("GX-XM-007") and "共" in out
    code, out, err = run("reindex")
    assert code == 0 and "2024.1" in out, err
    code, out, err = run("publish", "2024.2")
    assert code == 0, err
    assert (tmp_path / "inst" / "index" / engine_name / "2024.2.json").exists()
    code, out, err = run("search", "x", "--version", "1999.1")
    assert code != 0 and "未找到版本" in err and "Traceback" not in err


def test_whoosh_index_reads_back_as_whoosh_own_writer_would_write_it(search_db, tmp_path):
    """The Whoosh engine writes its segment itself, for speed (kb.search.whoosh_engine._Postings);
    read back, the index must be the one Whoosh's add_document and commit write: every term,
    posting (document, weight, value), term statistic, field length and stored field."""
    from whoosh import index as whoosh_index

    from kb.search import whoosh_engine
    from kb.search.documents import index_docs, read_library, user_words
    from kb.text import analyzer

    library = read_library(search_db, versions.resolve(search_db))
    an = analyzer(tmp_path)
    an.add_words(user_words(library))
    docs = list(index_docs(library, an))
    # a word twice in a body, names shared by two documents: counts and remembered values
    docs.append(dataclasses.replace(docs[0], ord=len(docs), code="ZZ-001", stored={**docs[0].stored, "code": "ZZ-001"},
                                    text_tokens=docs[0].text_tokens * 2))
    # enough documents for terms of several posting blocks (128 each), compressed and not; an empty ID value,
    # a word repeated in a name (positions), a word 70 times in a body (a count past the packed-count table)
    for i in range(300):
        base = docs[i % len(docs)]
        code = f"ZZ-{i + 2:03d}"
        docs.append(dataclasses.replace(
            base, ord=len(docs), code=code, stored={**base.stored, "code": code}, level2="" if i % 7 == 0 else base.level2,
            name_tokens=base.name_tokens + base.name_tokens[:1] if i % 5 == 0 else base.name_tokens,
            text_tokens=base.text_tokens + ["满意度"] * (70 if i == 3 else i % 3)))
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    whoosh_engine.WhooshEngine().build(ours, docs)
    writer = whoosh_index.create_in(str(theirs), whoosh_engine._schema()).writer(limitmb=1, procs=1)
    for doc in docs:
        writer.add_document(**whoosh_engine.field_values(doc))
    writer.commit(optimize=True)

    a, b = whoosh_index.open_dir(str(ours)).reader(), whoosh_index.open_dir(str(theirs)).reader()
    assert a.doc_count_all() == b.doc_count_all() == len(docs)
    terms = list(b.all_terms())
    assert list(a.all_terms()) == terms
    def postings(reader, field, term):
        m, out = reader.postings(field, term), []
        while m.is_active():
            out.append((m.id(), m.weight(), m.value()))
            m.next()
        return out

    def stats(info):
        return (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(), info.max_weight(),
                info.min_id(), info.max_id())

    for field, term in terms:
        assert postings(a, field, term) == postings(b, field, term), (field, term)
        assert stats(a.term_info(field, term)) == stats(b.term_info(field, term)), (field, term)
    twice = [p for t in {t for f, t in terms if f == "body"} for p in postings(a, "body", t) if p[0] == len(docs) - 301]
    assert twice and all(weight >= 2 for _, weight, _ in twice)
    assert max(a.doc_frequency(f, t) for f, t in terms) > 2 * 128 and ("level2", b"") in terms
    for field in ("name", "body"):
        assert a.field_length(field) == b.field_length(field)
        assert [a.doc_field_length(d, field) for d in range(len(docs))] == [b.doc_field_length(d, field) for d in range(len(docs))]
    assert [a.stored_fields(d) for d in range(len(docs))] == [b.stored_fields(d) for d in range(len(docs))]


def test_whoosh_build_leaves_no_reference_cycle_holding_its_caller(tmp_path):
    """Whoosh's FileStorage.create keeps the error of a folder that exists in a local, a reference cycle through
    every frame above it; a writer made its temporary folder twice, so a publish's frame, with the whole draft,
    stayed alive until the garbage collector found it. What the caller holds must go by reference counting."""
    import gc
    import weakref

    from kb.search.model import IndexDoc
    from kb.search.whoosh_engine import WhooshEngine

    class Held:
        pass

    def build() -> weakref.ref:
        held = Held()
        doc = IndexDoc(0, "GX-1", ["资金"], ["到位率"], {"code": "GX-1"}, [], [], [], [], "产出指标", "数量指标",
                       "common", "standard")
        assert WhooshEngine().build(tmp_path / "ix", [doc]) == 1
        return weakref.ref(held)

    (tmp_path / "ix").mkdir()
    gc.disable()
    try:
        assert build()() is None
    finally:
        gc.enable()


def test_index_docs_cut_part_by_part_as_the_whole_body_at_once(search_db, tmp_path):
    """index_docs cuts each distinct part of a body once per build (kb.text.CachedTokens) instead of the
    body joined by new lines: the tokens must be the same, parts that normalisation or the run pattern could
    join across a line included (full-width text, ">" then "=", Latin runs, Greek final sigma, a traditional
    character, stop words), and a name's tokens those of the name alone."""
    from kb.schemas import KIND_LABELS
    from kb.search.documents import index_docs, read_library, user_words
    from kb.text import analyzer, normalize

    library = read_library(search_db, versions.resolve(search_db))
    first = library.indicators[0]
    library.indicators.append(first.model_copy(update={
        "code": "ZZ-9", "name": "门诊患者满意度的提高率", "definition": "ＡＢＣ资金到位率（％）>", "formula": "=100%ΣΑΣ",
        "level1": "Σ", "level2": "yy3-054 2.5", "keywords": ["資金", "的"], "data_source": "\u3000医院 统计", "scoring_rule": "<",
        "source": {"document": "=>ΟΔΟΣ", "doc_number": "财预〔2020〕10号"}}))
    an = analyzer(tmp_path)
    an.add_words(user_words(library))
    tax = library.taxonomy
    docs = list(index_docs(library, an))
    assert len(docs) == len(library.indicators) > 10
    for doc, ind in zip(docs, sorted(library.indicators, key=lambda r: r.code)):
        parts = [ind.definition, ind.formula, ind.level1, ind.level2, ind.target_level1, ind.target_level2,
                 " ".join(ind.keywords or []), ind.data_source, ind.scoring_rule, KIND_LABELS.get(ind.kind, ""),
                 " ".join(tax.sectors.get(c, "") for c in ind.sectors or []),
                 " ".join(tax.departments.get(c, "") for c in ind.departments or []),
                 " ".join(tax.project_types.get(c, "") for c in ind.project_types or []),
                 (ind.source or {}).get("document", ""), (ind.source or {}).get("doc_number", "")]
        assert doc.text_tokens == an.tokens("\n".join(p for p in parts if p)) + [normalize(ind.code)], ind.code
        assert doc.name_tokens == an.tokens(ind.name), ind.code
    assert {"abc", "资金到位率", "100", "yy3-054", "资金", "2020"} <= set(docs[-1].text_tokens)


def test_completion_pinyin_is_pypinyin_lazy_pinyin(search_db):
    """kb.search.completion converts each word once and remembers it; what it answers for any run of
    characters (names and the inner parts the completion table keys) must be pypinyin's own answer."""
    from pypinyin import lazy_pinyin

    from kb.search import completion

    runs = {"重庆", "重点", "银行", "行业", "长度", "增长率", "门诊患者满意度"}
    for record in kblib.draft_records(search_db, "indicator"):
        for run, _ in completion._HAN_RUN.findall(completion.key_text(record.name)):
            runs.update(run[i:] for i in range(len(run)) if run)
    assert len(runs) > 100
    assert {run: completion.lazy_pinyin(run) for run in runs} == {run: lazy_pinyin(run) for run in runs}

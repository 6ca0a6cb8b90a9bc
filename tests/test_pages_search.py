"""The search page and its twins through the Flask client: highlights, facets,
pages, browsing, help when nothing is found, and every bad parameter a 400 in Chinese."""
import pytest
import re

from markupsafe import Markup

from tests.page_helpers import targets_app, targets_client, text_of  # noqa: F401
from web.public.search import safe_fragment


@pytest.fixture(scope="module")
def targets_client(shared_targets_app):
    """Every test here only reads: one app per backend for the whole module."""
    return shared_targets_app.test_client()


def test_search_highlights_matches_and_links_to_the_indicator(targets_client):
    resp = targets_client.get("/search?q=患者")
    assert resp.status_code == 200
    html = text_of(resp)
    assert "找到 3 条指标" in html
    assert "门诊<mark>患者</mark>满意度" in html
    assert 'href="/indicators/YY3-053?version=2024.2"' in html


def test_synonyms_and_pinyin_reach_the_page(targets_client):
    html = text_of(targets_client.get("/search?q=病人满意"))  # 病人 = 患者 in the synonym list
    assert "门诊患者满意度" in html and "找到 1 条指标" in html


def test_empty_query_browses_the_library(targets_client):
    resp = targets_client.get("/search")
    assert resp.status_code == 200
    html = text_of(resp)
    assert "浏览指标" in html and 'class="hit"' in html and "没有找到" not in html
    assert text_of(targets_client.get("/search?q=%20%20")).count('class="hit"') > 0


def test_facets_have_counts_and_narrow_the_results(targets_client):
    html = text_of(targets_client.get("/search?q=满意度"))
    facets = re.findall(r'data-facet="(\w+)"', html)
    assert {"sector", "level1", "kind"} <= set(facets)
    # the sector tree: 卫生健康支出 holds 公立医院, each with its count
    assert re.search(r'卫生健康支出 <span class="count">\d+</span>', html)
    assert re.search(r'公立医院 <span class="count">\d+</span>', html)
    everything = int(re.search(r"找到 (\d+) 条指标", html).group(1))
    narrowed_html = text_of(targets_client.get("/search?q=满意度&sector=21002"))
    narrowed = int(re.search(r"找到 (\d+) 条指标", narrowed_html).group(1))
    assert 0 < narrowed < everything
    assert "行业领域：公立医院 ✕" in narrowed_html
    common = text_of(targets_client.get("/search?q=满意度&kind=common"))
    assert "指标类别：共性指标" in common and "YY3-053" not in common


def test_zero_results_offer_did_you_mean_nearest_names_and_tips(targets_client):
    html = text_of(targets_client.get("/search?q=menzhen"))
    assert "没有找到与“menzhen”相符的指标" in html
    assert "您是不是要找" in html and "门诊患者满意度" in html
    html = text_of(targets_client.get("/search?q=门诊&kind=common"))  # found, but not among the common ones
    assert "没有找到" in html and "去掉筛选条件再查" in html
    html = text_of(targets_client.get("/search?q=zzqqxx"))
    assert "data-zero-results" in html and "拼音首字母" in html


def test_nearest_names_come_from_the_beginning_of_the_query(targets_client):
    html = text_of(targets_client.get("/search?q=门qq"))
    assert "没有找到" in html and "相近的指标名称" in html and "门诊患者满意度" in html


def test_pages_and_bad_page_numbers(targets_client):
    first = text_of(targets_client.get("/search"))
    assert 'rel="next"' in first and "共 " in first
    second = text_of(targets_client.get("/search?page=2"))
    assert 'rel="prev"' in second and '<span aria-current="page">2</span>' in second
    beyond = targets_client.get("/search?page=400")
    assert beyond.status_code == 200 and "没有第 400 页" in text_of(beyond)
    for bad in ("0", "-1", "abc", "1.5", "99999999999999999999"):
        resp = targets_client.get(f"/search?q=满意度&page={bad}")
        assert resp.status_code == 400, bad
        assert "页码" in text_of(resp) and "无效" in text_of(resp)


def test_bad_filters_are_400_in_chinese(targets_client):
    resp = targets_client.get("/search?kind=both")
    assert resp.status_code == 400 and "指标类别“both”无效" in text_of(resp)
    resp = targets_client.get("/search?sector=卫生")
    assert resp.status_code == 400 and "行业领域" in text_of(resp)
    resp = targets_client.get("/search?department=" + "部" * 60)
    assert resp.status_code == 400 and "过长" in text_of(resp)


def test_unknown_version_is_a_chinese_404(targets_client):
    resp = targets_client.get("/search?q=满意度&version=1999.1")
    assert resp.status_code == 404 and "未找到版本“1999.1”" in text_of(resp)
    assert targets_client.get("/search?version=draft").status_code == 404
    old = text_of(targets_client.get("/search?q=满意度&version=2024.1"))
    assert "没有找到" in old  # 2024.1 is the small library without the overlay


def test_query_text_never_reaches_the_page_as_markup(targets_client):
    html = text_of(targets_client.get("/search", query_string={"q": '<script>alert(1)</script>"><img src=x>'}))
    assert "<script>alert(1)" not in html and "<img src=x>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_highlights_are_trusted_only_when_escaped():
    assert safe_fragment("门诊<mark>患者</mark>", "门诊患者") == Markup("门诊<mark>患者</mark>")
    assert safe_fragment("a &lt;b&gt; <mark>c</mark>", "a <b> c") == Markup("a &lt;b&gt; <mark>c</mark>")
    assert safe_fragment("…定义<mark>满意</mark>…", "很长的定义满意程度说明") == Markup("…定义<mark>满意</mark>…")
    unsafe = safe_fragment("<img src=x onerror=alert(1)>", "正常名称")
    assert "<img" not in unsafe and unsafe == Markup("正常名称")
    assert "<b>" not in safe_fragment("<mark><b>x</b></mark>", "<b>x</b>")  # raw tags in the source are not marks


def test_search_json_twin(targets_client):
    data = targets_client.get("/search.json?q=患者&kind=specific").get_json()
    assert data["version"] == "2024.2" and data["total"] == 3 and data["mode"] == "all"
    assert data["results"][0]["code"] == "YY3-053" and "<mark>患者</mark>" in data["results"][0]["highlight"]
    assert {f["value"] for f in data["facets"]["kind"]} == {"specific"}
    resp = targets_client.get("/search.json?page=x")
    assert resp.status_code == 400 and "页码" in resp.get_json()["message"]
    resp = targets_client.get("/search.json?version=1999.1")
    assert resp.status_code == 404 and resp.get_json()["message"] == "未找到版本“1999.1”"


def test_typeahead_by_characters_pinyin_and_initials(targets_client):
    for prefix in ("门诊", "menzhen", "mzhz", "满意"):
        data = targets_client.get("/complete.json", query_string={"q": prefix}).get_json()
        assert "门诊患者满意度" in [c["text"] for c in data["completions"]], prefix
    data = targets_client.get("/complete.json?q=").get_json()
    assert data["completions"] == []
    assert len(targets_client.get("/complete.json?q=" + "满" * 500).get_json()["query"]) == 40


def test_home_box_and_header_link_to_search(targets_client):
    html = text_of(targets_client.get("/"))
    assert 'action="/search"' in html and "data-complete" in html
    assert 'href="/search"' in html and 'href="/draft"' in html and 'href="/quotas"' in html
    assert 'data-complete-url="/complete.json"' in html


def test_the_search_page_asks_the_database_nothing_once_the_version_is_known(targets_client, shared_targets_app):
    """The page resolves its version (and the switcher's list) through the app's VersionCache, as the API does;
    before, each page view asked the database five times which version is current and which exist."""
    from sqlalchemy import event

    engine = shared_targets_app.extensions["zhibiao.engine"]
    assert targets_client.get("/search?q=资金").status_code == 200
    cache = shared_targets_app.extensions["zhibiao.versions"]
    max_age, cache.max_age = cache.max_age, 3600  # a slow machine must not see the second pass
    statements = []

    def seen(conn, cursor, statement, *args):
        if "query_log" not in statement:  # the log's thread may write meanwhile
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        for q in ("资金到位", "预算", "满意", ""):
            assert targets_client.get("/search", query_string={"q": q}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        cache.max_age = max_age
    assert statements == []

"""The rough edges a first user met (issue 15, "Unfinished looks"), each on the real seeded library where it was
seen, through the Flask client. Layout that only a browser can judge (a link wrapping a character a line, a cut-off
select) is also measured in Chromium (tests/browser/test_quotas.py, test_curator.py)."""
from __future__ import annotations

import html as htmllib
import re

import pytest

from kb import auth as kbauth
from kb import db as kbdb
from tests.conftest import _shared_app, seeded_library

CURATOR, PASSWORD = "界面检查员", "rough-edges-password-1"


# SQLite only: what is tested here is pages and the search index, which do not depend on the database
@pytest.fixture(scope="module", params=["sqlite"])
def seeded_app(request, templates, tmp_path_factory):
    """The real library of indicators/ (2024.1), one app for the module; these tests only read (and log in)."""
    for app in _shared_app(request.param, seeded_library, templates, tmp_path_factory):
        app.config["WTF_CSRF_ENABLED"] = False
        with kbdb.session(app.extensions["zhibiao.engine"]) as s:
            kbauth.create_user(s, CURATOR, PASSWORD, "curator")
        yield app


@pytest.fixture(scope="module")
def client(seeded_app):
    return seeded_app.test_client()


@pytest.fixture(scope="module")
def curator(seeded_app):
    c = seeded_app.test_client()
    assert c.post("/curator/login", data={"name": CURATOR, "password": PASSWORD}).status_code == 302
    return c


def text(resp) -> str:
    return resp.get_data(as_text=True)


def visible(page: str) -> str:
    """The text of <main>, tags dropped."""
    main = re.search(r"<main>(.*)</main>", page, re.S).group(1)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", main))


# --- words ---------------------------------------------------------------------------------------

def test_systems_page_has_no_english_notes(client):
    words = re.findall(r"[A-Za-z]{6,}", visible(text(client.get("/systems"))))
    assert not words, words  # it said "SYNTHESIS，provenance local"; codes such as GX-BM, YYCW are shorter


@pytest.mark.parametrize("path", ["/propose", "/curator/login", "/no/such/page", "/indicators/NOPE-1"])
def test_footer_names_the_current_version_on_every_page(client, path):
    footer = re.search(r'<footer class="foot">(.*?)</footer>', text(client.get(path)), re.S).group(1)
    assert re.search(r"版本 2024\.1\s*$", footer.strip()), footer


def test_footer_names_the_version_in_the_curators_workspace(curator):
    for path in ("/curator", "/curator/plan", "/curator/proposals"):
        footer = re.search(r'<footer class="foot">(.*?)</footer>', text(curator.get(path, follow_redirects=True)), re.S).group(1)
        assert footer.strip().endswith("版本 2024.1"), (path, footer)


# --- layout rules (measured in Chromium too) ------------------------------------------------------

def test_plan_table_keeps_edit_links_codes_and_dates_on_one_line(curator, seeded_app):
    page = text(curator.get("/curator/plan"))
    edits = re.findall(r'<td( class="[^"]*")?><a href="/curator/plan/milestones/[^"]+">编辑</a></td>', page)
    assert edits and all(cls == ' class="nowrap"' for cls in edits), edits[:3]
    assert re.search(r'<td class="nowrap">M2024-01</td>', page)
    css = seeded_app.test_client().get("/static/curator.css").get_data(as_text=True)
    assert re.search(r"\.nowrap\s*\{\s*white-space:\s*nowrap;", css)


def test_quota_calculator_gives_the_tier_select_most_of_the_row(client):
    page = text(client.get("/quotas"))
    assert re.search(r'<label class="tier">档次（标准）\s*<select name="code"', page)
    css = client.get("/static/drafter.css").get_data(as_text=True)
    assert re.search(r"\.calculator \.form-grid label\.tier\s*\{\s*grid-column:\s*span 5;", css)


# --- search facets ---------------------------------------------------------------------------------

def sector_links(page: str) -> list[tuple[str, int]]:
    box = re.search(r'<section class="facet" data-facet="sector">(.*?)</section>', page, re.S).group(1)
    return [(htmllib.unescape(href), int(n)) for href, n in
            re.findall(r'<a href="([^"]+)">[^<]*<span class="count">(\d+)</span></a>', box)]


@pytest.mark.parametrize("query", ["", "满意度", "资金"])
def test_each_sector_count_is_what_its_link_finds(client, query):
    links = sector_links(text(client.get(f"/search?q={query}")))
    assert len(links) > 10
    parents = 0
    for href, count in links:
        sector = re.search(r"sector=(\d+)", href).group(1)
        found = client.get(href.replace("/search?", "/search.json?")).get_json()["total"]
        assert found == count, (sector, count, found)
        parents += len(sector) == 3
    assert parents >= 3  # the 类 (205, 210, 213 …) whose children used to be added up


def test_level1_facet_says_which_framework_each_value_belongs_to(client):
    page = text(client.get("/search"))
    box = re.search(r'<section class="facet" data-facet="level1">(.*?)</section>', page, re.S).group(1)
    groups = {}
    for name, body in re.findall(r'data-level1-family="([^"]+)".*?</h3>\s*<ul>(.*?)</ul>', box, re.S):
        groups[name] = re.findall(r"level1=([^&\"]+)", htmllib.unescape(body))
    from urllib.parse import unquote

    groups = {k: [unquote(v) for v in vs] for k, vs in groups.items()}
    assert "产出指标" in groups["绩效目标表"] and "产出" not in groups["绩效目标表"]
    assert {"产出", "决策", "投入"} <= set(groups["绩效评价"])
    assert "医疗质量" in groups["公立医院绩效考核"]
    assert "财预〔2021〕101号" in box and "国办发〔2019〕4号" in box
    # every value is in exactly one group
    values = [v for vs in groups.values() for v in vs]
    assert len(values) == len(set(values))


# --- typeahead --------------------------------------------------------------------------------------

def test_pinyin_reaches_names_that_contain_the_word(client):
    found = [c["text"] for c in client.get("/complete.json?q=manyidu").get_json()["completions"]]
    assert found[0] == "满意度"
    inner = [n for n in found if "满意度" in n and not n.startswith("满意度")]
    assert len(inner) >= 3, found


def test_a_code_prefix_completes_to_codes(client):
    found = client.get("/complete.json?q=GX-XM-00").get_json()["completions"]
    codes = [c["code"] for c in found]
    assert len(codes) >= 5 and all(c.startswith("GX-XM-00") for c in codes) and codes == sorted(codes)
    assert [c["code"] for c in client.get("/complete.json?q=gx-xm-007").get_json()["completions"]] == ["GX-XM-007"]


# --- the API's page size ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/indicators", "/api/v1/cases", "/api/v1/quotas"])
def test_limit_is_accepted_as_per_page(client, path):
    body = client.get(f"{path}?limit=2").get_json()
    assert body["per_page"] == 2 and len(body["results"]) == 2
    assert "limit=2" in body["links"]["next"]
    assert client.get(f"{path}?limit=2&per_page=2").status_code == 200
    resp = client.get(f"{path}?limit=2&per_page=3")
    assert resp.status_code == 422
    assert resp.get_json()["errors"]["query"]["limit"] == ["per_page 与 limit 是同一参数，只给一个（或给相同的值）"]

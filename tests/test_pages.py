"""Pages through the Flask client, including their error states."""
import re

import pytest



@pytest.fixture(scope="module")
def client(shared_app):
    """Every test here only reads: one app per backend for the whole module."""
    return shared_app.test_client()


def test_home_page(client):
    html = client.get("/").get_data(as_text=True)
    assert "预算绩效指标库" in html and "2024.1" in html


def test_indicator_page_shows_fields_source_systems_and_history(client):
    resp = client.get("/indicators/T-001")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in ("资金到位率", "实际到位资金/预算资金×100%", "财预〔2020〕10号", "演示评价体系", "修订 1", "加入我的绩效目标表"):
        assert text in html


def test_indicator_and_system_pages_do_not_read_the_whole_version_per_request(client, monkeypatch):
    """They show eight related indicators and a system's names from the records the worker keeps per version
    (kb.library.snapshot); reading every indicator of the version from the database made the page cost 170 ms at
    1,600 indicators, and it grows with the library."""
    from kb.library import versions

    for url in ("/indicators/T-001", "/systems/SYS-DEMO"):
        client.get(url)  # the version's records are loaded once per worker
    read = versions.records

    def records(session, kind, *args, **kwargs):
        assert kind != "indicator", "a page read every indicator of the version"
        return read(session, kind, *args, **kwargs)

    monkeypatch.setattr(versions, "records", records)
    for url in ("/indicators/T-001", "/systems/SYS-DEMO"):
        resp = client.get(url)
        assert resp.status_code == 200, url


def test_indicator_page_unknown_code_and_unknown_version(client):
    resp = client.get("/indicators/NOPE-1")
    assert resp.status_code == 404 and "未找到指标" in resp.get_data(as_text=True)
    resp = client.get("/indicators/T-001?version=1999.1")
    assert resp.status_code == 404 and "未找到版本" in resp.get_data(as_text=True)
    assert client.get("/indicators/T-001?version=draft").status_code == 404


def test_system_page_is_a_weighted_tree(client):
    html = client.get("/systems/SYS-DEMO").get_data(as_text=True)
    assert "<details" in html and "60 分" in html and "资金到位率" in html
    assert client.get("/systems").status_code == 200
    assert client.get("/systems/NOPE").status_code == 404


def test_unknown_page_is_a_chinese_404(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and "页面不存在" in resp.get_data(as_text=True)


DRAFTER_PAGES = ("/search?q=资金到位", "/search", "/search?q=zzqq", "/draft", "/quotas", "/quotas/Q-T-1",
                 "/quotas/calculator?code=Q-T-1&people=10&days=2")


def test_pages_reference_no_remote_urls(client):
    for path in ("/", "/indicators/T-001", "/systems", "/systems/SYS-DEMO") + DRAFTER_PAGES:
        html = client.get(path).get_data(as_text=True)
        for attr in re.findall(r'(?:src|href|action)="([^"]*)"', html):
            assert not re.match(r"^(https?:)?//", attr), (path, attr)


def test_security_headers_on_pages_and_api(client):
    for path in ("/", "/api/v1/versions"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script(client):
    for path in ("/", "/indicators/T-001", "/systems/SYS-DEMO") + DRAFTER_PAGES:
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path


def test_every_page_has_an_icon_served_locally(client):
    page = client.get("/").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg"' in page
    for path in ("/favicon.ico", "/static/favicon.svg"):
        resp = client.get(path)
        assert resp.status_code == 200 and resp.mimetype == "image/svg+xml" and b"<svg" in resp.data


def test_home_leads_to_the_three_tasks_and_maps_the_library_by_sector(client):
    page = client.get("/").get_data(as_text=True)
    for task, href in (("search", "/search"), ("draft", "/draft"), ("quotas", "/quotas")):
        assert f'href="{href}" data-task="{task}"' in page
    assert "检索指标" in page and "编制绩效目标" in page and "查看支出标准" in page
    # the fixture library's specific indicators are of 类 210 (卫生健康): counted, and linked to their search
    assert 'data-sector="210"' in page and "/search?sector=210" in page

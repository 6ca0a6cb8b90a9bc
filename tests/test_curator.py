"""The curator workspace through the Flask client: login, draft editing,
merging, proposals, import, publishing, diffs, the plan and its dashboard."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from kb import auth as kbauth
from kb import db as kbdb
from kb.library import gates, draft as library, snapshot, versions
from kb.plan import progress as plan
from kb.models import ChangeRequest, Indicator, Milestone, QueryLog

PASSWORD = "correct horse 1"
TABLE_HEADERS = ["指标编码", "指标类别", "一级指标", "二级指标", "三级指标", "计量单位", "指标性质", "行业", "来源文件"]


# --- helpers ----------------------------------------------------------------------------------

def db(app):
    return kbdb.session(app.extensions["zhibiao.engine"])


def make_user(app, name: str, role: str = "curator") -> None:
    with db(app) as s:
        kbauth.create_user(s, name, PASSWORD, role)


def login(client, name: str = "维护员", password: str = PASSWORD, **extra):
    return client.post("/curator/login", data={"name": name, "password": password, **extra})


def draft_indicator(app, code: str) -> Indicator:
    with db(app) as s:
        return library.draft_record(s, "indicator", code)


def html(resp) -> str:
    return resp.get_data(as_text=True)


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert match, f"no hidden field {name}"
    return match.group(1)


def edit_form(app, code: str, **changes) -> dict:
    """The edit form of a draft indicator as the page fills it, with some fields changed."""
    from web.curator.forms import indicator_form

    obj = draft_indicator(app, code)
    form = {k: v for k, v in indicator_form(obj).items() if k != "code"}
    form.update(changes, revision=str(changes.get("revision", obj.revision)))
    return form


def workbook(rows: list[list[str]], title: str = "卫生健康") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(["湖南省卫生健康领域绩效指标（示例）"])  # a title row above the header, as published workbooks have
    ws.append(TABLE_HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD_ROWS = [
    ["HN-001", "个性", "产出指标", "数量指标", "家庭医生签约人数", "人", "≥", "21002", "湖南省卫生健康绩效指标"],
    ["HN-002", "个性", "产出指标", "质量指标", "住院患者满意度", "%", "≥", "21002", "湖南省卫生健康绩效指标"],
]
BAD_ROW = ["HN-003", "个性", "产出指标", "不存在的二级", "慢病管理率", "%", "≥", "21002", "湖南省卫生健康绩效指标"]


def upload(client, data: bytes, filename: str = "湖南卫生.xlsx", **fields):
    return client.post("/curator/import/preview", data={"file": (io.BytesIO(data), filename), **fields},
                       content_type="multipart/form-data")


@pytest.fixture
def web_app(app):
    app.config["WTF_CSRF_ENABLED"] = False
    make_user(app, "维护员", "curator")
    make_user(app, "管理员", "admin")
    return app


@pytest.fixture
def cur(web_app):
    client = web_app.test_client()
    assert login(client).status_code == 302
    return client


@pytest.fixture
def admin(web_app):
    client = web_app.test_client()
    assert login(client, "管理员").status_code == 302
    return client


# --- login ------------------------------------------------------------------------------------

def _example_url(rule) -> str:
    values = {"code": "T-001", "request_id": 1, "year": 2024, "job_id": 1}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def test_every_curator_route_requires_login(web_app):
    client = web_app.test_client()
    rules = [r for r in web_app.url_map.iter_rules() if r.endpoint.startswith("curator.") and r.endpoint != "curator.login"]
    assert len(rules) >= 25
    for rule in rules:
        url = _example_url(rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            resp = client.open(url, method=method)
            assert resp.status_code == 302, (method, url, resp.status_code)
            assert resp.headers["Location"].startswith("/curator/login"), (method, url)


def test_login_then_pages_open_and_logout_closes_them(web_app):
    client = web_app.test_client()
    resp = client.get("/curator/draft?kind=common")
    assert resp.status_code == 302 and "next=" in resp.headers["Location"]
    resp = login(client, next="/curator/draft?kind=common")
    assert resp.status_code == 302 and resp.headers["Location"] == "/curator/draft?kind=common"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "资金到位率" in html(client.get("/curator/draft?kind=common"))
    assert client.post("/curator/logout").status_code == 302
    assert client.get("/curator/").status_code == 302


def _cookie(client) -> str:
    return next(c.value for c in client._cookies.values() if c.key == "session")


def _replay(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get("/curator/")


def test_logout_ends_the_session_everywhere(web_app):
    client = web_app.test_client()
    assert login(client).status_code == 302
    copied = _cookie(client)
    assert _replay(web_app, copied).status_code == 200
    second = web_app.test_client()
    assert login(second).status_code == 302  # the same account in another browser
    assert client.post("/curator/logout").status_code == 302
    assert _replay(web_app, copied).status_code == 302  # a cookie copied before logout opens nothing
    assert second.get("/curator/").status_code == 302  # logout ends every session of the account


@pytest.mark.parametrize("change", ["password", "role"])
def test_a_new_password_or_role_ends_open_sessions(web_app, change):
    client = web_app.test_client()
    assert login(client).status_code == 302 and client.get("/curator/").status_code == 200
    with db(web_app) as s:
        if change == "password":
            kbauth.set_password(s, "维护员", "另一个足够长的密码")
        else:
            kbauth.set_role(s, "维护员", "admin")
    assert client.get("/curator/").status_code == 302
    password = "另一个足够长的密码" if change == "password" else PASSWORD
    assert login(web_app.test_client(), password=password).status_code == 302


def test_login_does_not_redirect_off_site(web_app):
    resp = login(web_app.test_client(), next="https://evil.example/")
    assert resp.headers["Location"] == "/curator/"


def test_failed_login_says_the_same_for_a_wrong_name_or_password_and_is_throttled(web_app):
    web_app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 15 minutes"
    from web.curator import auth as curator_auth

    curator_auth.init_app(web_app)  # pick up the smaller limit
    client = web_app.test_client()
    wrong_password = login(client, "维护员", "not the password")
    unknown_name = login(client, "无此人", PASSWORD)
    assert wrong_password.status_code == unknown_name.status_code == 401
    assert "用户名或密码不正确" in html(wrong_password) and "用户名或密码不正确" in html(unknown_name)
    login(client, "维护员", "wrong again")
    login(client, "维护员", "and again")
    throttled = login(client, "维护员", PASSWORD)  # right password, but too many failures
    assert throttled.status_code == 429 and "登录失败次数过多" in html(throttled)
    assert login(web_app.test_client(), "管理员").status_code == 302  # other accounts are not locked out


def test_csrf_token_is_required_on_every_form(web_app):
    web_app.config["WTF_CSRF_ENABLED"] = True
    client = web_app.test_client()
    assert login(client).status_code == 400  # the login form too
    token = hidden(html(client.get("/curator/login")), "csrf_token")
    assert login(client, csrf_token=token).status_code == 302
    resp = client.post("/curator/draft/T-001", data=edit_form(web_app, "T-001", name="改名不带校验码"))
    assert resp.status_code == 400 and "校验码" in html(resp)
    assert draft_indicator(web_app, "T-001").name == "资金到位率"
    page = html(client.get("/curator/draft/T-001"))
    resp = client.post("/curator/draft/T-001", data={**edit_form(web_app, "T-001", name="资金到位比率"), "csrf_token": hidden(page, "csrf_token")})
    assert resp.status_code == 302 and draft_indicator(web_app, "T-001").name == "资金到位比率"
    assert web_app.test_client().post("/propose", data={"name": "无校验码的提议"}).status_code == 400


def test_workspace_pages_render_without_inline_script_or_style(cur, web_app):
    public = web_app.test_client()
    pages = ["/curator/", "/curator/draft", "/curator/draft/T-001", "/curator/draft/new", "/curator/duplicates", "/curator/lint",
             "/curator/merge?code=T-001&code=T-002", "/curator/proposals", "/curator/import", "/curator/export",
             "/curator/publish", "/curator/diff", "/curator/changes", "/curator/plan", "/curator/plan/milestones/new",
             "/curator/plan/dashboard"]
    for client, path in [(cur, p) for p in pages] + [(public, "/plan"), (public, "/propose"), (public, "/curator/login")]:
        resp = client.get(path)
        assert resp.status_code == 200, path
        page = html(resp)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert not re.search(r"<[^>]+\s(?:on[a-z]+|style)=", page), path
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", page, re.S):
            assert 'name="csrf_token"' in form, (path, form[:120])


# --- the draft ----------------------------------------------------------------------------------

def test_draft_list_filters(cur):
    page = html(cur.get("/curator/draft?kind=specific"))
    assert "T-003" in page and "T-001" not in page
    page = html(cur.get("/curator/draft?q=培训"))
    assert "T-004" in page and "T-003" not in page
    page = html(cur.get("/curator/draft?sector=210"))
    assert "T-003" in page and "T-004" not in page


def test_edit_saves_with_the_revision(cur, web_app):
    resp = cur.post("/curator/draft/T-002", data=edit_form(web_app, "T-002", definition="已执行预算与预算数之比", keywords="执行、支出进度"))
    assert resp.status_code == 302
    saved = draft_indicator(web_app, "T-002")
    assert saved.revision == 2 and saved.definition == "已执行预算与预算数之比" and saved.keywords == ["执行", "支出进度"]
    with db(web_app) as s:
        assert library.change_log(s, "T-002")[0].user == "维护员"


def test_saving_an_unchanged_form_changes_nothing(cur, web_app):
    for code in ("T-001", "T-002", "T-003", "T-004"):
        assert cur.post(f"/curator/draft/{code}", data=edit_form(web_app, code)).status_code == 302
        assert draft_indicator(web_app, code).revision == 1


def test_stale_edit_is_a_conflict_that_keeps_the_input(cur, web_app):
    stale = edit_form(web_app, "T-002", name="我的改名")
    assert cur.post("/curator/draft/T-002", data=edit_form(web_app, "T-002", name="他人的改名")).status_code == 302
    resp = cur.post("/curator/draft/T-002", data=stale)
    assert resp.status_code == 409
    page = html(resp)
    assert "保存冲突" in page and "已被他人修改" in page
    assert 'value="我的改名"' in page  # the input is kept
    stored = draft_indicator(web_app, "T-002")
    assert stored.revision == 2 and stored.name == "他人的改名"
    assert hidden(page, "revision") == "2"  # saving again is a deliberate overwrite
    assert cur.post("/curator/draft/T-002", data={**stale, "revision": "2"}).status_code == 302
    assert draft_indicator(web_app, "T-002").name == "我的改名"


def test_two_curators_editing_at_once_lose_nothing(cur, web_app):
    """Curator A opens T-003; B changes its unit and name; A, from the page A opened, changes the definition and
    the name. A's save is refused (409): B's unit comes in by itself, A's definition stays, and the name, changed
    by both, is A's to choose; A takes B's name and saves."""
    import html as htmllib

    page = html(cur.get("/curator/draft/T-003"))
    base = htmllib.unescape(hidden(page, "base"))
    a_form = {**edit_form(web_app, "T-003"), "base": base}
    other = web_app.test_client()
    make_user(web_app, "李四", "curator")
    assert login(other, "李四").status_code == 302
    assert other.post("/curator/draft/T-003", data=edit_form(web_app, "T-003", unit="人次（B）", name="B的名称")).status_code == 302

    mine = {**a_form, "definition": "A写的解释", "name": "A的名称"}
    resp = cur.post("/curator/draft/T-003", data=mine)
    assert resp.status_code == 409
    page = html(resp)
    assert "计量单位" in page and "已采用对方的内容" in page  # B's unit, taken
    assert 'value="人次（B）"' in page and "A写的解释" in page  # merged form: their unit, my definition
    conflicts = re.findall(r'data-conflict-field="([^"]+)"', page)
    assert conflicts == ["name"]  # only the field both changed; nothing unchanged is flagged
    assert "document:" not in page and "doc_number" not in page.split("data-conflict")[1].split("</div>")[0]
    assert '<input value="T-003" disabled>' in page  # the code box is not blank
    again = {**a_form, "definition": "A写的解释", "name": "A的名称", "unit": "人次（B）",
             "revision": hidden(page, "revision"), "base": htmllib.unescape(hidden(page, "base")), "keep-name": "theirs"}
    assert cur.post("/curator/draft/T-003", data=again).status_code == 302
    saved = draft_indicator(web_app, "T-003")
    assert (saved.name, saved.unit, saved.definition) == ("B的名称", "人次（B）", "A写的解释")


def test_invalid_edit_shows_the_problem_and_changes_nothing(cur, web_app):
    resp = cur.post("/curator/draft/T-003", data=edit_form(web_app, "T-003", level2="没有这个二级"))
    assert resp.status_code == 422 and "不是“产出指标”下的二级指标" in html(resp)
    assert 'value="没有这个二级"' in html(resp)
    assert draft_indicator(web_app, "T-003").revision == 1


def test_create_indicator(cur, web_app):
    form = {**edit_form(web_app, "T-003"), "code": "t-010", "name": "住院患者平均住院日"}
    form.pop("revision")
    resp = cur.post("/curator/draft/new", data=form)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/curator/draft/T-010")
    assert draft_indicator(web_app, "T-010").name == "住院患者平均住院日"
    again = cur.post("/curator/draft/new", data=form)
    assert again.status_code == 409 and "已存在" in html(again)


def test_retire_and_supersede(cur, web_app):
    resp = cur.post("/curator/draft/T-004/retire", data={"revision": "1", "action": "supersede", "superseded_by": "NOPE-1"})
    assert resp.status_code == 404 and "NOPE-1" in html(resp)
    resp = cur.post("/curator/draft/T-004/retire", data={"revision": "1", "action": "supersede", "superseded_by": "T-002"})
    assert resp.status_code == 302
    obj = draft_indicator(web_app, "T-004")
    assert (obj.status, obj.superseded_by) == ("superseded", "T-002")
    stale = cur.post("/curator/draft/T-004/retire", data={"revision": "1", "action": "retire"})
    assert stale.status_code == 409
    assert cur.post("/curator/draft/T-004/retire", data={"revision": "2", "action": "retire"}).status_code == 302
    assert draft_indicator(web_app, "T-004").status == "retired"


# --- merging --------------------------------------------------------------------------------------

def _add_duplicate_of_t001(app, code: str = "T-009") -> None:
    with db(app) as s:
        data = library.record_data("indicator", library.draft_record(s, "indicator", "T-001"))
        library.create_record(s, "indicator", {**data, "code": code, "name": "资金 到位率"}, user="test")


def test_duplicates_are_listed_and_merged_with_system_leaves_repointed(cur, web_app):
    _add_duplicate_of_t001(web_app)
    page = html(cur.get("/curator/duplicates"))
    assert "T-001" in page and "T-009" in page and "1 组" in page
    page = html(cur.get("/curator/merge?code=T-001&code=T-009"))
    assert 'name="revision-T-009" value="1"' in page
    resp = cur.post("/curator/merge", data={"code": ["T-001", "T-009"], "survivor": "T-009", "revision-T-001": "1", "revision-T-009": "1"})
    assert resp.status_code == 302
    old = draft_indicator(web_app, "T-001")
    assert (old.status, old.superseded_by, old.revision) == ("superseded", "T-009", 2)
    with db(web_app) as s:
        system = library.draft_record(s, "system", "SYS-DEMO")
        leaves = [leaf["indicator"] for leaf in gates.system_leaves(system.nodes)]
        assert "T-009" in leaves and "T-001" not in leaves
        assert gates.check_draft(s) == []
        assert library.change_log(s, "SYS-DEMO")[0].action == "merge"
    assert "没有重复" in html(cur.get("/curator/duplicates"))


def test_merge_with_a_stale_revision_changes_nothing(cur, web_app):
    _add_duplicate_of_t001(web_app)
    cur.post("/curator/draft/T-009", data=edit_form(web_app, "T-009", note="有人先改了"))
    resp = cur.post("/curator/merge", data={"code": ["T-001", "T-009"], "survivor": "T-001", "revision-T-001": "1", "revision-T-009": "1"})
    assert resp.status_code == 409
    assert draft_indicator(web_app, "T-009").status == "standard"
    assert draft_indicator(web_app, "T-001").revision == 1


# --- the content lint ------------------------------------------------------------------------------

def _add_lint_findings(app) -> None:
    """An error (a count in %), a warning (a rate in 元) and a duplicate placement (two files, two 二级)."""
    base = {"kind": "specific", "level1": "产出指标", "level2": "数量指标", "operator": "≥", "sectors": ["21002"],
            "source": {"document": "测试"}, "provenance": "local"}
    with db(app) as s:
        library.create_record(s, "indicator", {**base, "code": "T-L-001", "name": "培训人数", "unit": "%"}, user="test")
        library.create_record(s, "indicator", {**base, "code": "T-L-002", "name": "病床使用率", "unit": "元", "level2": "质量指标"}, user="test")
        library.create_record(s, "indicator", {**base, "code": "T-L-003", "name": "运维响应及时率", "unit": "%", "level2": "质量指标"}, user="test")
        library.create_record(s, "indicator", {**base, "code": "T-L-004", "name": "运维响应及时率", "unit": "%", "level2": "时效指标"}, user="test")


def test_the_lint_page_lists_findings_by_rule_with_links_and_fixes(cur, web_app):
    _add_lint_findings(web_app)
    page = html(cur.get("/curator/lint"))
    assert 'href="/curator/lint"' in page and "内容检查" in page  # in the navigation
    assert re.search(r"1\s*项错误，\d+\s*项提醒", page)
    sections = dict(re.findall(r'<section class="lint-rule" id="rule-(L\d\d)">(.*?)</section>', page, re.S))
    assert {"L01", "L05"} <= set(sections)
    assert 'href="/curator/draft/T-L-001"' in sections["L01"] and "是计数，单位却是“%”" in sections["L01"]
    assert "计数用人、个、次等计数单位" in sections["L01"]  # how to fix it
    assert 'href="/curator/draft/T-L-002"' in sections["L01"] and "比率用 %" in sections["L01"]
    assert 'href="/curator/draft/T-L-003"' in sections["L05"] and 'href="/curator/draft/T-L-004"' in sections["L05"]
    counts = re.search(r'<table class="list" id="lint-counts">(.*?)</table>', page, re.S).group(1)
    assert re.search(r"L01</a></td><td>名称与单位</td>\s*<td class=\"num bad\">1</td><td class=\"num\">1</td>", counts)


def test_the_lint_page_filters_by_rule_and_severity(cur, web_app):
    _add_lint_findings(web_app)
    page = html(cur.get("/curator/lint?rule=L01&severity=error"))
    assert "T-L-001" in page.split('id="lint-counts"')[1] and "T-L-002" not in page and "T-L-003" not in page
    assert '<option value="L01" selected>' in page and '<option value="error" selected>' in page
    page = html(cur.get("/curator/lint?rule=L05"))
    assert "T-L-003" in page and "T-L-001\"" not in page
    assert "没有符合筛选条件的问题" in html(cur.get("/curator/lint?rule=L04&severity=error"))
    for bad, said in (("rule=L99", "没有内容检查规则“L99”"), ("severity=fatal", "没有“fatal”这一级别")):
        resp = cur.get(f"/curator/lint?{bad}")
        assert resp.status_code == 422 and said in html(resp)


def test_the_lint_page_has_a_json_twin(cur, web_app):
    _add_lint_findings(web_app)
    body = cur.get("/curator/lint.json?severity=warning").get_json()
    assert body["errors"] == 1 and body["warnings"] >= 2 and body["filters"] == {"rule": None, "severity": "warning"}
    assert {f["severity"] for f in body["findings"]} == {"warning"} and body["total"] == len(body["findings"])
    [dup] = [f for f in body["findings"] if f["rule"] == "L05"]
    assert dup["codes"] == ["T-L-003", "T-L-004"] and dup["fix"] and dup["title"] == "重复与同名"
    assert next(r for r in body["rules"] if r["rule"] == "L01") == {"rule": "L01", "title": "名称与单位", "error": 1, "warning": 1}
    resp = cur.get("/curator/lint.json?rule=X1")
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_input" and "X1" in resp.get_json()["message"]
    assert web_app.test_client().get("/curator/lint.json").status_code == 302  # signed in only


# --- proposals ----------------------------------------------------------------------------------

def test_drafters_propose_without_login_and_the_curator_accepts(cur, web_app):
    public = web_app.test_client()
    form = {"name": "日间手术占比", "sector": "21002", "level1": "产出指标", "level2": "质量指标", "unit": "%",
            "proposer": "市第一人民医院", "reason": "等级评审要求"}
    resp = public.post("/propose", data=form)
    assert resp.status_code == 302
    status_page = html(public.get(resp.headers["Location"]))
    assert "已收到您的提议" in status_page and "待处理" in status_page
    public.post("/propose", data={**form, "proposer": "市中医院"})
    assert public.post("/propose", data={"name": "X"}).status_code == 422
    page = html(cur.get("/curator/proposals"))
    assert "日间手术占比" in page and "市第一人民医院" in page
    with db(web_app) as s:
        first = s.execute(select(ChangeRequest).order_by(ChangeRequest.id)).scalars().first()
    page = html(cur.get(f"/curator/proposals/{first.id}"))
    assert f"TY-21002-{first.id:04d}" in page and "预算单位提议（市第一人民医院）" in page
    from web.curator.forms import form_state, indicator_form
    from kb.library.proposals import indicator_draft

    accept = {k: v for k, v in indicator_form(indicator_draft(first, "TY-21002-0001")).items()}
    resp = cur.post(f"/curator/proposals/{first.id}/accept", data={**form_state(accept), "note": "已纳入候选"})
    assert resp.status_code == 302
    made = draft_indicator(web_app, "TY-21002-0001")
    assert (made.status, made.kind, made.sectors) == ("candidate", "specific", ["21002"])
    with db(web_app) as s:
        statuses = [r.status for r in s.execute(select(ChangeRequest)).scalars()]
    assert statuses == ["accepted", "accepted"]  # both identical proposals settled
    assert cur.post(f"/curator/proposals/{first.id}/accept", data=form_state(accept)).status_code == 409


def test_reject_needs_a_note(cur, web_app):
    web_app.test_client().post("/propose", data={"name": "课后服务覆盖率", "sector": "205"})
    with db(web_app) as s:
        request_id = s.execute(select(ChangeRequest.id)).scalar()
    resp = cur.post(f"/curator/proposals/{request_id}/reject", data={"note": ""})
    assert resp.status_code == 422 and "理由" in html(resp)
    assert cur.post(f"/curator/proposals/{request_id}/reject", data={"note": "已有同义指标 T-004"}).status_code == 302
    public = html(web_app.test_client().get(f"/propose/{request_id}"))
    assert "未采纳" in public and "已有同义指标 T-004" in public


# --- import and export -------------------------------------------------------------------------------

def test_import_preview_shows_errors_by_row_and_column_and_changes_nothing(cur, web_app):
    resp = upload(cur, workbook(GOOD_ROWS + [BAD_ROW]))
    assert resp.status_code == 422
    page = html(resp)
    assert "卫生健康" in page and "不存在的二级" in page
    errors = page.split('id="import-errors"')[1].split("</table>")[0]
    assert "<td>5</td>" in errors and "二级指标" in errors  # sheet, row 5 (title row + header + 2 rows), column
    assert "确认导入草稿" not in page
    with db(web_app) as s:
        assert s.get(Indicator, "HN-001") is None


def test_import_preview_then_apply(cur, web_app):
    resp = upload(cur, workbook(GOOD_ROWS), kind="specific")
    assert resp.status_code == 200
    page = html(resp)
    assert "家庭医生签约人数" in page and "确认导入草稿" in page
    with db(web_app) as s:
        assert s.get(Indicator, "HN-001") is None  # a preview writes nothing
    form = {k: hidden(page, k) for k in ("upload", "digest", "source_document", "kind", "provenance", "sheet")}
    resp = cur.post("/curator/import/apply", data=form)
    assert resp.status_code == 302 and "/curator/diff" in resp.headers["Location"]
    assert draft_indicator(web_app, "HN-001").sectors == ["21002"]
    diff_page = html(cur.get(resp.headers["Location"]))
    assert "HN-002" in diff_page and "住院患者满意度" in diff_page
    again = cur.post("/curator/import/apply", data=form)
    assert again.status_code == 404  # the upload is gone once applied


def test_import_apply_refuses_a_plan_the_draft_has_moved_past(cur, web_app):
    changed = [["T-002", "共性", "过程", "资金管理", "预算执行率", "%", "≥", "", "项目支出绩效评价管理办法"]]
    page = html(upload(cur, workbook(changed)))
    form = {k: hidden(page, k) for k in ("upload", "digest", "source_document", "kind", "provenance", "sheet")}
    cur.post("/curator/draft/T-002", data=edit_form(web_app, "T-002", unit="个"))  # someone edits meanwhile
    resp = cur.post("/curator/import/apply", data=form)
    assert resp.status_code == 409 and "预览之后草稿已有变化" in html(resp)
    assert draft_indicator(web_app, "T-002").unit == "个"


def test_import_rejects_a_file_that_is_not_a_workbook(cur, web_app):
    resp = upload(cur, b"just some text", "伪装.xlsx")
    assert resp.status_code == 422 and "不是有效的 Excel 工作簿" in html(resp)


def test_an_oversized_upload_is_refused_in_chinese(cur, web_app):
    web_app.config["MAX_CONTENT_LENGTH"] = 4096
    resp = upload(cur, workbook(GOOD_ROWS) + b"\0" * 8192)
    assert resp.status_code == 413 and "上传的文件过大" in html(resp)


def test_export_draft_and_version(cur):
    resp = cur.get("/curator/export/download?version=draft&format=xlsx")
    assert resp.status_code == 200 and resp.data.startswith(b"PK")
    assert "attachment" in resp.headers["Content-Disposition"]
    resp = cur.get("/curator/export/download?version=2024.1&format=csv")
    assert "资金到位率" in resp.data.decode("utf-8-sig")
    resp = cur.get("/curator/export/download?version=2024.1&format=json")
    assert resp.get_json()["version"] == "2024.1"
    assert cur.get("/curator/export/download?format=pdf").status_code == 422


# --- publishing and diffs ------------------------------------------------------------------------------

def follow_publish(cur, web_app, resp):
    """A publish answers with the job's page: wait for the job, then read where it leads."""
    from kb.library import jobs

    assert resp.status_code == 302 and "/curator/jobs/" in resp.headers["Location"], resp.status_code
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert jobs.wait(web_app.extensions["zhibiao.engine"], job_id).finished
    return cur.get(resp.headers["Location"])


def test_publish_refused_lists_the_problems_and_changes_nothing(cur, web_app):
    form = {**edit_form(web_app, "T-003"), "code": "T-011", "name": "没有范围的个性指标", "sectors": ""}
    form.pop("revision")
    assert cur.post("/curator/draft/new", data=form).status_code == 302
    page = html(cur.get("/curator/publish"))
    assert "没有适用范围" in page and "1 项问题" in page
    resp = follow_publish(cur, web_app, cur.post("/curator/publish", data={"label": "2024.2", "notes": "试发布"}))
    assert resp.status_code == 409
    page = html(resp)
    assert "未发布" in page and "T-011" in page and "试发布" in page
    with db(web_app) as s:
        assert [v.label for v in versions.list_versions(s)] == ["2024.1"]


def test_publish_with_notes_then_read_the_diff(cur, web_app):
    cur.post("/curator/draft/T-002", data=edit_form(web_app, "T-002", unit="%（百分比）"))
    page = html(cur.get("/curator/publish"))
    assert "全部通过" in page and 'value="' in page
    started = cur.post("/curator/publish", data={"label": "2024.2", "notes": "修订计量单位"})
    running = cur.get(started.headers["Location"])  # the job's page, refreshing itself until it is done
    assert running.status_code in (200, 302)
    resp = follow_publish(cur, web_app, started)
    assert resp.status_code == 302 and "a=2024.1" in resp.headers["Location"] and "b=2024.2" in resp.headers["Location"]
    with db(web_app) as s:
        current = versions.resolve(s)
        assert (current.label, current.notes) == ("2024.2", "修订计量单位")
    page = html(cur.get(resp.headers["Location"]))
    assert "计量单位" in page and "%（百分比）" in page and "共 1 处变化" in page
    dup = cur.post("/curator/publish", data={"label": "2024.2"})
    assert dup.status_code == 409 and "已发布过" in html(dup)


def test_diff_between_any_two_versions_has_chinese_field_names(cur, web_app):
    cur.post("/curator/draft/T-001", data=edit_form(web_app, "T-001", formula="到位资金/计划资金×100%", direction="up"))
    page = html(cur.get("/curator/diff?a=2024.1&b=draft"))
    assert "计算公式" in page and "到位资金/计划资金×100%" in page and "formula" not in page
    assert "两者相同" in html(cur.get("/curator/diff?a=2024.1&b=2024.1"))
    assert cur.get("/curator/diff?a=1999.1&b=draft").status_code == 404


def test_change_log_page(cur, web_app):
    cur.post("/curator/draft/T-001", data=edit_form(web_app, "T-001", note="核对来源"))
    page = html(cur.get("/curator/changes?code=T-001"))
    assert "维护员" in page and "核对来源" in page and "备注" in page


# --- the plan -------------------------------------------------------------------------------------------

def test_plan_years_and_milestones_are_edited_with_revisions(cur, admin, web_app):
    assert cur.post("/curator/plan/years", data={"year": "2025", "theme": "卫生健康先行"}).status_code == 302
    milestone = {"code": "M2025-01", "year": "2025", "title": "公立医院个性指标入库", "sector": "21002", "measure": "specific",
                 "target_count": "2", "due_date": "2025-06-30", "owner": "绩效管理科"}
    assert cur.post("/curator/plan/milestones/new", data=milestone).status_code == 302
    bad = cur.post("/curator/plan/milestones/new", data={**milestone, "code": "M2025-02", "sector": "999"})
    assert bad.status_code == 422 and "功能分类" in html(bad)
    page = html(cur.get("/curator/plan"))
    assert "公立医院个性指标入库" in page and "卫生健康先行" in page
    stale = {**milestone, "revision": "1", "owner": "甲"}
    assert cur.post("/curator/plan/milestones/M2025-01", data={**milestone, "revision": "1", "target_count": "3"}).status_code == 302
    resp = cur.post("/curator/plan/milestones/M2025-01", data=stale)
    assert resp.status_code == 409 and "保存冲突" in html(resp) and 'value="甲"' in html(resp)
    with db(web_app) as s:
        row = s.get(Milestone, "M2025-01")
        assert (row.revision, row.target_count, row.owner, row.due_date) == (2, 3, "绩效管理科", date(2025, 6, 30))
        assert plan.milestones(s)[0].code == "M2025-01"
    assert cur.post("/curator/plan/milestones/M2025-01/delete", data={"revision": "2"}).status_code == 403  # admin only
    assert admin.post("/curator/plan/milestones/M2025-01/delete", data={"revision": "2"}).status_code == 302
    assert "公立医院个性指标入库" not in html(cur.get("/curator/plan"))


def test_dashboard_of_the_fixture_library(cur, web_app):
    cur.post("/curator/plan/years", data={"year": "2024", "theme": "试点"})
    cur.post("/curator/plan/milestones/new", data={"code": "M2024-01", "year": "2024", "title": "医院", "sector": "21002",
                                                    "measure": "specific", "target_count": "4"})
    page = html(cur.get("/curator/plan/dashboard"))
    assert "<svg" in page and "1 / 4" in page  # T-003 is the one specific hospital indicator
    assert "市级综合医院" in page  # a department without specific indicators
    assert html(web_app.test_client().get("/plan")).count("<svg") >= 2  # the public read-only view


# --- the dashboard against the seeded library ------------------------------------------------------------

@pytest.fixture
def seeded_app(seeded_db, database_url, tmp_path):
    from server.app import create_app

    s = seeded_db
    for q, n in (("无人机巡检", 3), ("碳排放核算", 1)):
        s.add_all(QueryLog(query=q, normalized=q, total=0) for _ in range(n))
    s.add_all(ChangeRequest(sector="21002", name="日间手术占比") for _ in range(2))
    s.commit()
    kbauth.create_user(s, "维护员", PASSWORD, "curator")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["zhibiao.engine"].dispose()


def test_dashboard_figures_match_the_seeded_library(seeded_app):
    client = seeded_app.test_client()
    login(client)
    with db(seeded_app) as s:
        version = versions.resolve(s)
        live = [i for i in versions.records(s, "indicator", version) if i.kind == "specific" and i.status not in ("retired", "superseded")]
        hospital = sum(1 for i in live if any(c.startswith("21002") for c in i.sectors))
        hospital_2024 = sum(m.target_count for m in plan.milestones(s, 2024) if m.sector == "21002" and m.measure == "specific")
        progress = plan.progress(s, snapshot.load(s, version))
    for page in (html(client.get("/curator/plan/dashboard?version=2024.1")), html(seeded_app.test_client().get("/plan"))):
        row = page.split('data-scope="21002"')[1].split("</tr>")[0]
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert cells[0] == str(hospital) and cells[1].startswith(str(hospital_2024))
        assert f"{hospital} / {max(hospital_2024, 1)}" in page or f"{hospital} / {hospital_2024}" in page
        for y in progress.years:
            assert f"{y.done} / {y.target}" in page
        departments = page.split('id="departments-without"')[1].split("</ul>")[0]
        assert [c for c in re.findall(r'class="code">([^<]+)<', departments)] == [c for c, _ in progress.departments_without]
        zero = page.split('id="zero-results"')[1].split("</table>")[0]
        assert zero.index("无人机巡检") < zero.index("碳排放核算") and "<td class=\"num\">3</td>" in zero
        assert "日间手术占比" in page and "2 次" in page
    assert hospital >= 84 and progress.departments_without


def test_login_cookie_is_secure_when_served_over_https(app, database_url, tmp_path, monkeypatch):
    from server.app import create_app

    assert not app.config["SESSION_COOKIE_SECURE"]  # plain HTTP on an intranet by default
    monkeypatch.setenv("ZHIBIAO_SECURE_COOKIES", "1")
    https_app = create_app({"TESTING": True, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path),
                            "WTF_CSRF_ENABLED": False})
    make_user(https_app, "维护员")
    cookie = login(https_app.test_client()).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    https_app.extensions["zhibiao.engine"].dispose()


def test_accepting_a_proposal_carries_every_field_the_unit_gave(cur, web_app):
    form = {"name": "日间手术患者满意度", "sector": "21002", "level1": "满意度指标", "level2": "服务对象满意度指标",
            "unit": "%", "value": "≥90", "department": "市级综合医院", "project_type": "培训",
            "project": "日间手术中心建设", "proposer": "市第一人民医院", "reason": "新开日间手术中心"}
    assert web_app.test_client().post("/propose", data=form).status_code == 302
    odd = {**form, "name": "日间手术当日出院率", "department": "市卫健委下属某中心", "project_type": "奇怪类别"}
    assert web_app.test_client().post("/propose", data=odd).status_code == 302
    with db(web_app) as s:
        first, second = s.execute(select(ChangeRequest).order_by(ChangeRequest.id)).scalars().all()
    page = html(cur.get(f"/curator/proposals/{first.id}"))
    # the acceptance form starts from everything proposed: department and type resolved, the value kept
    assert "D-HOSP-GEN" in page and "PT-PX" in page and "≥90" in page and "提议单位建议值（日间手术中心建设）" in page
    from kb.library.proposals import indicator_draft
    from web.curator.forms import form_state, indicator_form

    with db(web_app) as s:
        draft = indicator_draft(first, "TY-21002-0009", s)
        unknown = indicator_draft(second, "TY-21002-0010", s)
    assert unknown["departments"] == [] and "提议的部门“市卫健委下属某中心”、项目类别“奇怪类别”不在库中" in unknown["note"]
    resp = cur.post(f"/curator/proposals/{first.id}/accept", data=form_state(indicator_form(draft)))
    assert resp.status_code == 302
    made = draft_indicator(web_app, "TY-21002-0009")
    assert (made.departments, made.project_types, made.unit) == (["D-HOSP-GEN"], ["PT-PX"], "%")
    assert made.reference_values[0]["value"] == "≥90" and made.reference_values[0]["basis"] == "计划标准"
    assert (made.level1, made.level2) == ("满意度指标", "服务对象满意度指标")


def _follow_job(cur, location: str, timeout: float = 60.0):
    """The job's page until it stops refreshing itself: the progress page, then where the job led."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        resp = cur.get(location)
        if resp.status_code != 200 or "http-equiv=\"refresh\"" not in html(resp) or time.monotonic() > deadline:
            return resp
        assert "正在导入" in html(resp) and "data-job=" in html(resp)
        time.sleep(0.05)


def test_a_big_import_is_applied_as_a_job_followed_on_its_page(cur, web_app):
    web_app.config["IMPORT_JOB_ROWS"] = 1
    page = html(upload(cur, workbook(GOOD_ROWS), kind="specific"))
    form = {k: hidden(page, k) for k in ("upload", "digest", "source_document", "kind", "provenance", "sheet")}
    resp = cur.post("/curator/import/apply", data=form)
    assert resp.status_code == 302 and "/curator/jobs/" in resp.headers["Location"]
    done = _follow_job(cur, resp.headers["Location"])
    assert done.status_code == 302 and "/curator/diff" in done.headers["Location"]
    assert draft_indicator(web_app, "HN-001").sectors == ["21002"]
    diff_page = html(cur.get(done.headers["Location"]))
    assert "已导入" in diff_page and "HN-002" in diff_page
    assert cur.post("/curator/import/apply", data=form).status_code == 404  # the upload is gone once applied


def test_a_big_import_is_checked_again_in_its_job_and_a_refusal_leaves_the_draft_unchanged(cur, web_app):
    """Above IMPORT_JOB_ROWS the confirmation only starts the job (the rows counted by the preview): planning the
    file again, comparing it with what the curator saw and the row checks all run in the job."""
    web_app.config["IMPORT_JOB_ROWS"] = 1
    unclassed = [[row[0], "", *row[2:]] for row in GOOD_ROWS]  # 指标类别 left to the form's setting
    page = html(upload(cur, workbook(unclassed), kind="specific"))
    form = {k: hidden(page, k) for k in ("upload", "digest", "source_document", "kind", "provenance", "sheet")}
    # a confirmation whose settings are not those of its preview (a forged form): the job, reading the file
    # again, finds each row's problem and refuses the whole import
    resp = cur.post("/curator/import/apply", data={**form, "kind": ""})
    assert resp.status_code == 302 and "/curator/jobs/" in resp.headers["Location"]
    refused = _follow_job(cur, resp.headers["Location"])
    assert refused.status_code == 409
    page = html(refused)
    assert "草稿未作任何改动" in page and "2 处错误" in page
    assert "卫生健康 第3行" in page and "卫生健康 第4行" in page and "指标类别" in page
    with db(web_app) as s:
        assert s.get(Indicator, "HN-001") is None
    # the draft moved on after the preview: the job refuses the import as the request would
    changed = [["T-002", "共性", "过程", "资金管理", "预算执行率", "%", "≥", "", "项目支出绩效评价管理办法"], GOOD_ROWS[0]]
    page = html(upload(cur, workbook(changed)))
    form = {k: hidden(page, k) for k in ("upload", "digest", "source_document", "kind", "provenance", "sheet")}
    cur.post("/curator/draft/T-002", data=edit_form(web_app, "T-002", unit="个"))
    resp = cur.post("/curator/import/apply", data=form)
    assert resp.status_code == 302 and "/curator/jobs/" in resp.headers["Location"]
    refused = _follow_job(cur, resp.headers["Location"])
    assert refused.status_code == 409 and "预览之后草稿已有变化" in html(refused)
    assert draft_indicator(web_app, "T-002").unit == "个"


def test_a_refused_import_job_shows_the_import_form_with_its_reasons(cur, web_app):
    from kb.library import import_jobs
    from kb.errors import InvalidInput, Problem

    def refused(session):
        raise InvalidInput("有 1 处编码或引用问题", [Problem("指标“HN-009”引用了不存在的指标“HN-404”", "引用完整性")])

    job = import_jobs.start_import(web_app.extensions["zhibiao.engine"], 3, refused, "维护员", {"filename": "大表.xlsx"})
    resp = _follow_job(cur, f"/curator/jobs/{job.id}")
    assert resp.status_code == 409
    page = html(resp)
    assert "“大表.xlsx”未导入" in page and "HN-404" in page and "草稿未作任何改动" in page

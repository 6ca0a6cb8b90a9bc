"""Curators edit the structured scoring rule of every leaf of an indicator system
(issue 18 part 4): several saves in a row, a bad rule refused naming its leaf with
the input kept, a stale save refused, and the publish gates checking rules."""
from __future__ import annotations

import json
import re

from kb.library import draft as library, versions
from kb.db import session as db_session
from tests.test_curator import cur, login, make_user, web_app  # noqa: F401

URL = "/curator/systems/SYS-DEMO/rules"


def _revision(html: str) -> str:
    return re.search(r'name="revision" value="(\d+)"', html).group(1)


def _rules(app) -> dict:
    with db_session(app.extensions["zhibiao.engine"]) as s:
        nodes = library.draft_record(s, "system", "SYS-DEMO").nodes
    return {leaf["indicator"]: leaf.get("rule") for group in nodes for leaf in group["children"]}


def test_the_rules_page_needs_a_login(web_app):
    resp = web_app.test_client().get(URL)
    assert resp.status_code in (302, 401) and "/curator/login" in resp.headers.get("Location", "/curator/login")


def test_a_curator_sets_rules_leaf_by_leaf_and_each_save_sticks(cur, web_app):
    page = cur.get("/curator/systems").get_data(as_text=True)
    assert "演示评价体系" in page and URL in page
    html = cur.get(URL).get_data(as_text=True)
    assert html.count("<textarea") == 3 and "评价人评定" in html  # no rule yet: judged
    first = {"csrf_token": "", "revision": _revision(html),
             "rule-0.0": '{"kind": "proportional", "target": 95}', "rule-0.1": "", "rule-1.0": ""}
    resp = cur.post(URL, data=first)
    assert resp.status_code == 302
    assert _rules(web_app) == {"T-001": {"kind": "proportional", "target": 95}, "T-002": None, "T-003": None}

    html = cur.get(URL).get_data(as_text=True)
    assert "比例计分：达到目标值 95 得满分" in html
    second = {**first, "revision": _revision(html), "rule-0.1": '{"kind": "ceiling", "target": 100, "per_point": 0.3}',
              "rule-1.0": '{"kind": "deduction", "per": "1/3"}'}
    assert cur.post(URL, data=second).status_code == 302
    third = {**second, "revision": _revision(cur.get(URL).get_data(as_text=True)), "rule-0.0": ""}
    assert cur.post(URL, data=third).status_code == 302
    assert _rules(web_app) == {"T-001": None, "T-002": {"kind": "ceiling", "target": 100, "per_point": 0.3},
                               "T-003": {"kind": "deduction", "per": "1/3"}}
    with db_session(web_app.extensions["zhibiao.engine"]) as s:
        log = library.change_log(s, "SYS-DEMO")
        assert len([c for c in log if c.action == "update"]) == 3
        versions.publish(s, "2024.2")  # the gates accept the rules
    assert json.loads(cur.get("/api/v1/systems/SYS-DEMO?version=2024.2").get_data(as_text=True))["code"] == "SYS-DEMO"


def test_a_bad_rule_is_refused_naming_its_leaf_and_the_input_stays(cur, web_app):
    html = cur.get(URL).get_data(as_text=True)
    bad = {"revision": _revision(html), "rule-0.0": '{"kind": "ceiling"}', "rule-0.1": "not json",
           "rule-1.0": '{"kind": "proportional", "target": 90}'}
    resp = cur.post(URL, data=bad)
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    assert "计分规则应为 JSON 对象" in text and "T-002" in text
    assert "not json" in text and "proportional" in text  # what was typed is still there
    bad["rule-0.1"] = ""
    resp = cur.post(URL, data=bad)
    assert resp.status_code == 422 and "缺少参数" in resp.get_data(as_text=True)
    assert _rules(web_app) == {"T-001": None, "T-002": None, "T-003": None}  # nothing saved


def test_a_stale_save_is_409_and_keeps_the_input(cur, web_app):
    old = _revision(cur.get(URL).get_data(as_text=True))
    assert cur.post(URL, data={"revision": old, "rule-0.0": '{"kind": "deduction", "per": 1}'}).status_code == 302
    resp = cur.post(URL, data={"revision": old, "rule-0.0": '{"kind": "deduction", "per": 2}'})
    assert resp.status_code == 409
    text = resp.get_data(as_text=True)
    assert "&#34;per&#34;: 2" in text or '"per": 2' in text
    assert _rules(web_app)["T-001"] == {"kind": "deduction", "per": 1}

"""XSS payloads in every text field render inert on every page."""
from __future__ import annotations

import shutil
import urllib.parse
from datetime import date

import pytest
import yaml

from importers import seed
from kb import auth as kbauth
from kb import db as kbdb
from kb import search
from kb.library import versions
from kb.models import ChangeRequest, QueryLog
from kb.plan.progress import replace_plan
from tests.conftest import FIXTURE_LIBRARY

PAYLOAD = '<script>alert("xss")</script><img src=x onerror=alert(1)>"\'&'
LIVE_MARKUP = ("<script>alert", "<img src=x", "onerror=alert(1)>")
PASSWORD = "correct horse battery staple"


def _text(field: str) -> str:
    return f"{field}{PAYLOAD}"


@pytest.fixture
def xss_app(tmp_path):
    from server.app import create_app

    root = tmp_path / "library"
    shutil.copytree(FIXTURE_LIBRARY, root)
    source = {"document": _text("文件"), "doc_number": _text("文号"), "issuer": _text("机关"), "url": _text("http://x/")}
    (root / "common" / "xss.yaml").write_text(yaml.safe_dump({
        "source": source, "provenance": "local",
        "indicators": [{"note": _text("备注"),
            "code": "XSS-001", "kind": "specific", "level1": "产出指标", "level2": "数量指标", "name": _text("指标"),
            "definition": _text("解释"), "formula": _text("公式"), "unit": "<b>", "operator": "≥",
            "scoring_rule": _text("评分"), "data_source": _text("数据"), "keywords": [_text("词")],
            "reference_values": [{"value": _text("值"), "basis": "计划标准", "note": _text("说明")}],
            "sectors": ["21002"], "departments": ["D-HOSP-GEN"], "project_types": ["PT-PX"],
        }],
    }, allow_unicode=True), encoding="utf-8")
    (root / "systems" / "xss.yaml").write_text(yaml.safe_dump({
        "code": "SYS-XSS", "name": _text("体系"), "description": _text("说明"), "source": source, "provenance": "local",
        "nodes": [{"name": _text("分组"), "weight": 100, "children": [
            {"indicator": "XSS-001", "weight": 100, "scoring_rule": _text("叶评分")}]}],
    }, allow_unicode=True), encoding="utf-8")
    (root / "quotas" / "xss.yaml").write_text(yaml.safe_dump({
        "source": source, "provenance": "local", "quotas": [{
            "code": "Q-XSS-1", "name": _text("标准"), "category": "<i>类别", "tier": _text("档次"), "unit": "元/人·天",
            "amount": 100, "items": [{"name": _text("分项"), "amount": 100}], "conditions": [_text("条件")],
            "scope": _text("范围"), "adjustments": _text("折算"), "effective_date": "2020-01-01"}],
    }, allow_unicode=True), encoding="utf-8")

    data_dir = tmp_path / "instance"
    url = f"sqlite:///{tmp_path / 'xss.sqlite3'}"
    engine = kbdb.make_engine(url)
    kbdb.upgrade(engine)
    problems = seed.read_directory(root).problems
    assert not problems, [str(p) for p in problems]
    with kbdb.session(engine) as s:
        seed.load_into(s, root)
        replace_plan(s, [{"year": 2024, "theme": _text("主题"), "plan_name": _text("规划")}], [{
            "code": "M2024-01", "year": 2024, "title": _text("里程碑"), "sector": "21002", "measure": "specific",
            "target_count": 5, "due_date": date(2024, 12, 31), "owner": _text("责任"), "note": _text("备注")}])
        versions.publish(s, "2024.1", notes=_text("说明"), after_snapshot=search.publish_hook(data_dir / "index"))
        kbauth.create_user(s, "维护员", PASSWORD, "curator")
        s.add(ChangeRequest(proposer=_text("单位"), sector="21002", name=_text("提议"), data={"definition": _text("定义")}))
        s.add(QueryLog(query=_text("检索"), normalized=_text("检索"), total=0))
        s.commit()
    engine.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "DATA_DIR": str(data_dir), "WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["zhibiao.engine"].dispose()


def _get_paths(app) -> list[str]:
    """Every GET page of the web blueprints, with its parameters filled in."""
    values = {"code": "XSS-001", "request_id": "1", "year": "2024"}
    special = {"/systems/<code>": "/systems/SYS-XSS", "/quotas/<code>": "/quotas/Q-XSS-1",
               "/curator/plan/milestones/<code>": "/curator/plan/milestones/M2024-01"}
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api", "/static", "/reconcile")) or "static" in rule.endpoint:
            continue
        path = special.get(rule.rule, rule.rule)
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", values.get(arg, "x")).replace(f"<int:{arg}>", values.get(arg, "1"))
        paths.append(path)
    return sorted(set(paths))


def test_payloads_in_every_text_field_render_inert_on_every_page(xss_app):
    client = xss_app.test_client()
    assert client.post("/curator/login", data={"name": "维护员", "password": PASSWORD}).status_code in (302, 303)
    q = urllib.parse.quote(PAYLOAD)
    paths = _get_paths(xss_app)
    assert len(paths) > 20, paths
    checked = 0
    for path in paths + [f"/search?q={q}", f"/search?q={urllib.parse.quote('指标')}", f"/indicators/XSS-001?version={q}",
                         f"/quotas?q={q}", f"/curator/draft?q={q}", "/curator/diff?a=2024.1&b=draft"]:
        resp = client.get(path)
        assert resp.status_code < 500, path
        if not resp.mimetype.startswith("text/html"):
            continue
        body = resp.get_data(as_text=True)
        for live in LIVE_MARKUP:
            assert live not in body, f"{path} renders {live!r} as markup"
        checked += 1
    assert checked > 20
    # the payload did reach the pages, escaped: the test would see it if it were live
    body = client.get("/indicators/XSS-001").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in body

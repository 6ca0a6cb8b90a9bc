"""One shape per result: the same search, typeahead, suggestion and estimate asked of the REST API, of the
page's JSON twin and of `zhibiao … --json` on one instance give the same documents, key for key and value
for value (kb.result_schemas is the one place they are written)."""
import json

import pytest

from kb.result_schemas import RecommendationSchema, SearchHitSchema
from tests.page_helpers import csrf_token, targets_app  # noqa: F401

TRAINING = {"name": "全市基层卫生人员业务培训", "description": "举办三类培训班2期，每期80人，每期3天", "sector": "210",
            "budget_wan_yuan": 30}


@pytest.fixture
def zhibiao(targets_app, monkeypatch, capsys):  # noqa: F811
    """The `zhibiao` command on the app's own instance (database and search indexes): its parsed --json."""
    from api.cli import main

    monkeypatch.setenv("ZHIBIAO_DATA_DIR", targets_app.config["DATA_DIR"])
    monkeypatch.setenv("ZHIBIAO_DATABASE_URL", targets_app.config["DATABASE_URL"])

    def run(*args):
        with pytest.raises(SystemExit) as info:
            main([*args, "--json"])
        out, err = capsys.readouterr()
        assert info.value.code == 0, err
        return json.loads(out)
    return run


@pytest.fixture
def client(targets_app):  # noqa: F811
    return targets_app.test_client()


def test_a_search_gives_the_same_hits_through_the_api_the_page_and_the_command(client, zhibiao):
    api = client.get("/api/v1/indicators", query_string={"q": "满意度"}).get_json()
    page = client.get("/search.json", query_string={"q": "满意度"}).get_json()
    command = zhibiao("search", "满意度")
    assert api["total"] >= 3 and api["results"][0]["highlight"].count("<mark>") >= 1
    assert set(api["results"][0]) == set(SearchHitSchema().fields)  # every field of a hit, none made up
    api.pop("links")  # the API's own: the other pages' URLs
    assert page == api
    assert command == api


def test_a_typeahead_gives_the_same_completions_through_the_api_and_the_page(client):
    api = client.get("/api/v1/complete", query_string={"q": "manyidu", "limit": 8}).get_json()
    page = client.get("/complete.json", query_string={"q": "manyidu"}).get_json()
    assert api["completions"] and page == api


def test_a_suggestion_is_the_same_through_the_api_the_page_and_the_command(client, zhibiao):
    api = client.post("/api/v1/suggest", json=TRAINING).get_json()
    page = client.post("/draft/suggest.json", json={"project": TRAINING},
                       headers={"X-CSRFToken": csrf_token(client)}).get_json()
    command = zhibiao("suggest", "--name", TRAINING["name"], "--description", TRAINING["description"],
                      "--sector", TRAINING["sector"], "--budget", str(TRAINING["budget_wan_yuan"]))
    assert api["indicators"] and api["quotas"] and api["estimate"]["lines"] and api["table"]["indicators"]
    assert set(api) == set(RecommendationSchema().fields)
    assert page == api
    assert command == api


def test_an_estimate_is_the_same_through_the_api_and_the_page(client):
    api = client.post("/api/v1/quotas/estimate", json=TRAINING).get_json()
    page = client.post("/draft/quotas.json", json={"project": TRAINING},
                       headers={"X-CSRFToken": csrf_token(client)}).get_json()
    assert api["estimate"]["total_yuan"] == 550 * 3 * 80 * 2 and page == api
    suggested = client.post("/api/v1/suggest", json=TRAINING).get_json()
    assert suggested["quotas"] == api["quotas"] and suggested["estimate"] == api["estimate"]


@pytest.mark.parametrize("fragment, source, given", [
    ("门诊患者<mark>满意度</mark>", "门诊患者满意度", "门诊患者<mark>满意度</mark>"),  # what kb.search makes
    ("…对医疗服务的<mark>满意</mark>程度…", "患者对医疗服务的满意程度调查", "…对医疗服务的<mark>满意</mark>程度…"),
    ("<mark>R&amp;D</mark>投入", "R&D投入", "<mark>R&amp;D</mark>投入"),  # escaped text is trusted too
    ("<img src=x onerror=alert(1)>满意度", "满意度", "满意度"),  # anything else: the source as text
    ("<mark>满意度</mark><script>", "<b>满意度</b>", "&lt;b&gt;满意度&lt;/b&gt;"),
    ("", "满意度", ""),
])
def test_a_highlight_is_given_out_only_when_it_is_the_escaped_text_with_marks(fragment, source, given):
    from kb.search.query import trusted_fragment

    assert trusted_fragment(fragment, source) == given


def test_a_check_a_monitoring_and_a_self_evaluation_are_the_same_through_the_api_the_page_and_the_command(
        client, zhibiao, tmp_path):
    """The check, monitor and evaluate results are written by kb.result_schemas for all three interfaces; the
    API used to drop a fix row's `actual` and `self_score`, which the page and the command kept."""
    from dataclasses import fields as dataclass_fields

    from kb.result_schemas import TargetRowOutSchema
    from kb.targets.table import TargetRow
    from tests.openapi_examples import EVALUATED, MONITORED

    assert set(TargetRowOutSchema().fields) == {f.name for f in dataclass_fields(TargetRow)}
    token = {"X-CSRFToken": csrf_token(client)}
    unchecked = {"project": TRAINING, "goal": "完成培训",
                 "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "operator": "≥",
                                 "value": "160", "unit": "人次", "actual": "150", "self_score": 9}]}
    for operation, table in (("check", unchecked), ("monitor", MONITORED), ("evaluate", EVALUATED)):
        api = client.post(f"/api/v1/targets/{operation}", json=table).get_json()
        page = client.post(f"/draft/{operation}.json", json=table, headers=token).get_json()
        path = tmp_path / f"{operation}.json"
        path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
        command = zhibiao(operation, str(path))
        assert api == page == command, operation
    fixes = [f["fix"]["row"] for f in api_check(client, unchecked)["findings"] if f.get("fix") and f["fix"].get("row")]
    assert fixes and all({"actual", "self_score"} <= set(row) for row in fixes)


def api_check(client, table):
    return client.post("/api/v1/targets/check", json=table).get_json()


def test_the_suggestions_fast_writer_gives_what_marshmallow_gives(targets_app):  # noqa: F811
    """A recommendation's suggestions are written by PlainDump (kb.result_schemas.PlainList); the answer must be
    the one List(Nested(SuggestionSchema)) gives, which is what the OpenAPI document describes."""
    from marshmallow import Schema, fields

    from kb import db as kbdb
    from kb.result_schemas import SuggestionSchema
    from kb.targets.recommend import recommend
    from server.db import index_dir

    class Slow(Schema):
        indicators = fields.List(fields.Nested(SuggestionSchema))

    with targets_app.app_context(), kbdb.session(targets_app.extensions["zhibiao.engine"]) as s:
        rec = recommend(s, index_dir(), TRAINING)
    assert len(rec.indicators) >= 10 and any(i.cases for i in rec.indicators) or rec.indicators
    assert RecommendationSchema().dump(rec)["indicators"] == Slow().dump(rec)["indicators"]
    spec = targets_app.extensions["zhibiao.api"].spec.to_dict()["components"]["schemas"]["Recommendation"]
    assert spec["properties"]["indicators"]["items"] == {"$ref": "#/components/schemas/Suggestion"}

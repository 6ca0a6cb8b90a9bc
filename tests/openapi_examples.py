"""The example of every API operation in the OpenAPI document is a real exchange with the fixture library
(and one real case: tests.conftest.examples_library):
these requests, sent in this order to a fresh copy of it, answered what api/openapi_examples.json holds
(lists cut to two items). tests/test_api_examples.py sends them again and fails when an answer no longer
has the shape of its example, so the examples cannot drift from the API.

Regenerate after changing an operation:  .venv/bin/python -m tests.openapi_examples
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

EXAMPLES_FILE = Path(__file__).resolve().parent.parent / "api" / "openapi_examples.json"

NEW_INDICATOR = {
    "code": "T-010", "kind": "specific", "level1": "产出指标", "level2": "数量指标", "name": "家庭医生签约人数",
    "definition": "年度内与家庭医生团队签订服务协议的居民人数", "unit": "人", "operator": "≥", "direction": "up",
    "sectors": ["21002"], "source": {"document": "本库整理"}, "provenance": "local",
}
PROJECT = {"name": "全市基层卫生人员业务培训", "description": "举办三类培训班，3 天 100 人，培训基层医务人员",
           "sector": "21002", "budget_wan_yuan": 30}
TABLE = {
    "project": {"name": "全市基层卫生人员业务培训", "sector": "210", "budget_wan_yuan": 30},
    "goal": "年内举办培训班2期，培训160人次，受训学员满意度不低于90%。",
    "indicators": [
        {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "operator": "≥", "value": "160", "unit": "人次"},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "受训学员满意度", "operator": "≥", "value": "90",
         "unit": "%"}],
}
MONITORED = {
    "project": {"name": "2024年农村公路养护工程", "budget_wan_yuan": 800, "budget_executed_wan_yuan": 600,
                "as_of": "2024-06-30"},
    "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "养护里程", "operator": "≥", "value": "120",
                    "unit": "公里", "actual": "40"}],
}
EVALUATED = {
    "project": {"name": "2024年农村公路养护工程", "budget_wan_yuan": 800, "budget_executed_wan_yuan": 760},
    "indicators": [{"level1": "产出指标", "level2": "数量指标", "name": "养护里程", "operator": "≥", "value": "120",
                    "unit": "公里", "actual": "108", "self_score": 50}],
}
UNITS = {"units": [
    {"name": "市第一人民医院", "values": {"T-001": "100%", "T-002": "96%", "T-003": "0.8%"}},
    {"name": "市中医医院", "values": {"T-001": "95%", "T-002": "88%", "T-003": "1.2%"}},
]}

# (operation, URL sent, JSON body or None, If-Match or None), in the order they are sent: the draft is changed
# before the diff that shows it, the round is saved before it is read, the publish starts the job read last.
REQUESTS = [
    ("get /api/v1/indicators", "/api/v1/indicators?q=资金&per_page=2", None, None),
    ("get /api/v1/indicators/{code}", "/api/v1/indicators/T-001", None, None),
    ("get /api/v1/indicators/{code}/history", "/api/v1/indicators/T-001/history", None, None),
    ("get /api/v1/complete", "/api/v1/complete?q=yusuan", None, None),
    ("get /api/v1/systems", "/api/v1/systems", None, None),
    ("get /api/v1/systems/{code}", "/api/v1/systems/SYS-DEMO", None, None),
    ("get /api/v1/taxonomy/sectors", "/api/v1/taxonomy/sectors", None, None),
    ("get /api/v1/taxonomy/departments", "/api/v1/taxonomy/departments", None, None),
    ("get /api/v1/taxonomy/project-types", "/api/v1/taxonomy/project-types", None, None),
    ("get /api/v1/versions", "/api/v1/versions", None, None),
    ("get /api/v1/versions/{label}", "/api/v1/versions/2024.1", None, None),
    ("get /api/v1/plan", "/api/v1/plan", None, None),
    ("get /api/v1/quotas", "/api/v1/quotas?q=会议", None, None),
    ("get /api/v1/quotas/{code}", "/api/v1/quotas/Q-T-1", None, None),
    ("get /api/v1/cases", "/api/v1/cases?q=麻风病", None, None),
    ("get /api/v1/cases/{code}", "/api/v1/cases/CASE-210-001", None, None),
    ("post /api/v1/quotas/estimate", "/api/v1/quotas/estimate", PROJECT, None),
    ("post /api/v1/suggest", "/api/v1/suggest", PROJECT, None),
    ("post /api/v1/targets/check", "/api/v1/targets/check", TABLE, None),
    ("post /api/v1/targets/monitor", "/api/v1/targets/monitor", MONITORED, None),
    ("post /api/v1/targets/evaluate", "/api/v1/targets/evaluate", EVALUATED, None),
    ("post /api/v1/draft/indicators", "/api/v1/draft/indicators", NEW_INDICATOR, None),
    ("patch /api/v1/draft/indicators/{code}", "/api/v1/draft/indicators/T-010",
     {"definition": "年度内与家庭医生团队签订服务协议的常住居民人数"}, '"1"'),
    ("post /api/v1/draft/indicators/{code}/retire", "/api/v1/draft/indicators/T-004/retire",
     {"superseded_by": "T-010"}, '"1"'),
    ("post /api/v1/draft/import", "/api/v1/draft/import?dry_run=1",
     {"format": "zhibiao-library", "indicators": [{**NEW_INDICATOR, "code": "T-011", "name": "慢病患者规范管理率",
                                                   "definition": "规范管理的慢病患者数占登记慢病患者数的比例",
                                                   "unit": "%"},
                                                  {"code": "T-012", "kind": "common", "level1": "产出指标", "level2": "质量指标",
                                                   "name": "资金到位率", "unit": "%", "project_types": ["PT-PX"],
                                                   "source": {"document": "本库整理"}, "provenance": "local"}]}, None),
    ("get /api/v1/versions/{a}/diff/{b}", "/api/v1/versions/2024.1/diff/draft", None, None),
    ("post /api/v1/systems/{code}/score", "/api/v1/systems/SYS-DEMO/score", UNITS, None),
    ("get /api/v1/systems/{code}/rounds", "/api/v1/systems/SYS-DEMO/rounds", None, None),
    ("get /api/v1/systems/{code}/rounds/{round_id}", "/api/v1/systems/SYS-DEMO/rounds/1", None, None),
    ("post /api/v1/versions", "/api/v1/versions", {"label": "2024.2", "notes": "新增家庭医生签约人数；培训人次停用"}, None),
    ("get /api/v1/jobs/{job_id}", "/api/v1/jobs/1", None, None),
]


def trimmed(value, items: int = 2):
    """The answer as an example shows it: every list cut to its first `items`."""
    if isinstance(value, dict):
        return {k: trimmed(v, items) for k, v in value.items()}
    if isinstance(value, list):
        return [trimmed(v, items) for v in value[:items]]
    return value


def exchanges(client, headers: dict):
    """Send REQUESTS in order: (operation, URL, body, status, answer) for each."""
    for operation, url, body, if_match in REQUESTS:
        method = operation.split(" ", 1)[0]
        sent = {**headers, **({"If-Match": if_match} if if_match else {})}
        resp = client.open(url, method=method.upper(), json=body, headers=sent) if body is not None else \
            client.open(url, method=method.upper(), headers=sent)
        deadline = time.monotonic() + 60
        # the job's example shows a finished publish; the job also has to end before its database goes
        while url.startswith("/api/v1/jobs/") and resp.get_json().get("status") in ("queued", "running") \
                and time.monotonic() < deadline:
            time.sleep(0.05)
            resp = client.get(url, headers=sent)
        yield operation, url, body, resp.status_code, resp.get_json()


def main() -> None:
    from server.app import create_app
    from tests.api_helpers import curator
    from tests.conftest import examples_library

    with tempfile.TemporaryDirectory() as where:
        url = f"sqlite:///{where}/examples.db"
        examples_library(url)
        app = create_app({"TESTING": True, "DATABASE_URL": url, "DATA_DIR": where})
        client, headers = app.test_client(), curator(app)
        examples = {}
        for operation, sent_url, body, status, answer in exchanges(client, headers):
            if status >= 400:
                raise SystemExit(f"{operation}: {status} {answer}")
            examples[operation] = {"url": sent_url, "status": status, **({"request": body} if body is not None else {}),
                                   "response": trimmed(answer)}
        app.extensions["zhibiao.engine"].dispose()
    EXAMPLES_FILE.write_text(json.dumps(examples, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(examples)} examples → {EXAMPLES_FILE}")


if __name__ == "__main__":
    main()

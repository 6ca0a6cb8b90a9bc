"""A page-test app on the fixture library with the recommend/check overlay
(tests/fixtures/targets) and a replaced quota standard, published as 2024.2
on top of the conftest's 2024.1; and helpers the page tests share."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kb.library import versions
from kb.library.draft import create_record

TARGETS_OVERLAY = Path(__file__).parent / "fixtures" / "targets"
OLD_MEETING = {
    "code": "Q-WEB-HY-2013", "name": "一类会议综合定额（2013年）", "category": "会议费", "tier": "一类会议",
    "unit": "元/人·天", "amount": 660, "items": [{"name": "住宿费", "amount": 400}, {"name": "伙食费", "amount": 150},
                                               {"name": "其他费用", "amount": 110}],
    "effective_date": "2014-01-01", "status": "superseded",
    "source": {"document": "中央和国家机关会议费管理办法", "doc_number": "财行〔2013〕286号"}, "provenance": "verbatim",
}
NEW_MEETING = {
    "code": "Q-WEB-HY-2016", "name": "一类会议综合定额（2016年）", "category": "会议费", "tier": "一类会议",
    "unit": "元/人·天", "amount": 760, "items": [{"name": "住宿费", "amount": 500}, {"name": "伙食费", "amount": 150},
                                               {"name": "其他费用", "amount": 110}],
    "effective_date": "2016-07-01", "supersedes": "Q-WEB-HY-2013",
    "source": {"document": "中央和国家机关会议费管理办法", "doc_number": "财行〔2016〕214号"}, "provenance": "verbatim",
}


def add_targets_overlay(session) -> None:
    """Publish 2024.2: the targets overlay and a replaced meeting standard on top of what is there."""
    from importers import seed

    seed.load_into(session, TARGETS_OVERLAY)
    create_record(session, "quota", OLD_MEETING)
    create_record(session, "quota", NEW_MEETING)
    versions.publish(session, "2024.2", notes="targets overlay")


@pytest.fixture
def targets_app(app):
    """`app` with 2024.2 = fixture library + targets overlay + a replaced meeting standard (current);
    prepared in its template (tests/conftest.py)."""
    return app


@pytest.fixture
def targets_client(targets_app):
    return targets_app.test_client()


def text_of(resp) -> str:
    return resp.get_data(as_text=True)


def csrf_token(client, path: str = "/draft") -> str:
    """The token a page carries (meta csrf-token or a form's csrf_token field)."""
    html = text_of(client.get(path))
    m = re.search(r'name="csrf[-_]token"[^>]*(?:content|value)="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)

"""The quota pages through the Flask client: browsing, one standard, the calculator and its errors."""
import pytest
from tests.page_helpers import targets_app, targets_client, text_of  # noqa: F401


@pytest.fixture(scope="module")
def targets_client(shared_targets_app):
    """Every test here only reads: one app per backend for the whole module."""
    return shared_targets_app.test_client()


def test_quotas_page_lists_categories_tiers_documents_and_marks_replaced_ones(targets_client):
    resp = targets_client.get("/quotas")
    assert resp.status_code == 200
    html = text_of(resp)
    for text in ("会议费", "培训费", "差旅费", "三类培训", "财行〔2016〕214号", "2016-07-01", "已替代", "现行"):
        assert text in html, text
    # the replaced standard is listed, marked, and points at its successor
    assert "一类会议综合定额（2013年）" in html and "财行〔2013〕286号" in html
    assert 'class="status-superseded"' in html
    assert "已被 <a href=\"/quotas/Q-WEB-HY-2016" in html


def test_quotas_filter_by_category_tier_and_current_only(targets_client):
    html = text_of(targets_client.get("/quotas?category=会议费"))
    assert "一类会议" in html and "讲课费（正高级" not in html
    html = text_of(targets_client.get("/quotas?category=会议费&tier=一类会议&current=1"))
    assert "一类会议综合定额（2016年）" in html and "一类会议综合定额（2013年）" not in html and "二类会议综合定额" not in html
    resp = targets_client.get("/quotas?category=不存在的类别")
    assert resp.status_code == 400 and "没有“不存在的类别”类的支出标准" in text_of(resp)


def test_quota_page_shows_document_dates_and_replacement(targets_client):
    html = text_of(targets_client.get("/quotas/Q-WEB-HY-2013"))
    assert "本标准已被" in html and "一类会议综合定额（2016年）" in html and "2014-01-01" in html
    html = text_of(targets_client.get("/quotas/Q-WEB-HY-2016"))
    assert "替代" in html and "财行〔2013〕286号" in html and "住宿费：500" in html
    resp = targets_client.get("/quotas/NOPE")
    assert resp.status_code == 404 and "未找到" in text_of(resp)


def test_calculator_multiplies_people_days_and_breaks_down_items(targets_client):
    resp = targets_client.get("/quotas/calculator?code=Q-HYF-2016-2&people=100&days=2")
    assert resp.status_code == 200
    html = text_of(resp)
    assert "130000 元" in html  # 650 × 2 × 100
    assert "二类会议综合定额：650元/人·天 × 2天 × 100人 = 130000元" in html
    assert "80000" in html and "30000" in html and "20000" in html  # 住宿 400, 伙食 150, 其他 100 × 200 人·天


def test_calculator_json_twin(targets_client):
    data = targets_client.get("/quotas/calculator.json?code=Q-PXF-2016-3&people=50&days=3").get_json()
    assert data["total_yuan"] == 550 * 3 * 50 and data["version"] == "2024.2"
    assert data["factors"] == [{"value": 3, "what": "天"}, {"value": 50, "what": "人"}]
    lecture = targets_client.get("/quotas/calculator.json?code=Q-JKF-2016-2&hours=4").get_json()
    assert lecture["total_yuan"] == 4000
    resp = targets_client.get("/quotas/calculator.json?code=Q-PXF-2016-3&people=50")
    assert resp.status_code == 400 and "天数" in resp.get_json()["message"]


def test_calculator_refuses_bad_input_with_a_chinese_message(targets_client):
    for query, message in (("code=Q-HYF-2016-2&people=abc&days=2", "人数“abc”应为大于0的数字"),
                           ("code=Q-HYF-2016-2&people=-5&days=2", "应为大于0的数字"),
                           ("code=Q-HYF-2016-2&people=10", "请填写天数"),
                           ("code=Q-JKF-2016-2&people=10", "请填写学时数")):
        resp = targets_client.get(f"/quotas/calculator?{query}")
        assert resp.status_code == 400 and message in text_of(resp), query
        assert 'value="' in text_of(resp)  # the form keeps what was typed
    resp = targets_client.get("/quotas/calculator?code=NOPE&people=1&days=1")
    assert resp.status_code == 404 and "未找到" in text_of(resp)
    assert targets_client.get("/quotas/calculator").status_code == 200  # an empty calculator


def test_quota_pages_pin_versions(targets_client):
    html = text_of(targets_client.get("/quotas?version=2024.1"))
    assert "三类会议综合定额" in html and "二类会议综合定额" not in html
    resp = targets_client.get("/quotas?version=1999.1")
    assert resp.status_code == 404 and "未找到版本" in text_of(resp)


def test_quotas_found_by_words(targets_client):
    html = text_of(targets_client.get("/quotas?q=西藏"))
    assert "伙食补助费（西藏、青海、新疆）</a>" in html and "三类培训综合定额</a>" not in html
    html = text_of(targets_client.get("/quotas?q=没有这种标准"))
    assert "没有符合条件的支出标准" in html

"""Dates as finance offices write them: a day (2024-06-30, 2024年6月30日, an
Excel date) and a deadline in a 时效 target ("12月31日前", "2024年10月底前",
"年底前", "上半年", "第三季度末"), which needs the budget year when it names none."""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime

_DAY_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_MONTH_DAY_RE = re.compile(r"(?:(\d{4})\s*年)?\s*(\d{1,2})\s*月\s*(?:(\d{1,2})\s*[日号]|(底|末|中旬|上旬|下旬))?")
_ISO_IN_TEXT_RE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_QUARTERS = {"一": 3, "1": 3, "二": 6, "2": 6, "三": 9, "3": 9, "四": 12, "4": 12}
_QUARTER_RE = re.compile(r"第?([一二三四1-4])季度")


def parse_day(value) -> date | None:
    """One calendar day, or None: "2024-06-30", "2024/6/30", "2024.6.30", "2024年6月30日", a date object."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = _DAY_RE.match(str(value or ""))
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def deadline(text: str, year: int) -> date | None:
    """The last day a 时效 target allows ("12月31日前" in 2024 → 2024-12-31), or None when the text names no date.

    A month alone, 月底 and 月末 mean the month's last day; 上旬 the 10th, 中旬 the 20th; 年底/年末/年内/
    全年 the 31st of December; 上半年 the 30th of June; a quarter its last day.
    """
    text = (text or "").strip()
    if not text:
        return None
    day = parse_day(text)
    if day:
        return day
    m = _ISO_IN_TEXT_RE.search(text)
    if m:
        return parse_day(m.group(0))
    m = _MONTH_DAY_RE.search(text)
    if m and 1 <= int(m.group(2)) <= 12:
        y, month = int(m.group(1) or year), int(m.group(2))
        if m.group(3):
            try:
                return date(y, month, int(m.group(3)))
            except ValueError:
                return None
        return date(y, month, {"上旬": 10, "中旬": 20}.get(m.group(4) or "", 0)) if m.group(4) in ("上旬", "中旬") \
            else _month_end(y, month)
    m = _QUARTER_RE.search(text)
    if m:
        return _month_end(year, _QUARTERS[m.group(1)])
    if "上半年" in text:
        return date(year, 6, 30)
    if any(w in text for w in ("年底", "年末", "年内", "全年", "下半年", "本年度", "年度内")):
        return date(year, 12, 31)
    return None


def year_share(day: date) -> float:
    """The share of its year that has passed by the end of `day` (30 June → 0.496)."""
    days = 366 if calendar.isleap(day.year) else 365
    return day.timetuple().tm_yday / days

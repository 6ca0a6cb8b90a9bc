"""Numbers as drafters write them: 120000, 1,200, 1.2万, 95%, 三, 十五, 两, 一百二十."""
from __future__ import annotations

import re

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}

CHINESE_NUMERAL = "[零〇一二两三四五六七八九十百千万]+"  # for regular expressions
_ARABIC_RE = re.compile(r"^(\d[\d,，]*(?:\.\d+)?)\s*([万亿]?)$")


def chinese_to_number(text: str) -> int | None:
    """十五 → 15, 一百二十 → 120, 两 → 2, 三千五百 → 3500, 1.2万 is to_number’s."""
    if not text or any(c not in _DIGITS and c not in _UNITS and c not in _BIG for c in text):
        return None
    total, section, digit = 0, 0, None
    for c in text:
        if c in _DIGITS:
            digit = _DIGITS[c]
        elif c in _UNITS:
            section += (1 if digit is None else digit) * _UNITS[c]
            digit = None
        else:  # 万 / 亿 close a section
            section += digit or 0
            total += (section or 1) * _BIG[c]
            section, digit = 0, None
    return total + section + (digit or 0)


def to_number(text: str) -> float | None:
    """One number, Arabic or Chinese, with an optional 万/亿 multiplier; None if it is not one."""
    text = (text or "").strip()
    if not text:
        return None
    m = _ARABIC_RE.match(text)
    if m:
        value = float(m.group(1).replace(",", "").replace("，", ""))
        return value * _BIG.get(m.group(2), 1) if m.group(2) else value
    value = chinese_to_number(text)
    return float(value) if value is not None else None


def fmt(value: float) -> str:
    """1650.0 → "1650", 0.5 → "0.5", 12345.678 → "12345.68"."""
    v = round(float(value), 2)
    return str(int(v)) if v.is_integer() else f"{v:g}"


# an amount's unit → 万元 per one of it; the longest first, so 万元 is not read as 元
_AMOUNT_UNITS = (("亿元", 10_000.0), ("万元", 1.0), ("千元", 0.1), ("亿", 10_000.0), ("万", 1.0), ("元", 0.0001))


def to_wan_yuan(text: str) -> float | None:
    """An amount as people write it → 万元: "800", "800万元", "八百万", "1.2亿", "3,000,000元", "一千二百万元".

    A bare number is already in 万元 (the field says so); None when it is not an amount."""
    text = re.sub(r"\s+", "", text or "")
    for unit, factor in _AMOUNT_UNITS:
        if text.endswith(unit):
            number = to_number(text[: -len(unit)])
            return None if number is None else number * factor
    return to_number(text)


# A budget stated in a text: an amount after a word that names money (预算800万元, 总投资1.2亿元, 资金八百万), or any
# amount in 万元/亿元 (1.2亿元). Bare numbers and 元 amounts without such a word are too often a unit price.
_NUM = r"(?:\d[\d,，]*(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)"
_STATED_BUDGET_RE = re.compile(
    rf"(?:预算|资金|投资|经费|总额|拨款|金额)[^，。；;,\d零〇一二两三四五六七八九十百千]{{0,8}}(?P<a>{_NUM}\s*(?:亿元|万元|千元|元|亿|万))"
    rf"|(?<![每均\d.])(?P<b>{_NUM}\s*(?:亿元|万元))")


def stated_budget(text: str) -> tuple[float, str] | None:
    """The first budget a text states, in 万元, with the words it was read from: "预算800万元" → (800.0, "800万元")."""
    for m in _STATED_BUDGET_RE.finditer(text or ""):
        phrase = (m.group("a") or m.group("b")).strip()
        value = to_wan_yuan(phrase)
        if value is not None and value > 0:
            return value, phrase
    return None

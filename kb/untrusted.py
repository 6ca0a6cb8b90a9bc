"""What untrusted input may be, checked once where it enters (request bodies,
query strings, uploaded JSON, the command line), so no view, loader or
database ever meets it raw.

- JSON: nesting at most MAX_DEPTH deep, no NaN or Infinity, integers of at
  most MAX_INT_DIGITS digits (a 400-digit number is no budget, and turning it
  into a float overflows).
- Text: no NUL (PostgreSQL cannot store it) and no lone surrogate (half of a
  UTF-16 pair, which no encoder can write).

Every refusal is a MalformedInput (HTTP 400) with a Chinese message; its subclass says which kind.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from kb.errors import KbError

MAX_DEPTH = 64
MAX_INT_DIGITS = 30
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


class MalformedInput(KbError):
    status = 400
    error = "malformed_request"
    meaning = "请求无法处理"


class InvalidJson(MalformedInput):
    """JSON that does not parse, or that no budget needs: too deep, NaN, a number of hundreds of digits."""
    error = "invalid_json"
    meaning = "JSON 格式错误、嵌套过深或含非有限数值、超长数字"


class UnusableText(MalformedInput):
    """Text with NUL or a lone surrogate: it cannot be stored, so it is refused where it enters."""
    error = "invalid_characters"
    meaning = "文字中含有 NUL 控制字符或无法编码的字符"


class NotANumber(MalformedInput):
    error = "invalid_number"
    meaning = "应为整数，或超出允许的范围"


def text_problem(value: str) -> str | None:
    """Why this text cannot be taken, or None."""
    match = _BAD_CHARS.search(value)
    if match is None:
        return None
    return "含有 NUL 控制字符" if match.group() == "\x00" else "含有无法编码的字符（不成对的代理码位）"


def check_text(value: str, what: str = "输入") -> str:
    problem = text_problem(value)
    if problem:
        raise UnusableText(f"{what}{problem}，无法处理")
    return value


def clean_text(value: str) -> str:
    """The text without NUL and lone surrogates (for what is only logged, never refused)."""
    return _BAD_CHARS.sub("", value)


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise InvalidJson(f"数字过长（超过 {MAX_INT_DIGITS} 位）")
    return int(digits)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJson("数字超出范围")
    return value


def _constant(name: str):
    raise InvalidJson(f"JSON 中不能使用 {name}（非有限数值）")


# Where a parsed document's text could hold NUL or a lone surrogate: as such a character in the raw text (a str
# given to loads; JSON refuses raw control characters in strings), or as a \u escape of one. A document without
# any needs no look at its strings, which for 50,000 records is most of the time spent here (seconds).
_MAYBE_BAD = re.compile(r"[\x00\ud800-\udfff]|\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _walk(value: Any, texts: bool = True) -> None:
    """Depth (and, when `texts`, the text) of a parsed document, iteratively (no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if texts:
                for key in item:
                    check_text(key, "JSON 中的键名")
            children = item.values()
        else:
            children = item
        if children and depth >= MAX_DEPTH:  # a child of this one would be deeper than allowed
            raise InvalidJson(f"JSON 嵌套过深（超过 {MAX_DEPTH} 层）")
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            elif texts and isinstance(child, str):
                check_text(child, "JSON 中的文字")


def loads(data: bytes | str) -> Any:
    """Parse untrusted JSON, or raise MalformedInput saying what is wrong."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidJson("JSON 须为 UTF-8 编码") from None
    try:
        value = json.loads(data, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise InvalidJson(f"JSON 嵌套过深（超过 {MAX_DEPTH} 层）") from None
    except ValueError as exc:
        raise InvalidJson(f"JSON 格式错误（{_where(exc)}）") from None
    if isinstance(value, str):
        check_text(value, "JSON 中的文字")
    elif isinstance(value, (dict, list)):
        _walk(value, texts=_MAYBE_BAD.search(data) is not None)
    return value


def _where(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"第 {exc.lineno} 行第 {exc.colno} 列"
    return "无法解析"


def bounded_int(text: str, what: str, low: int | None = None, high: int | None = None) -> int:
    """A whole number typed by a person (a year, a revision, a page), or MalformedInput."""
    value = (text or "").strip()
    if not re.fullmatch(r"-?[0-9]{1,%d}" % MAX_INT_DIGITS, value):
        raise NotANumber(f"{what}应为整数")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        span = f"{low}–{high}" if low is not None and high is not None else (f"不小于 {low}" if low is not None else f"不大于 {high}")
        raise NotANumber(f"{what}应在 {span} 之间" if low is not None and high is not None else f"{what}应{span}")
    return number

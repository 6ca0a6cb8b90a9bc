"""Read an indicator table from a .csv file: UTF-8 (with or without BOM),
GBK/GB18030 (what Excel on a Chinese Windows writes) or UTF-16 (Excel's
"Unicode text"); comma, tab or semicolon separated; header row anywhere in
the first 20 rows, as in a workbook."""
from __future__ import annotations

import csv
import io
from typing import Iterator

from importers.files import FileRejected, Limits
from importers.table import (
    HEADER_SEARCH_ROWS,
    Progress,
    RowBudget,
    Table,
    build_sheet,
    cell_text,
    check_mapping,
    header_score,
)

DELIMITERS = (",", "\t", ";")


def decode(data: bytes, filename: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        # GB18030 is a superset of GBK and GB2312; UTF-8 is tried first because
        # GB18030 would also "decode" most UTF-8 bytes into nonsense.
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise FileRejected(f"无法识别“{filename}”的文字编码（支持 UTF-8、GBK/GB18030），或它不是文本文件")


def read_csv(data: bytes, filename: str, *, mapping: dict | None = None, limits: Limits | None = None,
             progress: Progress | None = None) -> Table:
    limits = limits or Limits.from_env()
    mapping = check_mapping(mapping)
    text = decode(data, filename)
    delimiter = _delimiter(text, mapping)
    budget = RowBudget(limits, progress, text.count("\n") + 1)
    sheet = build_sheet(filename, _rows(text, delimiter, filename), mapping, budget)
    budget.done()
    return Table(filename, "csv", [sheet])


def _rows(text: str, delimiter: str, filename: str) -> Iterator[tuple[int, list[str], set[int]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, [cell_text(c) for c in cells], set()
    except csv.Error as exc:
        raise FileRejected(f"“{filename}”第{number + 1}行不是有效的 CSV：{exc}")


def _delimiter(text: str, mapping: dict) -> str:
    """The separator under which the first rows best look like a header."""
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        score = 0
        try:
            for _, (_, texts, _) in zip(range(HEADER_SEARCH_ROWS), _rows(text, delimiter, "")):
                score = max(score, header_score(texts, mapping))
        except FileRejected:
            continue
        if score > best_score:
            best, best_score = delimiter, score
    return best

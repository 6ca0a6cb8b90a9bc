"""What the .xlsx and .csv readers share: turning cells into text, finding the
header row, mapping headers to columns, and skipping rows that hold no indicator.

A reader hands `build_sheet` the rows of one sheet as (row number, cell
texts, positions of formula cells); `build_sheet` returns a `TableSheet`
whose rows carry text by column key (see importers/header_aliases.yaml).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Callable, Iterable, Iterator

from openpyxl.utils import get_column_letter

from importers.aliases import alias_table, normalise_header
from importers.files import FileRejected, Limits
from kb.dimensions import dimensions
from kb.errors import InvalidInput, Problem

HEADER_SEARCH_ROWS = 20
# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV
# injection"), and the apostrophe that neutralises them on export.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
SNIFFED = "operator_or_direction"  # key of a 指标方向 column until its values decide
_NOTE_ROW = re.compile(r"^(注|说明|填表说明|备注|注释)\s*\d*\s*[:：]")
GROUP_KEYS = {"level1", "level2"}

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ColumnRef:
    """A column of a sheet, as the file names it."""
    index: int  # 0-based position
    header: str

    @property
    def letter(self) -> str:
        return get_column_letter(self.index + 1)

    @property
    def label(self) -> str:
        """How a message names the column: its header and its letter."""
        return f"{self.header}（{self.letter}列）"


@dataclass
class TableRow:
    sheet: str
    row: int  # the row number the user sees (Excel row, or CSV record number)
    cells: dict[str, str]  # column key → text
    problems: list[Problem] = field(default_factory=list)


@dataclass
class TableSheet:
    name: str
    header_row: int | None = None
    columns: dict[str, ColumnRef] = field(default_factory=dict)  # column key → column
    unmapped: list[ColumnRef] = field(default_factory=list)
    ignored: list[tuple[ColumnRef, str]] = field(default_factory=list)  # (column, why)
    rows: list[TableRow] = field(default_factory=list)
    skipped: str = ""  # why no rows were read from the sheet


@dataclass
class Table:
    filename: str
    format: str
    sheets: list[TableSheet]


# --- cells --------------------------------------------------------------------------

# Starts like a formula but cannot be one: the operator "=" on its own, a signed number.
# Written as they are, so a table does not show "'=" on every "=" row.
HARMLESS = re.compile(r"^(=|[+-]?\d+(\.\d+)?%?)$")


def escape_cell(text: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula (and escape a
    leading apostrophe, so that `unescape_cell` gives the text back exactly)."""
    if text and (text.startswith(FORMULA_TRIGGERS) or text.startswith(ESCAPE)) and not HARMLESS.match(text):
        return ESCAPE + text
    return text


def unescape_cell(text: str) -> str:
    if len(text) > 1 and text[0] == ESCAPE and (text[1] in FORMULA_TRIGGERS or text[1] == ESCAPE):
        return text[1:]
    return text


def cell_text(value, number_format: str | None = None) -> str:
    """A cell's value as the text a curator typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if number_format and "%" in number_format:
            return f"{value * 100:.12g}%"
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = str(value).replace("\r\n", "\n").strip()
    return unescape_cell(text)


# --- header row -----------------------------------------------------------------------

def check_mapping(mapping: dict[str, str | None] | None) -> dict[str, str | None]:
    """A caller's header → column key override, keyed by normalised header."""
    if not mapping:
        return {}
    keys = set(alias_table().keys)
    out: dict[str, str | None] = {}
    for header, key in mapping.items():
        if key and key not in keys:
            raise InvalidInput(f"列“{header}”对应的字段“{key}”不存在（可用：{'、'.join(sorted(keys))}）")
        out[normalise_header(header)] = key or None
    return out


def _key_of(header: str, mapping: dict[str, str | None]) -> tuple[str | None, bool]:
    """(column key, whether the header is known at all) for one header cell."""
    table = alias_table()
    norm = normalise_header(header)
    if norm in mapping:
        return mapping[norm], True
    if table.is_sniffed(header):
        return SNIFFED, True
    key = table.key_for(header)
    if key:
        return key, True
    return None, table.is_ignored(header)


def header_score(texts: list[str], mapping: dict[str, str | None]) -> int:
    """How much a row looks like the header of an indicator table (0: not at all)."""
    keys, known = set(), 0
    for text in texts:
        if not text:
            continue
        key, is_known = _key_of(text, mapping)
        known += is_known
        if key:
            keys.add(key)
    return known if "name" in keys and known >= 2 else 0


def _map_columns(sheet: TableSheet, texts: list[str], mapping: dict[str, str | None]) -> None:
    seen: dict[str, ColumnRef] = {}
    for index, text in enumerate(texts):
        if not text:
            continue
        column = ColumnRef(index, text)
        key, known = _key_of(text, mapping)
        if key is None:
            if known:
                sheet.ignored.append((column, "不是指标字段（如序号、分值、权重）"))
            else:
                sheet.unmapped.append(column)
            continue
        if key in seen:
            sheet.ignored.append((column, f"与{seen[key].label}重复"))
            continue
        seen[key] = column
    sheet.columns = seen


# --- rows --------------------------------------------------------------------------------

MAX_CELL_CHARS = 4000  # no field of a record holds more (kb.schemas)


class RowBudget:
    """Counts data rows and the characters kept across the sheets of one file, enforcing the limits."""

    def __init__(self, limits: Limits, progress: Progress | None = None, total: int | None = None):
        self.limits, self.progress, self.total, self.rows, self.chars = limits, progress, total, 0, 0

    def take(self, chars: int = 0) -> None:
        self.rows += 1
        self.chars += chars
        if self.rows > self.limits.max_rows:
            raise FileRejected(f"文件超过 {self.limits.max_rows} 行的上限，请拆分后分批导入")
        if self.chars > self.limits.max_text_chars:
            raise FileRejected(f"文件中的文字总量超过 {self.limits.max_text_chars // 10_000} 万字的上限，请拆分后分批导入")
        if self.progress is not None and self.rows % 500 == 0:
            self.progress(self.rows, self.total)

    def done(self) -> None:
        if self.progress is not None:
            self.progress(self.rows, self.rows)


RawRows = Iterable[tuple[int, list[str], set[int]]]  # (row number, texts, formula column positions)


def build_sheet(name: str, rows: RawRows, mapping: dict[str, str | None], budget: RowBudget) -> TableSheet:
    sheet = TableSheet(name)
    iterator: Iterator = iter(rows)
    head: list[tuple[int, list[str], set[int]]] = []
    for item in iterator:
        head.append(item)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    best, best_score = None, 0
    for position, (_, texts, _) in enumerate(head):
        score = header_score(texts, mapping)
        if score > best_score:
            best, best_score = position, score
    if best is None:
        sheet.skipped = f"前{HEADER_SEARCH_ROWS}行中未找到表头（应含“三级指标”或“指标名称”等列名）"
        return sheet
    sheet.header_row, header_texts, _ = head[best]
    _map_columns(sheet, header_texts, mapping)
    for number, texts, formulas in [*head[best + 1:], *iterator]:
        row = _table_row(sheet, number, texts, formulas, header_texts)
        if row is not None:
            budget.take(sum(len(v) for v in row.cells.values()))
            sheet.rows.append(row)
    _decide_sniffed(sheet)
    return sheet


def _table_row(sheet: TableSheet, number: int, texts: list[str], formulas: set[int], header: list[str]) -> TableRow | None:
    filled = [t for t in texts if t]
    if not filled:
        return None
    if len(filled) == 1 and _NOTE_ROW.match(filled[0]):
        return None
    cells: dict[str, str] = {}
    problems: list[Problem] = []
    for key, column in sheet.columns.items():
        if column.index in formulas:
            problems.append(Problem("单元格含公式，请改为数值或文字后再导入", sheet.name, number, column.label))
            continue
        text = texts[column.index] if column.index < len(texts) else ""
        if len(text) > MAX_CELL_CHARS:  # not kept: no field takes it, and it would only fill memory
            problems.append(Problem(f"单元格有 {len(text)} 个字，超过 {MAX_CELL_CHARS} 字的上限，请精简后再导入",
                                    sheet.name, number, column.label))
            text = ""
        cells[key] = text
    if all(cells.get(k, "") == c.header for k, c in sheet.columns.items()):
        return None  # the header repeated (a workbook printed page by page)
    if not problems and not any(v for k, v in cells.items() if k not in GROUP_KEYS):
        return None  # a group heading, or the tail of a merged 一级/二级 cell
    return TableRow(sheet.name, number, cells, problems)


def _decide_sniffed(sheet: TableSheet) -> None:
    """A 指标方向 column is `operator` when it holds operators, else `direction`."""
    column = sheet.columns.pop(SNIFFED, None)
    if column is None:
        return
    ops = alias_table()
    holds_operators = any(
        ops.value_of("operator", row.cells[SNIFFED]) in dimensions().operators
        for row in sheet.rows if row.cells.get(SNIFFED)
    )
    key = "operator" if holds_operators else "direction"
    if key in sheet.columns:
        sheet.ignored.append((column, f"与{sheet.columns[key].label}重复"))
        for row in sheet.rows:
            row.cells.pop(SNIFFED, None)
        return
    sheet.columns[key] = column
    for row in sheet.rows:
        if SNIFFED in row.cells:
            row.cells[key] = row.cells.pop(SNIFFED)

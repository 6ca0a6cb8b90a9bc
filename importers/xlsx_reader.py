"""Read indicator tables from an .xlsx workbook: every sheet (or one), header
rows anywhere in the first 20 rows, merged 一级/二级 cells filled down.

The workbook is read in openpyxl's read-only mode, which streams rows and
keeps memory flat for large files but does not expose merged cells; the merge
ranges are taken from the sheet's XML directly (see `_merged_ranges`).
openpyxl parses XML through defusedxml when it is installed, and this module
refuses to parse a workbook when it is not.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Iterator

import defusedxml  # a hard dependency: openpyxl parses through it when it is installed
import openpyxl
import openpyxl.xml
from openpyxl.utils.cell import range_boundaries

from importers.files import FileRejected, Limits
from importers.table import Progress, RowBudget, Table, TableSheet, build_sheet, cell_text, check_mapping

_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3}\d+(?::[A-Z]{1,3}\d+)?)"')
_CHUNK = 1 << 20


def read_xlsx(data: bytes, filename: str, *, sheet: str | None = None, mapping: dict | None = None,
              limits: Limits | None = None, progress: Progress | None = None) -> Table:
    limits = limits or Limits.from_env()
    mapping = check_mapping(mapping)
    archive = _open_archive(data, filename, limits)
    if not openpyxl.xml.DEFUSEDXML:
        raise FileRejected("服务器未启用 defusedxml，出于安全原因拒绝解析 .xlsx 文件")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or hostile file
        raise _damaged(f"工作簿“{filename}”", exc)
    try:
        worksheets = [ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")]
        if sheet is not None:
            chosen = [ws for ws in worksheets if ws.title == sheet]
            if not chosen:
                names = "、".join(ws.title for ws in worksheets)
                raise FileRejected(f"工作簿中没有名为“{sheet}”的工作表（现有：{names}）")
            worksheets = chosen
        total = sum(ws.max_row or 0 for ws in worksheets) or None
        budget = RowBudget(limits, progress, total)
        sheets: list[TableSheet] = []
        for ws in worksheets:
            merges = _merged_ranges(archive, getattr(ws, "_worksheet_path", None), limits)
            try:
                sheets.append(build_sheet(ws.title, _rows(ws, merges), mapping, budget))
            except FileRejected:
                raise
            except Exception as exc:  # the XML of a sheet is parsed lazily, while rows are read
                raise _damaged(f"工作表“{ws.title}”", exc)
        budget.done()
    finally:
        workbook.close()
    return Table(filename, "xlsx", sheets)


def _damaged(what: str, exc: Exception) -> FileRejected:
    cause: BaseException | None = exc
    for _ in range(10):  # openpyxl wraps the parser's exception in its own
        if cause is None or isinstance(cause, defusedxml.DefusedXmlException):
            break
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, defusedxml.DefusedXmlException):
        return FileRejected(f"{what}含有不安全的 XML 内容（DTD 或实体定义），拒绝读取")
    return FileRejected(f"无法读取{what}：文件已损坏或不是有效的 .xlsx（{type(exc).__name__}）")


def _open_archive(data: bytes, filename: str, limits: Limits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRejected(f"“{filename}”不是有效的 Excel 工作簿（.xlsx），文件可能已损坏")
    if "xl/workbook.xml" not in names:
        raise FileRejected(f"“{filename}”不是 Excel 工作簿（.xlsx），可能是改了扩展名的其他文件")
    if unzipped > limits.max_unzipped_bytes:
        raise FileRejected(f"“{filename}”解压后超过 {limits.max_unzipped_bytes // (1024 * 1024)} MB，拒绝读取")
    return archive


@dataclass
class Merges:
    """Merged ranges of one sheet, as the rows need them: which cells are the
    top of a range, and for each row the cells below a top that take its value."""
    tops: dict[int, list[int]] = field(default_factory=dict)  # row → columns
    below: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # row → [(column, top row)]


def _merged_ranges(archive: zipfile.ZipFile, path: str | None, limits: Limits) -> Merges:
    """The merged ranges of a sheet, filling down the first column of each.

    The `<mergeCell ref="A3:A9"/>` elements follow the rows in the sheet XML;
    a byte scan finds them without parsing the XML (so nothing is expanded).
    Only the first column of a range is filled: that is where its value is.
    """
    merges = Merges()
    if not path:
        return merges
    refs: set[bytes] = set()
    try:
        with archive.open(path.lstrip("/")) as stream:
            tail = b""
            while chunk := stream.read(_CHUNK):
                buffer = tail + chunk
                refs.update(_MERGE_REF.findall(buffer))
                tail = buffer[-200:]
    except (KeyError, zipfile.BadZipFile, OSError):
        return merges
    for ref in refs:
        try:
            min_col, min_row, _max_col, max_row = range_boundaries(ref.decode("ascii"))
        except (ValueError, TypeError):
            continue
        if max_row <= min_row:
            continue
        merges.tops.setdefault(min_row, []).append(min_col)
        for row in range(min_row + 1, min(max_row, min_row + limits.max_rows + 100) + 1):
            merges.below.setdefault(row, []).append((min_col, min_row))
    return merges


def _rows(ws, merges: Merges) -> Iterator[tuple[int, list[str], set[int]]]:
    ws.reset_dimensions()  # trust the cells, not the sheet's declared size
    top_values: dict[tuple[int, int], str] = {}
    for number, cells in enumerate(ws.iter_rows(min_row=1), start=1):
        texts: list[str] = []
        formulas: set[int] = set()
        for index, cell in enumerate(cells):
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f":
                formulas.add(index)
                texts.append("=")
                continue
            texts.append(cell_text(value, getattr(cell, "number_format", None)))
        for column, top_row in merges.below.get(number, ()):
            if column > len(texts):
                texts.extend([""] * (column - len(texts)))
            if not texts[column - 1]:
                texts[column - 1] = top_values.get((top_row, column), "")
        for column in merges.tops.get(number, ()):
            if column <= len(texts):
                top_values[(number, column)] = texts[column - 1]
        yield number, texts, formulas

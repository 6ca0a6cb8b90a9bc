"""Write a version's indicators as .xlsx, .csv or .json in the columns the
readers read (importers/header_aliases.yaml), so a file written here reads
back into the same records.

Every cell that a spreadsheet would run as a formula (starting with = + - @,
tab or CR) is written with a leading apostrophe; the readers remove it.
"""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from importers import indicator_fields
from importers.aliases import alias_table
from importers.indicator_fields import SOURCE_KEYS
from importers.table import escape_cell
from importers.taxonomy import AXES, LIST_SEPARATORS, Taxonomy
from kb.library import versions
from kb.library.draft import record_data
from kb.models import IndicatorRecord
from kb.schemas import CHOICE, FLAG, LIST, OPTIONAL_TEXT, TEXT

SHEET_TITLE = "指标"
LIST_JOIN = "、"
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
WIDE_COLUMNS = {"name": 28, "definition": 48, "formula": 36, "scoring_rule": 40, "source_document": 36, "note": 36}


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    filename: str
    mimetype: str
    count: int = 0  # indicators in the file


# --- rows -----------------------------------------------------------------------------

def table_headers() -> list[str]:
    return [c.header for c in alias_table().columns]


def table_rows(indicators: Iterable[IndicatorRecord], taxonomy: Taxonomy) -> list[list[str]]:
    """One row of text per indicator, in the order of table_headers(), not yet escaped."""
    keys = alias_table().keys
    return [[cells.get(key, "") for key in keys] for cells in (_cells(i, taxonomy) for i in indicators)]


def _cells(i: IndicatorRecord, taxonomy: Taxonomy) -> dict[str, str]:
    aliases = alias_table()
    refs = i.reference_values or []
    source = i.source or {}
    cells = {
        "reference_value": "\n".join(str(r.get("value", "")) for r in refs),
        "value_basis": "\n".join(str(r.get("basis", "")) for r in refs),
        "value_note": "\n".join(_one_line(r.get("note") or "", len(refs)) for r in refs) if any(r.get("note") for r in refs) else "",
        "value_year": "\n".join(str(r.get("year") or "") for r in refs) if any(r.get("year") for r in refs) else "",
        "source_year": str(source.get("year") or ""),
        **{key: source.get(part) or "" for key, part in SOURCE_KEYS.items() if part != "year"},
    }
    # every other field by its shape (kb.schemas), so a new field is written without a line here
    for key, shape in indicator_fields.shapes().items():
        value = getattr(i, key)
        if shape in (TEXT, OPTIONAL_TEXT):
            cells[key] = value or ""
        elif shape == CHOICE:
            cells[key] = aliases.label_of(key, value) if indicator_fields.has_vocabulary(key) else value or ""
        elif shape == FLAG:
            cells[key] = _bool(value)
        elif shape == LIST:
            labels = (_axis_label(taxonomy, key, code) for code in value or []) if key in AXES else (value or [])
            cells[key] = LIST_JOIN.join(labels)
    return cells


def _bool(value: bool | None) -> str:
    return alias_table().label_of("boolean", "true" if value else "false")


def _one_line(note: str, count: int) -> str:
    # One line per reference value: only a single value may have a note over several lines.
    return note if count == 1 else " ".join(note.split("\n"))


def _axis_label(taxonomy: Taxonomy, axis: str, code: str) -> str:
    label = taxonomy.label(axis, code)
    return code if LIST_SEPARATORS.search(label) else label


# --- files --------------------------------------------------------------------------------

def write_xlsx(headers: list[str], rows: list[list[str]], out, title: str = SHEET_TITLE) -> None:
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(title)
    keys = alias_table().keys
    for index, key in enumerate(keys[: len(headers)], start=1):
        ws.column_dimensions[get_column_letter(index)].width = WIDE_COLUMNS.get(key, 14)
    ws.freeze_panes = "D2"  # the header row and the code, kind and 一级 columns stay in view
    # long text (解释, 公式, 评分标准, 来源, 备注) wraps in its wide column instead of running across the next ones
    wrapped = {i for i, key in enumerate(keys[: len(headers)]) if key in WIDE_COLUMNS and key != "name"}
    # a filter on every column of the header row: a curator narrows 111 rows of "=" or one sector at once
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(headers), 1))}{len(rows) + 1}"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=escape_cell(text))
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        # Every value is a str, which openpyxl writes as text: escaped, it can
        # never be taken for a formula. Only cells over several lines need a style.
        cells = []
        for index, text in enumerate(row):
            value = escape_cell(text) or None
            if value is not None and ("\n" in value or value.startswith("=") or index in wrapped):
                cell = WriteOnlyCell(ws, value=value)
                if "\n" in value or index in wrapped:
                    cell.alignment = wrap
                if cell.data_type == "f":
                    cell.data_type = "s"  # "=" alone (escape_cell left it): text, never a formula
                value = cell
            cells.append(value)
        ws.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = _with_dimension(buffer.getvalue(), f"A1:{get_column_letter(max(len(headers), 1))}{len(rows) + 1}")
    if hasattr(out, "write"):
        out.write(data)
    else:
        with open(out, "wb") as fh:
            fh.write(data)


_BEFORE_DIMENSION = re.compile(rb"<(?:sheetViews|sheetFormatPr|cols|sheetData)\b")


def _with_dimension(data: bytes, ref: str) -> bytes:
    """Declare the sheet's size, which openpyxl's write-only mode leaves out:
    without it a read-only reader (openpyxl's included) parses the whole sheet
    once more just to learn its size."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/") and b"<dimension" not in content[:4096]:
                match = _BEFORE_DIMENSION.search(content)
                if match:
                    content = content[: match.start()] + f'<dimension ref="{ref}"/>'.encode() + content[match.start():]
            out.writestr(item, content)
    return target.getvalue()


def write_csv(headers: list[str], rows: list[list[str]], out) -> None:
    """UTF-8 with a BOM, so that Excel opens it with the right encoding."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([escape_cell(h) for h in headers])
    writer.writerows([escape_cell(c) for c in row] for row in rows)
    data = text.getvalue().encode("utf-8-sig")
    if hasattr(out, "write"):
        out.write(data)
    else:
        with open(out, "wb") as fh:
            fh.write(data)


def indicators_json(indicators: Iterable[IndicatorRecord]) -> bytes:
    """A JSON list of indicator records (the readers accept it back)."""
    return json.dumps([record_data("indicator", i) for i in indicators], ensure_ascii=False, indent=1).encode("utf-8")


# --- a version ---------------------------------------------------------------------------

def export_indicators(session: Session, version: versions.VersionRef, fmt: str) -> ExportFile:
    """A version's indicators (the draft included) as xlsx, csv or a JSON list."""
    if fmt not in MIMETYPES:
        raise ValueError(fmt)
    indicators = versions.records(session, "indicator", version)
    filename = f"zhibiao-{version.label}-indicators.{fmt}"
    if fmt == "json":
        return ExportFile(indicators_json(indicators), filename, MIMETYPES[fmt], len(indicators))
    taxonomy = Taxonomy.of_version(session, version)
    headers, rows = table_headers(), table_rows(indicators, taxonomy)
    buffer = io.BytesIO()
    (write_xlsx if fmt == "xlsx" else write_csv)(headers, rows, buffer)
    return ExportFile(buffer.getvalue(), filename, MIMETYPES[fmt], len(indicators))


def export_library(session: Session, version: versions.VersionRef) -> ExportFile:
    """The whole library of a version as one JSON document (kb.library.versions.export_library)."""
    doc = versions.export_library(session, version)
    data = json.dumps(doc, ensure_ascii=False, indent=1, default=str).encode("utf-8")
    return ExportFile(data, f"zhibiao-{version.label}.json", MIMETYPES["json"], len(doc["indicators"]))

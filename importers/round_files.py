"""Files of an evaluation round: the units' values in (.xlsx or .json), the
scored round out (.xlsx).

The input workbook is one row per unit: a header row with 单位 (or 单位名称)
and one column per leaf of the system, headed by its indicator code or name;
a leaf scored against each unit's own target takes a second column headed
like the first plus 目标值 ("GX-BM-006 目标值"). Cells are read as the
evaluator typed them (95% stays "95%"); kb.systems.scoring says what fits.
"""
from __future__ import annotations

import io

import openpyxl
import openpyxl.xml
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from importers.files import FileRejected, Limits, file_format
from importers.table import cell_text
from importers.target_xlsx import text_cell
from importers.xlsx_reader import _damaged, _open_archive
from kb import untrusted
from kb.errors import InvalidInput, Problem

UNIT_HEADERS = ("单位", "单位名称", "被评价单位", "name")
HEADER_SEARCH_ROWS = 10


def read_units_file(data: bytes, filename: str, limits: Limits | None = None) -> list[dict]:
    """[{name, values}] from an .xlsx or .json file ({"units": [...]})."""
    fmt = file_format(data, filename)
    if fmt == "xlsx":
        return read_units_xlsx(data, filename, limits or Limits.from_env())
    if fmt == "json":
        try:
            doc = untrusted.loads(data)
        except untrusted.MalformedInput as exc:
            raise FileRejected(f"“{filename}”不是有效的 JSON 文件：{exc.message}") from None
        return units_from_json(doc)
    raise FileRejected("评分数据请上传 .xlsx 或 .json 文件")


def units_from_json(doc) -> list:
    if not isinstance(doc, dict) or "units" not in doc:
        raise InvalidInput("评分数据应为 {\"units\": [{\"name\": 单位名称, \"values\": {指标编码或名称: 值}}]}")
    return doc["units"]


def read_units_xlsx(data: bytes, filename: str, limits: Limits) -> list[dict]:
    _open_archive(data, filename, limits)  # refuses what is not a workbook, and zip bombs
    if not openpyxl.xml.DEFUSEDXML:
        raise FileRejected("服务器未启用 defusedxml，出于安全原因拒绝解析 .xlsx 文件")
    try:
        # data_only: a computed cell counts with the value Excel saved for it
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or hostile file
        raise _damaged(f"工作簿“{filename}”", exc)
    try:
        sheet = next((ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")), None)
        if sheet is None:
            raise FileRejected(f"“{filename}”中没有工作表")
        try:
            rows = []
            for number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
                if number > limits.max_rows + HEADER_SEARCH_ROWS:
                    raise FileRejected(f"“{filename}”超过 {limits.max_rows} 行，未读取")
                rows.append((number, [cell_text(getattr(c, "value", None), getattr(c, "number_format", None)) for c in cells]))
        except FileRejected:
            raise
        except Exception as exc:  # the sheet's XML is parsed while rows are read
            raise _damaged(f"工作表“{sheet.title}”", exc)
    finally:
        workbook.close()
    return units_from_rows(rows, sheet.title)


def units_from_rows(rows: list[tuple[int, list[str]]], sheet: str) -> list[dict]:
    header_at = next((i for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS])
                      if any(c.strip() in UNIT_HEADERS for c in cells)), None)
    if header_at is None:
        raise InvalidInput(f"工作表“{sheet}”的前{HEADER_SEARCH_ROWS}行中没有“单位”或“单位名称”列：第一行应为表头"
                           "（单位名称，然后每个指标一列，列名为指标编码或名称）")
    header_row, headers = rows[header_at]
    headers = [h.strip() for h in headers]
    unit_col = next(i for i, h in enumerate(headers) if h in UNIT_HEADERS)
    twice = sorted({h for h in headers if h and headers.count(h) > 1})
    if twice:
        raise InvalidInput(f"工作表“{sheet}”第{header_row}行的表头“{'、'.join(twice)}”出现了不止一次")
    units, problems = [], []
    for number, cells in rows[header_at + 1:]:
        if not any(c.strip() for c in cells):
            continue
        name = cells[unit_col].strip() if unit_col < len(cells) else ""
        if not name:
            problems.append(Problem("有数值但缺少单位名称", sheet, number, headers[unit_col]))
            continue
        values = {}
        for col, text in enumerate(cells):
            if col == unit_col or not text.strip():
                continue
            header = headers[col] if col < len(headers) else ""
            if not header:
                problems.append(Problem(f"单位“{name}”的{get_column_letter(col + 1)}列有值“{text}”，但该列没有表头",
                                        sheet, number))
                continue
            values[header] = text
        units.append({"name": name, "values": values})
    if problems:
        raise InvalidInput(f"评分表有 {len(problems)} 处问题：{problems[0]}", problems)
    return units


# --- the scored round out ------------------------------------------------------------------------

def _put(ws, row: int, col: int, value, bold: bool = False):
    cell = text_cell(ws, row, col, value)  # as typed; what could run is quote-prefixed text
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_round_xlsx(result: dict) -> bytes:
    """A round (kb.systems.rounds.round_dict) as a workbook: one sheet of totals by rank, one of every leaf's score.
    Unit names and reasons come from users: every text cell is neutralised."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "评分结果"
    level1 = list(result.get("level1", {}).items())
    title = f"{result.get('system_name', '')}（{result.get('system', '')}，版本 {result.get('version', '')}）评分结果"
    if result.get("round"):
        title += f" · 第 {result['round']} 轮"
    _put(ws, 1, 1, title, bold=True)
    headers = ["排名", "单位", f"总分（满分 {result.get('max_total', 100):g}）", "等级"]
    headers += [f"{name}（{points:g}）" for name, points in level1] + ["失分最多的指标"]
    for col, text in enumerate(headers, start=1):
        _put(ws, 2, col, text, bold=True)
    units = sorted(result.get("units", []), key=lambda u: (u["rank"], u["name"]))
    for r, unit in enumerate(units, start=3):
        cells = [unit["rank"], unit["name"], unit["total"], unit["grade"]]
        cells += [unit["by_level1"].get(name, 0) for name, _ in level1]
        cells.append("；".join(f"{w['name']}（失 {w['lost']:g} 分）" for w in unit["weakest"]))
        for col, value in enumerate(cells, start=1):
            _put(ws, r, col, value)
    for col, width in enumerate([6, 28, 14, 6] + [12] * len(level1) + [60], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "C3"

    detail = wb.create_sheet("指标得分")
    for col, text in enumerate(["单位", "一级指标", "指标编码", "指标名称", "分值", "得分", "计分说明"], start=1):
        _put(detail, 1, col, text, bold=True)
    row = 2
    for unit in units:
        for leaf in unit.get("leaves", []):
            for col, value in enumerate([unit["name"], leaf["level1"], leaf["indicator"], leaf["name"], leaf["max"],
                                         leaf["score"], leaf["reason"]], start=1):
                cell = _put(detail, row, col, value)
                if col == 7:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            row += 1
    for col, width in enumerate([24, 10, 12, 30, 8, 8, 70], start=1):
        detail.column_dimensions[get_column_letter(col)].width = width
    detail.freeze_panes = "B2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

"""A 绩效目标表 as an .xlsx in the usual layout: a title, the project block
(项目名称, 主管部门 …), the 年度总体目标, then the indicator table
(一级指标 | 二级指标 | 三级指标 | 指标性质 | 指标值 | 计量单位 | 取值依据 | 指标编码).

The reader finds the header row by its names (importers/header_aliases.yaml,
the one place that lists the headers of indicator tables; TARGET_COLUMNS says
which of its columns a target table has), fills merged 一级/二级 cells down, and hands a dict to
kb.target_schema, so an .xlsx and a JSON table are validated alike. The writer
produces the same layout and neutralises cells that a spreadsheet would run as
a formula.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.exceptions import InvalidFileException

from importers.aliases import alias_table
from kb.errors import InvalidInput
from kb.numerals import fmt
from kb.target_schema import load_table
from kb.targets import TargetTable

# target-table field → the column of the indicator-table alias table that holds it (in a
# target table the 指标值 column is the target value, in the library a reference value)
TARGET_COLUMNS: dict[str, str] = {
    "level1": "level1", "level2": "level2", "name": "name", "operator": "operator", "value": "reference_value",
    "unit": "unit", "basis": "value_basis", "code": "code",
}
REQUIRED_COLUMNS = ("level1", "level2", "name", "value")

# labels of the project block above the table → project field
PROJECT_LABELS: dict[str, tuple[str, ...]] = {
    "name": ("项目名称", "项目（政策）名称", "项目(政策)名称", "政策名称"),
    "unit_name": ("部门名称", "单位名称", "部门（单位）名称", "部门(单位)名称", "预算单位"),
    "department": ("主管部门", "主管部门及代码", "实施单位", "项目单位"),
    "sector": ("所属行业", "行业", "行业领域", "所属领域", "领域", "行业/领域"),
    "project_type": ("项目类别", "项目类型"),
    "budget_wan_yuan": ("预算金额（万元）", "预算金额(万元)", "项目资金（万元）", "项目资金(万元)", "年度资金总额",
                        "资金总额", "项目预算（万元）", "项目预算", "预算金额", "年度预算数", "预算数（万元）"),
    "description": ("项目概况", "项目内容", "项目描述", "项目简介", "实施内容", "主要内容"),
    "expenditure_type": ("支出类型",),
}
GOAL_LABELS = ("年度总体目标", "年度绩效目标", "总体目标", "年度目标", "绩效目标", "整体绩效目标")

TITLE = {"项目": "项目支出绩效目标表", "部门整体": "部门整体支出绩效目标表"}
COLUMNS = ("level1", "level2", "name", "operator", "value", "unit", "basis", "code")
COLUMN_TITLES = ("一级指标", "二级指标", "三级指标", "指标性质", "指标值", "计量单位", "取值依据", "指标编码")
MAX_ROWS = 2000
FORMULA_PREFIXES = ("=", "+", "-", "@")


class TableFileInvalid(InvalidInput):
    pass


def _clean_label(value) -> str:
    text = re.sub(r"\s+", "", str(value or ""))
    return text.rstrip("：:")


def _strip_remark(label: str) -> str:
    return re.sub(r"[（(][^）)]*[）)]$", "", label)


def _header_field(value) -> str | None:
    """The target-table field a header cell names ("指标名称" → name, "指标值（含数字及文字描述）" → value)."""
    if value is None or not str(value).strip():
        return None
    table = alias_table()
    key = table.key_for(str(value))
    if key is None and table.is_sniffed(str(value)):
        key = "operator"  # 指标方向 holds ≥ ≤ = in a target table
    return next((field for field, column in TARGET_COLUMNS.items() if column == key), None)


def _header(field: str) -> str:
    return alias_table().header_of(TARGET_COLUMNS[field])


def _label_field(value) -> str | None:
    label = _clean_label(value)
    if not label:
        return None
    if label in GOAL_LABELS or _strip_remark(label) in GOAL_LABELS:
        return "goal"
    for field, aliases in PROJECT_LABELS.items():
        if label in aliases or _strip_remark(label) in aliases:
            return field
    return None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, (int, float)):
        return fmt(value)
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
        return text[1:]  # our own neutralisation, undone
    return text


def _open(source: str | Path | bytes | BinaryIO):
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        return load_workbook(source, read_only=True, data_only=True)
    except FileNotFoundError:
        raise
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise TableFileInvalid(f"无法读取 Excel 文件（应为 .xlsx）：{exc.__class__.__name__}") from None


def read_table(source: str | Path | bytes | BinaryIO) -> TargetTable:
    """An .xlsx 绩效目标表 → TargetTable (validated like JSON), or a KbError saying what is wrong."""
    wb = _open(source)
    try:
        for ws in wb.worksheets:
            rows = []
            for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
                if i > MAX_ROWS:
                    raise TableFileInvalid(f"工作表“{ws.title}”超过 {MAX_ROWS} 行，请只保留目标表")
                rows.append(row)
            header_at = _find_header(rows)
            if header_at is not None:
                return load_table(_table_dict(rows, header_at, ws.title))
        raise TableFileInvalid(
            "未找到指标表的表头：需要列 " + "、".join(_header(c) for c in REQUIRED_COLUMNS)
            + "（可另有 " + "、".join(_header(c) for c in TARGET_COLUMNS if c not in REQUIRED_COLUMNS) + "）"
        )
    finally:
        wb.close()


def _find_header(rows: list[tuple]) -> int | None:
    best, best_missing = None, None
    for i, row in enumerate(rows[:60]):
        found = {_header_field(v) for v in row} - {None}
        if len(found) < 3:
            continue
        missing = [c for c in REQUIRED_COLUMNS if c not in found]
        if not missing:
            return i
        if best is None:
            best, best_missing = i, missing
    if best is not None:
        raise TableFileInvalid(
            f"第{best + 1}行像是指标表表头，但缺少列：" + "、".join(_header(c) for c in best_missing)
        )
    return None


def _table_dict(rows: list[tuple], header_at: int, sheet: str) -> dict:
    project: dict = {}
    goal = ""
    expenditure = ""
    for r, row in enumerate(rows[:header_at]):
        cells = [_cell_text(v) for v in row]
        title = "".join(cells)
        if "部门整体" in title and "目标表" in title:
            expenditure = "部门整体"
        c = 0
        while c < len(cells):
            field = _label_field(cells[c])
            if field is None:
                c += 1
                continue
            value_at = next((k for k in range(c + 1, len(cells)) if cells[k]), None)
            # a label whose value is the next label belongs to an empty field
            value = cells[value_at] if value_at is not None and _label_field(cells[value_at]) is None else ""
            if field == "goal" and not value and r + 1 < header_at:
                below = [_cell_text(v) for v in rows[r + 1]]
                value = next((t for t in below if t and _label_field(t) is None), "")
            if field == "goal":
                goal = goal or value
            elif value and field not in project:
                project[field] = value
            c = value_at + 1 if value and value_at is not None else c + 1
    unit_name = project.pop("unit_name", "")
    if "name" not in project and unit_name:
        project["name"] = unit_name
        expenditure = expenditure or "部门整体"
    if unit_name and "department" not in project:
        project["department"] = unit_name
    if expenditure and "expenditure_type" not in project:
        project["expenditure_type"] = expenditure

    columns = {}
    for c, v in enumerate(rows[header_at]):
        field = _header_field(v)
        if field and field not in columns:
            columns[field] = c
    indicators = []
    last1 = last2 = ""
    for row in rows[header_at + 1:]:
        cells = {f: _cell_text(row[c]) if c < len(row) else "" for f, c in columns.items()}
        if _header_field(cells.get("name")) == "name":
            continue  # a repeated header (two-row headers, page breaks)
        if cells.get("level1"):
            if cells["level1"] != last1:
                last2 = ""
            last1 = cells["level1"]
        else:
            cells["level1"] = last1
        if cells.get("level2"):
            last2 = cells["level2"]
        else:
            cells["level2"] = last2
        if not any(cells.get(f) for f in ("name", "value", "operator", "unit")):
            continue
        indicators.append(cells)
    return {"project": project, "goal": goal, "indicators": indicators}


# --- writing ------------------------------------------------------------------------

def neutralise(value):
    """A cell that a spreadsheet would evaluate (= + - @ first) is written as text with a leading ';
    the operator "=" alone and signed numbers cannot run and stay as they are (written as text cells)."""
    from importers.table import HARMLESS

    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not HARMLESS.match(value):
        return "'" + value
    return value


_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def write_table(table: TargetTable, target: str | Path | BinaryIO | None = None) -> bytes | None:
    """Write the table in the usual layout; returns the bytes when no target is given."""
    wb = Workbook()
    ws = wb.active
    ws.title = "绩效目标表"
    last_col = len(COLUMNS)
    p = table.project

    def put(row: int, col: int, value, **style):
        cell = ws.cell(row=row, column=col, value=neutralise(value))
        if isinstance(cell.value, str) and cell.data_type == "f":
            cell.data_type = "s"  # "=" alone: text, never a formula
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal=style.get("align", "left"))
        if style.get("bold"):
            cell.font = Font(bold=True)
        if style.get("fill"):
            cell.fill = _HEAD_FILL
        return cell

    ws.cell(row=1, column=1, value=TITLE.get(p.expenditure_type, TITLE["项目"])).font = Font(bold=True, size=14)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_col)
    budget = p.budget_wan_yuan if p.budget_wan_yuan is not None else ""
    info = [
        ("项目名称", p.name), ("主管部门", p.department), ("项目类别", p.project_type), ("所属行业", p.sector),
        ("支出类型", p.expenditure_type), ("预算金额（万元）", budget), ("项目概况", p.description),
        ("年度总体目标", table.goal),
    ]
    r = 2
    for label, value in info:
        put(r, 1, label, bold=True, fill=True)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        put(r, 3, value)
        for c in range(4, last_col + 1):
            ws.cell(row=r, column=c).border = _BORDER
        ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=last_col)
        r += 1
    for c, title in enumerate(COLUMN_TITLES, start=1):
        put(r, c, title, bold=True, fill=True, align="center")
    first = r + 1
    for i, row in enumerate(table.indicators):
        for c, field in enumerate(COLUMNS, start=1):
            put(first + i, c, getattr(row, field), align="center" if field in ("operator", "unit") else "left")
    _merge_runs(ws, table, first)
    for c, width in enumerate((12, 16, 30, 10, 16, 10, 12, 14), start=1):
        ws.column_dimensions[chr(64 + c)].width = width
    ws.freeze_panes = ws.cell(row=first, column=1)
    if target is None:
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()
    wb.save(target)
    return None


def _merge_runs(ws, table: TargetTable, first: int) -> None:
    """Merge consecutive equal 一级 cells, and equal 二级 cells within one 一级, as the usual layout does."""
    rows = table.indicators
    for col, key in ((1, lambda x: x.level1), (2, lambda x: (x.level1, x.level2))):
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or key(rows[i]) != key(rows[start]):
                if i - 1 > start and key(rows[start]) and (col == 1 or rows[start].level2):
                    ws.merge_cells(start_row=first + start, start_column=col, end_row=first + i - 1, end_column=col)
                start = i


def read_target_file(data: bytes, filename: str) -> TargetTable:
    """An uploaded 绩效目标表, .xlsx or .json (what the check, the API and the drafting page take)."""
    from importers.files import FileRejected, file_format
    from kb import untrusted

    fmt = file_format(data, filename)
    if fmt == "xlsx":
        return read_table(data)
    if fmt == "json":
        try:
            return load_table(untrusted.loads(data))
        except untrusted.MalformedInput as exc:
            raise FileRejected(f"“{filename}”不是有效的 JSON 文件：{exc.message}") from None
    raise FileRejected("目标表请上传 .xlsx 或 .json 文件")

"""A 绩效目标表 as an .xlsx in the usual layout: a title, the project block
(项目名称, 主管部门 …), the 年度总体目标, then the indicator table
(一级指标 | 二级指标 | 三级指标 | 指标性质 | 指标值 | 计量单位 | 取值依据 | 指标编码).

The reader finds the header row by its names (importers/header_aliases.yaml,
the one place that lists the headers of indicator tables; TARGET_COLUMNS says
which of its columns a target table has), fills merged 一级/二级 cells down, and hands a dict to
kb.targets.schema, so an .xlsx and a JSON table are validated alike. The writer
produces the 项目支出绩效目标申报表 layout (and a 监控表 sheet), stores numbers as
numbers, and writes text that a spreadsheet would run as a formula as a
quote-prefixed text cell.
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
from kb.targets.project import ProjectLabels
from kb.targets.schema import load_table
from kb.targets.table import TargetTable

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
    "department": ("主管部门", "主管部门及代码"),
    "implementing_unit": ("实施单位", "项目实施单位", "项目单位"),
    "year": ("预算年度", "项目年度"),
    "fiscal_wan_yuan": ("其中：财政拨款", "其中:财政拨款", "财政拨款", "其中：财政资金", "财政资金"),
    "other_wan_yuan": ("其他资金", "其中：其他资金", "其中:其他资金", "自筹资金"),
    "sector": ("所属行业", "行业", "行业领域", "所属领域", "领域", "行业/领域"),
    "project_type": ("项目类别", "项目类型"),
    "budget_wan_yuan": ("预算金额（万元）", "预算金额(万元)", "项目资金（万元）", "项目资金(万元)", "年度资金总额",
                        "资金总额", "项目预算（万元）", "项目预算", "预算金额", "年度预算数", "预算数（万元）"),
    "description": ("项目概况", "项目内容", "项目描述", "项目简介", "实施内容", "主要内容"),
    "expenditure_type": ("支出类型",),
    "budget_executed_wan_yuan": ("已执行资金", "已执行资金（万元）", "已执行资金(万元)", "执行数", "全年执行数",
                                 "预算执行数", "已支出资金", "累计执行数", "执行金额"),
    "as_of": ("截至日期", "截止日期", "监控日期", "数据截至日期", "监控截至日期"),
}
ACTUAL_LABELS = ("实际完成值", "实际值", "完成值", "全年实际值", "全年完成值", "实际完成情况", "完成情况")
SCORE_LABELS = ("得分", "自评得分", "自评分", "自评分值")
GOAL_LABELS = ("年度总体目标", "年度绩效目标", "总体目标", "年度目标", "绩效目标", "整体绩效目标")

TITLE = {"项目": "项目支出绩效目标申报表", "部门整体": "部门整体支出绩效目标申报表"}
MONITOR_SHEET = "监控表"
MONITOR_COLUMNS = ("一级指标", "二级指标", "三级指标", "年度目标值", "{months}实际完成值", "预计全年完成值",
                   "偏差原因", "完成目标可能性")
COLUMNS = ("level1", "level2", "name", "operator", "value", "unit", "basis", "code")
COLUMN_TITLES = ("一级指标", "二级指标", "三级指标", "指标性质", "指标值", "计量单位", "取值依据", "指标编码")
MAX_ROWS = 2000
FORMULA_PREFIXES = ("=", "+", "-", "@")
_PLAIN_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")


class TableFileInvalid(InvalidInput):
    error = "invalid_table_file"
    meaning = "目标表文件无法读取或认不出目标表的版式"


_CODED_NAME_RE = re.compile(r"^\s*(\d{3,7})\s+\S")
_TITLE_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年度?.*(?:目标|监控|自评)")


def _clean_label(value) -> str:
    text = re.sub(r"\s+", "", str(value or ""))
    return text.rstrip("：:")


def _strip_remark(label: str) -> str:
    return re.sub(r"[（(][^）)]*[）)]$", "", label)


def _result_field(header: str) -> str | None:
    """Columns of a monitoring or self-evaluation table: 实际完成值 (1-6月实际完成值, 全年实际值) and 得分."""
    label = _strip_remark(_clean_label(header))
    if label in ACTUAL_LABELS or "实际完成值" in label:
        return "actual"
    if label in SCORE_LABELS:
        return "self_score"
    return None


def _header_field(value) -> str | None:
    """The target-table field a header cell names ("指标名称" → name, "指标值（含数字及文字描述）" → value)."""
    if value is None or not str(value).strip():
        return None
    result = _result_field(str(value))
    if result:
        return result
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
        # exact as typed (0.125 stays 0.125), not rounded for display like kb.numerals.fmt
        number = float(value)
        return str(int(number)) if number.is_integer() else format(round(number, 10), "f").rstrip("0").rstrip(".")
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
            if ws.title == MONITOR_SHEET:
                continue
            rows = _sheet_rows(ws)
            header_at = _find_header(rows)
            if header_at is not None:
                table = _table_dict(rows, header_at, ws.title)
                if MONITOR_SHEET in wb.sheetnames:
                    _add_monitoring(table, _sheet_rows(wb[MONITOR_SHEET]))
                return load_table(table)
        raise TableFileInvalid(
            "未找到指标表的表头：需要列 " + "、".join(_header(c) for c in REQUIRED_COLUMNS)
            + "（可另有 " + "、".join(_header(c) for c in TARGET_COLUMNS if c not in REQUIRED_COLUMNS) + "）"
        )
    finally:
        wb.close()


def _sheet_rows(ws) -> list[tuple]:
    rows = []
    for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if i > MAX_ROWS:
            raise TableFileInvalid(f"工作表“{ws.title}”超过 {MAX_ROWS} 行，请只保留目标表")
        rows.append(row)
    return rows


def _add_monitoring(table: dict, rows: list[tuple]) -> None:
    """What a unit filled in the 监控表 sheet we export: 截至日期, 已执行资金 and each row's 实际完成值
    (matched by 三级指标 name, in order), unless the target sheet already states them."""
    head = next((i for i, row in enumerate(rows[:40]) if "actual" in {_header_field(v) for v in row}
                 and "name" in {_header_field(v) for v in row}), None)
    if head is None:
        return
    info = _table_dict(rows, head, MONITOR_SHEET)
    for field in ("as_of", "budget_executed_wan_yuan"):
        if info["project"].get(field) and not table["project"].get(field):
            table["project"][field] = info["project"][field]
    actuals: dict[str, list[str]] = {}
    for r in info["indicators"]:
        actuals.setdefault(r.get("name", ""), []).append(r.get("actual", ""))
    for r in table["indicators"]:
        found = actuals.get(r.get("name", ""))
        if found and not r.get("actual"):
            r["actual"] = found.pop(0)


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
        if "部门整体" in title and "目标" in title:
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
    if project.get("implementing_unit") and "department" not in project:
        project["department"] = project["implementing_unit"]  # forms with only 实施单位 still name a department
    m = _CODED_NAME_RE.match(project.get("sector", ""))
    if m:
        project["sector"] = m.group(1)  # "21002 公立医院" as our exports write it
    if "year" not in project:
        m = _TITLE_YEAR_RE.search("".join(_cell_text(v) for v in rows[0])) if rows else None
        if m:
            project["year"] = m.group(1)
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

def text_cell(ws, row: int, col: int, value):
    """Write a cell; text that a spreadsheet would run (= + - @ first) is stored as a text cell with the
    quote-prefix style: shown exactly as typed, with no apostrophe in it, and never evaluated (not on
    opening, not after an edit of the cell)."""
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def number_or_text(value):
    """A value that is a plain number ("120", "0.125") as a number, so a spreadsheet can sum it; anything else
    (≥, 12月31日前, 05, 1,200) as the text it is."""
    if isinstance(value, str) and _PLAIN_NUMBER_RE.match(value):
        number = float(value)
        as_text = str(int(number)) if number.is_integer() else repr(number)
        if as_text == value:
            return int(number) if number.is_integer() else number
    return value


def _print_setup(ws, header_row: int) -> None:
    """A4, fit to the page's width, the indicator header repeated on every printed page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.horizontalCentered = True


def write_table(table: TargetTable, target: str | Path | BinaryIO | None = None,
                labels: ProjectLabels | None = None) -> bytes | None:
    """Write the table in the 项目支出绩效目标申报表 layout; returns the bytes when no target is given.

    `labels` names the sector and project type (kb.targets.project.labels); without it their codes are written."""
    wb = Workbook()
    ws = wb.active
    ws.title = "绩效目标表"
    last_col = len(COLUMNS)
    p = table.project
    labels = labels or ProjectLabels(p.sector, p.project_type)

    def put(row: int, col: int, value, **style):
        cell = text_cell(ws, row, col, value)
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal=style.get("align", "left"))
        if style.get("bold"):
            cell.font = Font(bold=True)
        if style.get("fill"):
            cell.fill = _HEAD_FILL
        return cell

    def span(row: int, first: int, last: int, value, **style):
        put(row, first, value, **style)
        for c in range(first + 1, last + 1):
            ws.cell(row=row, column=c).border = _BORDER
        if last > first:
            ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)

    def money(value):
        return "" if value is None else value

    title = TITLE.get(p.expenditure_type, TITLE["项目"])
    ws.cell(row=1, column=1, value=f"{p.year}年度{title}" if p.year else title).font = Font(bold=True, size=14)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_col)
    # one label and its value across the row, or two pairs side by side (label A:B, value C:D, label E:F, value G:H)
    block: list[list[tuple[str, object]]] = [
        [("项目名称", p.name)],
        [("主管部门", p.department), ("实施单位", p.implementing_unit)],
        [("项目类别", labels.project_type), ("所属行业", labels.sector)],
        [("支出类型", p.expenditure_type), ("预算年度", p.year or "")],
        [],  # 资金情况: its own layout below
        [("项目概况", p.description)],
    ]
    if p.budget_executed_wan_yuan is not None or p.as_of:
        block.append([("已执行资金（万元）", money(p.budget_executed_wan_yuan)), ("截至日期", p.as_of)])
    # the goal comes last: an empty goal's reader looks at the row below it
    block.append([("年度总体目标", table.goal)])
    r = 2
    for pairs in block:
        if not pairs:
            span(r, 1, 2, "资金情况（万元）", bold=True, fill=True)
            for c, (label, value) in enumerate((("年度资金总额", p.budget_wan_yuan), ("其中：财政拨款", p.fiscal_wan_yuan),
                                                ("其他资金", p.other_wan_yuan))):
                put(r, 3 + 2 * c, label, bold=True, fill=True)
                put(r, 4 + 2 * c, money(value))
        elif len(pairs) == 1:
            span(r, 1, 2, pairs[0][0], bold=True, fill=True)
            span(r, 3, last_col, pairs[0][1])
        else:
            for k, (label, value) in enumerate(pairs):
                span(r, 1 + 4 * k, 2 + 4 * k, label, bold=True, fill=True)
                span(r, 3 + 4 * k, 4 + 4 * k, value)
        r += 1
    columns, titles = list(COLUMNS), list(COLUMN_TITLES)
    for field, title in (("actual", "实际完成值"), ("self_score", "自评得分")):
        if any(getattr(row, field) not in ("", None) for row in table.indicators):
            columns.append(field)
            titles.append(title)
    for c, title in enumerate(titles, start=1):
        put(r, c, title, bold=True, fill=True, align="center")
    first = r + 1
    for i, row in enumerate(table.indicators):
        for c, field in enumerate(columns, start=1):
            value = getattr(row, field)
            value = "" if value is None else (number_or_text(value) if field in ("value", "actual") else value)
            put(first + i, c, value, align="center" if field in ("operator", "unit") else "left")
    _merge_runs(ws, table, first)
    for c, width in enumerate((12, 16, 30, 10, 16, 10, 12, 14, 14, 10), start=1):
        ws.column_dimensions[chr(64 + c)].width = width
    ws.freeze_panes = ws.cell(row=first, column=1)
    _print_setup(ws, first - 1)
    _monitoring_sheet(wb.create_sheet(MONITOR_SHEET), table)
    if target is None:
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()
    wb.save(target)
    return None


def _monitoring_sheet(ws, table: TargetTable) -> None:
    """The 绩效监控表 layout: each indicator's 年度目标值, the value achieved so far, the projected year-end
    value, the reason for a deviation and how likely the target is (确定能 / 有可能 / 完全不可能). Filled from
    zhibiao's monitoring where the table carries actual values, the budget spent and the date; blank for the
    unit to fill otherwise (and read back by read_table)."""
    from kb.errors import KbError
    from kb.targets.monitoring import LATE, UNREACHABLE, monitor

    p = table.project
    result = None
    if table.has_actuals:
        try:
            result = monitor(table)
        except KbError:
            result = None  # not enough to monitor yet: the sheet stays a form to fill
    months = f"1–{int(p.as_of[5:7])}月" if p.as_of else "1–  月"
    titles = [t.format(months=months) for t in MONITOR_COLUMNS]
    last_col = len(titles)

    def put(row: int, col: int, value, bold: bool = False):
        cell = text_cell(ws, row, col, value)
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if bold:
            cell.font = Font(bold=True)
            cell.fill = _HEAD_FILL
        return cell

    ws.cell(row=1, column=1, value="项目支出绩效监控表").font = Font(bold=True, size=14)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_col)
    rate = f"{result.execution_rate * 100:.1f}%" if result else ""
    info = [("项目名称", p.name), ("主管部门", p.department), ("预算金额（万元）", "" if p.budget_wan_yuan is None else p.budget_wan_yuan),
            ("已执行资金（万元）", "" if p.budget_executed_wan_yuan is None else p.budget_executed_wan_yuan),
            ("预算执行率", rate), ("截至日期", p.as_of), ("年度总体目标", table.goal)]
    r = 2
    for label, value in info:
        put(r, 1, label, bold=True)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        put(r, 3, value)
        ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=last_col)
        r += 1
    for c, title in enumerate(titles, start=1):
        put(r, c, title, bold=True)
    unreachable = {n for w in (result.warnings if result else []) if w.kind in (UNREACHABLE, LATE) for n in w.rows}
    for i, row in enumerate(table.indicators):
        m = result.rows[i] if result else None
        projected = fmt(m.projected) + row.unit if m and m.projected is not None else ""
        likely = ""
        if m and m.completion is not None:
            likely = "完全不可能" if i + 1 in unreachable else ("确定能" if m.completion >= 1 else "有可能")
        for c, value in enumerate((row.level1, row.level2, row.name, row.target_text, number_or_text(row.actual), projected, "",
                                   likely), start=1):
            put(r + 1 + i, c, value)
    for c, width in enumerate((12, 16, 30, 16, 16, 14, 24, 12), start=1):
        ws.column_dimensions[chr(64 + c)].width = width
    ws.freeze_panes = ws.cell(row=r + 1, column=1)
    _print_setup(ws, r)


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

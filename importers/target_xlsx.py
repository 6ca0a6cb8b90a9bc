"""A 绩效目标表 (or 自评表) as an .xlsx: the layout zhibiao writes and the layouts provinces and
cities publish (importers/README.md lists each with the page it was seen on).

A sheet holds a title, a project block, then the indicator table (一级指标 | 二级指标 | 三级指标 |
指标性质 | 指标值 | 计量单位 …). The project block is read as label | value pairs (项目名称, 主管部门
…), a funds grid (年初预算数 | 全年预算数 | 全年执行数 columns over 年度资金总额 / 其中：财政拨款
rows) and a goal grid (预期目标 | 实际完成情况, or 中期目标 | 年度目标, over the texts). The header
row is found by its names (importers/header_aliases.yaml, the one place that lists the headers of
indicator tables; TARGET_COLUMNS says which of its columns a target table has). Merged cells are
read from the sheet's XML and filled into every cell they cover, so a merged 一级/二级 cell or a
merged goal text is read wherever the layout puts it. A sheet may hold several tables: 重庆's
一般性项目绩效目标表 one under another, or 四川's 横表 with a 项目名称 column. `read_tables` returns
every table of a workbook with the sheet rows of its indicator rows; `read_table` (the check, the
monitor, the drafting page) takes a workbook of exactly one.

Each table is handed to kb.targets.schema as a dict, so an .xlsx and a JSON table are validated
alike, and its problems name the sheet row. The writer produces the 项目支出绩效目标申报表 layout
(and a 监控表 sheet), stores numbers as numbers, and writes text that a spreadsheet would run as a
formula as a quote-prefixed text cell.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from importers.aliases import alias_table
from importers.xlsx_reader import _MERGE_REF
from kb.errors import InvalidInput, Problem
from kb.numerals import fmt, to_number
from kb.targets.project import ProjectLabels
from kb.targets.schema import load_table
from kb.targets.table import TargetTable, normalise_operator

# target-table field → the column of the indicator-table alias table that holds it (in a
# target table the 指标值 column is the target value, in the library a reference value)
TARGET_COLUMNS: dict[str, str] = {
    "level1": "level1", "level2": "level2", "name": "name", "operator": "operator", "value": "reference_value",
    "unit": "unit", "basis": "value_basis", "code": "code",
}
# 一级/二级 columns are the rule but not universal: 重庆's 一般性项目绩效目标表 lists 指标 | 指标权重 |
# 计量单位 | 指标性质 | 指标值 only (the check then reports the missing levels)
REQUIRED_COLUMNS = ("name", "value")

# labels of the project block above the table → project field (compared without spaces and a
# trailing colon; a bracketed remark such as "（万元）" or "(盖章)" is dropped when nothing matches)
PROJECT_LABELS: dict[str, tuple[str, ...]] = {
    "name": ("项目名称", "项目（政策）名称", "项目(政策)名称", "政策名称", "项目支出名称", "专项资金名称", "专项名称"),
    "unit_name": ("部门名称", "单位名称", "部门（单位）名称", "部门(单位)名称", "预算单位", "编制单位", "填报单位"),
    "department": ("主管部门", "主管部门及代码", "项目主管部门", "业务主管部门", "预算部门", "县级主管部门",
                   "地方主管部门"),
    "implementing_unit": ("实施单位", "项目实施单位", "项目单位", "资金使用单位"),
    "year": ("预算年度", "项目年度"),
    "fiscal_wan_yuan": ("其中：财政拨款", "其中:财政拨款", "财政拨款", "其中：财政资金", "财政资金",
                        "其中：财政拨款数", "其中:财政拨款数", "财政拨款数", "其中：当年财政拨款", "当年财政拨款"),
    "other_wan_yuan": ("其他资金", "其中：其他资金", "其中:其他资金", "自筹资金", "其他"),
    "sector": ("所属行业", "行业", "行业领域", "所属领域", "领域", "行业/领域"),
    "project_type": ("项目类别", "项目类型"),
    "budget_wan_yuan": ("预算金额（万元）", "预算金额(万元)", "项目资金（万元）", "项目资金(万元)", "年度资金总额",
                        "资金总额", "项目预算（万元）", "项目预算", "预算金额", "年度预算数", "预算数（万元）", "预算数",
                        "年度本级预算金额", "当年预算", "年度金额", "转移支付预算数", "本年度申请市财政预算资金"),
    "description": ("项目概况", "项目内容", "项目描述", "项目简介", "实施内容", "主要内容", "项目实施内容",
                    "项目总体情况", "部门职能职责概述"),
    "expenditure_type": ("支出类型",),
    "budget_executed_wan_yuan": ("已执行资金", "已执行资金（万元）", "已执行资金(万元)", "执行数", "全年执行数",
                                 "预算执行数", "已支出资金", "累计执行数", "执行金额", "转移支付执行数"),
    "as_of": ("截至日期", "截止日期", "监控日期", "数据截至日期", "监控截至日期"),
}
MONEY_FIELDS = ("budget_wan_yuan", "fiscal_wan_yuan", "other_wan_yuan", "budget_executed_wan_yuan")
ACTUAL_LABELS = ("实际完成值", "实际值", "完成值", "全年实际值", "全年完成值", "实际完成情况", "完成情况")
SCORE_LABELS = ("得分", "自评得分", "自评分", "自评分值")
GOAL_LABELS = ("年度总体目标", "年度绩效目标", "总体目标", "年度目标", "绩效目标", "整体绩效目标", "本年度绩效目标",
               "当年绩效目标", "项目绩效目标", "项目年度目标")
# a goal grid: headings over the goal texts; the year's target is under a "target" heading, the
# others (实际完成情况, 中期目标 …) are not the year's target
GOAL_HEADINGS = {
    "target": ("预期目标", "年度目标", "年初设定目标", "项目年度目标", "本年度目标", "年度绩效目标", "当年目标"),
    "other": ("实际完成情况", "全年实际完成情况", "目标实际完成情况", "年度目标完成情况", "实际完成", "完成情况",
              "中期目标", "中长期目标", "中期滚动目标", "长期目标", "实施期目标", "总目标"),
}
# a funds grid: value columns (the budget prefers the year's adjusted amount) over rows of amounts
FUND_COLUMNS = {
    "budget": ("全年预算数", "调整后预算数", "调整后预算", "年初预算数", "年初预算", "年初安排金额"),
    "executed": ("全年执行数", "预算执行数", "执行数", "实际执行数"),
    "other": ("执行率", "预算执行率", "分值", "得分", "权重", "原因"),
}
FUND_LABEL_COLUMNS = ("资金来源", "年度预算数")  # the heading over the rows' labels
FUND_ROWS = {"budget_wan_yuan": ("年度资金总额", "资金总额", "总额", "合计"),
             "fiscal_wan_yuan": ("当年财政拨款", "本年财政拨款", "财政拨款", "财政资金", "财政拨款数"),
             "other_wan_yuan": ("其他资金",)}
# a row that ends an indicator table (its first cell)
END_LABELS = ("总分", "合计", "总计")
END_PREFIXES = ("评价结论", "存在问题", "改进措施", "主管部门审核意见", "财政部门审核意见", "审核意见", "填表人",
                "填报人", "项目负责人", "单位负责人", "财务负责人", "其他说明", "注：", "注:", "说明：", "说明:")
TITLE_RE = re.compile(r"(目标表|申报表|自评表|批复表|监控表)")
_YUAN_RE = re.compile(r"单位[:：]\s*元(?![/／])")

TITLE = {"项目": "项目支出绩效目标申报表", "部门整体": "部门整体支出绩效目标申报表"}
MONITOR_SHEET = "监控表"
MONITOR_COLUMNS = ("一级指标", "二级指标", "三级指标", "年度目标值", "{months}实际完成值", "预计全年完成值",
                   "偏差原因", "完成目标可能性")
COLUMNS = ("level1", "level2", "name", "operator", "value", "unit", "basis", "code")
COLUMN_TITLES = ("一级指标", "二级指标", "三级指标", "指标性质", "指标值", "计量单位", "取值依据", "指标编码")
MAX_ROWS = 2000
MAX_COLS = 80  # no target table is wider; cells beyond are not read
MAX_MERGES = 20_000
FORMULA_PREFIXES = ("=", "+", "-", "@")
_PLAIN_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")


class TableFileInvalid(InvalidInput):
    error = "invalid_table_file"
    meaning = "目标表文件无法读取或认不出目标表的版式"


@dataclass
class SheetTable:
    """One table found in a workbook, with where it was found."""
    table: TargetTable
    sheet: str
    title: str  # the form's title as printed ("项目支出绩效自评表"), or ""
    kind: str  # 目标表 | 自评表 | 监控表: from the title, else 自评表 when rows carry results
    header_row: int  # sheet row of the indicator header (1-based)
    rows: list[int] = dataclass_field(default_factory=list)  # sheet row of each indicator row


@dataclass
class _Found:
    """A table's JSON as read, and where it was read, before validation."""
    raw: dict
    sheet: str
    title: str
    header_row: int
    rows: list[int]


_CODED_NAME_RE = re.compile(r"^\s*(\d{3,7})\s+\S")
_YEAR_RES = (re.compile(r"[（(]((?:19|20)\d{2})年度?[)）]"), re.compile(r"^((?:19|20)\d{2})年度?.*(?:目标|监控|自评|申报|批复)"),
             re.compile(r"((?:19|20)\d{2})年度?.*(?:目标|监控|自评)"))
_SCORE_SUFFIX_RE = re.compile(r"[（(][\d.]+(?:[-—~～][\d.]+)?分?[)）]分?$")


def _clean_label(value) -> str:
    text = re.sub(r"\s+", "", str(value or ""))
    return text.rstrip("：:")


def _strip_remark(label: str) -> str:
    return re.sub(r"[（(][^）)]*[）)]$", "", label)


def _in(label: str, names) -> bool:
    return label in names or _strip_remark(label) in names


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
    if table.is_sniffed(str(value)):
        return "operator"  # 指标方向 holds ≥ ≤ = in many target tables (_operator_column tells them apart)
    key = table.key_for(str(value))
    return next((field for field, column in TARGET_COLUMNS.items() if column == key), None)


def _header(field: str) -> str:
    return alias_table().header_of(TARGET_COLUMNS[field])


def _label_field(value) -> str | None:
    label = _clean_label(value)
    if not label:
        return None
    if _in(label, GOAL_LABELS):
        return "goal"
    for field, aliases in PROJECT_LABELS.items():
        if _in(label, aliases):
            return field
    return None


def _inline_label(value) -> tuple[str, str] | None:
    """"资金总额：952.22" in one cell → (budget_wan_yuan, "952.22")."""
    m = re.match(r"^([^:：]{2,20})[:：]([^:：]+)$", re.sub(r"\s+", "", str(value or "")))
    if not m or m.group(2) in ("(盖章)", "（盖章）"):
        return None  # "填报单位:(盖章)单位:万元" is a form's printed line, not a value
    field = _label_field(m.group(1))
    return (field, m.group(2)) if field else None


def _goal_heading(value) -> str | None:
    label = _strip_remark(_clean_label(value))
    return next((kind for kind, names in GOAL_HEADINGS.items() if label in names), None)


def _fund_heading(value) -> str | None:
    label = _strip_remark(_clean_label(value))
    if label in FUND_LABEL_COLUMNS:
        return "label"
    return next((kind for kind, names in FUND_COLUMNS.items() if label in names), None)


def _fund_row(value) -> str | None:
    label = _strip_remark(_clean_label(value))
    label = re.sub(r"^其中[:：]?", "", label)
    return next((f for f, names in FUND_ROWS.items() if label in names), None)


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


def _indicator_text(text: str) -> str:
    """A wrapped cell's lines joined (a Chinese cell wraps without spaces)."""
    return re.sub(r"\s*\n\s*", "", text)


def _level_text(text: str) -> str:
    """"产\\n出\\n指\\n标" (a narrow merged cell), "产出指标(50分)" and "产出指标 (50分)" → 产出指标."""
    return _SCORE_SUFFIX_RE.sub("", re.sub(r"\s+", "", text))


def _source_bytes(source: str | Path | bytes | BinaryIO) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    return source.read()


def _open(data: bytes):
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise TableFileInvalid(f"无法读取 Excel 文件（应为 .xlsx）：{exc.__class__.__name__}") from None


class _Sheet:
    """A sheet's cells as text: `raw` as stored (a merged range's text in its top-left cell only),
    `filled` with every merged range's text in each cell it covers."""

    def __init__(self, title: str, raw: list[list[str]], merges: list[tuple[int, int, int, int]]):
        self.title = title
        width = max((len(r) for r in raw), default=0)
        self.raw = [r + [""] * (width - len(r)) for r in raw]
        self.filled = [list(r) for r in self.raw]
        self.anchor: dict[tuple[int, int], tuple[int, int]] = {}
        # merged ranges never overlap in a sheet Excel wrote: they cover each cell once at most
        budget = len(self.raw) * width + 1000
        for min_col, min_row, max_col, max_row in merges[:MAX_MERGES]:
            r0, c0 = min_row - 1, min_col - 1
            if r0 >= len(self.raw) or c0 >= width:
                continue
            text = self.raw[r0][c0]
            rows, cols = range(r0, min(max_row, len(self.raw))), range(c0, min(max_col, width))
            budget -= len(rows) * len(cols)
            if budget < 0:
                raise TableFileInvalid(f"工作表“{title}”的合并单元格互相重叠，无法读取：请在 Excel 中取消合并后另存")
            for r in rows:
                for c in cols:
                    if (r, c) != (r0, c0) and (r, c) not in self.anchor:
                        self.anchor[(r, c)] = (r0, c0)
                        self.filled[r][c] = text

    def __len__(self) -> int:
        return len(self.raw)

    def cells(self, r: int) -> list[tuple[int, str]]:
        """The row's stored cells, left to right: one per merged range."""
        return [(c, t) for c, t in enumerate(self.raw[r]) if t]

    def down(self, r: int, c: int) -> str:
        """A cell of a table: its own text, or that of a range merged down into it (not across: a
        header merged over two columns names one column, a text value merged over 指标值 and 计量单位
        is a value)."""
        if self.raw[r][c]:
            return self.raw[r][c]
        anchor = self.anchor.get((r, c))
        return self.filled[r][c] if anchor and anchor[1] == c else ""

    def first_text(self, r: int) -> str:
        return next((t for _, t in self.cells(r)), "")

    def one_span(self, r: int) -> bool:
        """A row that is one merged cell across the table (a title, a remark)."""
        cells = self.cells(r)
        if len(cells) != 1:
            return False
        c0 = cells[0][0]
        return sum(1 for c in range(c0 + 1, len(self.raw[r])) if self.anchor.get((r, c)) == (r, c0)) >= 2


def _merge_ranges(archive: zipfile.ZipFile | None, path: str | None) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges, found in its XML by a byte scan (nothing is parsed or expanded)."""
    if archive is None or not path:
        return []
    refs: list[bytes] = []
    try:
        with archive.open(path.lstrip("/")) as stream:
            tail = b""
            while chunk := stream.read(1 << 20):
                buffer = tail + chunk
                refs.extend(_MERGE_REF.findall(buffer))
                tail = buffer[-200:]
    except (KeyError, zipfile.BadZipFile, OSError):
        return []
    ranges = []
    for ref in dict.fromkeys(refs):  # the tail overlap can find a range twice
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref.decode("ascii"))
        except (ValueError, TypeError):
            continue
        if min_row <= MAX_ROWS and min_col <= MAX_COLS and (max_row > min_row or max_col > min_col):
            ranges.append((min_col, min_row, min(max_col, MAX_COLS), min(max_row, MAX_ROWS)))
    return ranges


def _read_sheet(ws, archive) -> _Sheet:
    raw = []
    for i, row in enumerate(ws.iter_rows(values_only=True, max_col=MAX_COLS), start=1):
        if i > MAX_ROWS:
            raise TableFileInvalid(f"工作表“{ws.title}”超过 {MAX_ROWS} 行，请只保留目标表")
        raw.append([_cell_text(v) for v in row[:MAX_COLS]])
    return _Sheet(ws.title, raw, _merge_ranges(archive, getattr(ws, "_worksheet_path", None)))


def read_tables(source: str | Path | bytes | BinaryIO) -> list[SheetTable]:
    """Every 绩效目标表/自评表 in a workbook, each validated like JSON; a KbError says what is wrong
    (with the sheet rows of the rows at fault)."""
    data = _source_bytes(source)
    wb = _open(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        archive = None
    try:
        found: list[_Found] = []
        for ws in wb.worksheets:
            if ws.title == MONITOR_SHEET or not hasattr(ws, "iter_rows"):
                continue
            try:
                found.extend(_sheet_tables(_read_sheet(ws, archive)))
            except TableFileInvalid:
                raise
            except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
                raise TableFileInvalid(f"无法读取工作表“{ws.title}”：{exc.__class__.__name__}") from None
        if not found:
            raise TableFileInvalid(
                "未找到指标表的表头：需要列 " + "、".join(_header(c) for c in REQUIRED_COLUMNS)
                + "（可另有 " + "、".join(_header(c) for c in TARGET_COLUMNS if c not in REQUIRED_COLUMNS) + "）"
            )
        if len(found) == 1 and MONITOR_SHEET in wb.sheetnames:
            _add_monitoring(found[0].raw, _read_sheet(wb[MONITOR_SHEET], archive))
    finally:
        wb.close()
    tables, problems = [], []
    for f in found:
        try:
            table = load_table(f.raw)
        except InvalidInput as exc:
            problems += [_sheet_problem(p, f) for p in exc.problems or [Problem(exc.message)]]
            continue
        tables.append(SheetTable(table, f.sheet, f.title, _kind(f.title, table), f.header_row, f.rows))
    if problems:
        first = problems[0]
        place = " ".join(p for p in (first.location, f"第{first.row}行" if first.row else "", first.field) if p)
        raise InvalidInput(f"目标表不正确：{place}：{first.message}", problems)
    return tables


def read_table(source: str | Path | bytes | BinaryIO) -> TargetTable:
    """An .xlsx 绩效目标表 → TargetTable (validated like JSON), or a KbError saying what is wrong."""
    tables = read_tables(source)
    if len(tables) > 1:
        names = "、".join(f"“{t.table.project.name}”" for t in tables[:5]) + ("等" if len(tables) > 5 else "")
        raise TableFileInvalid(f"工作簿中有 {len(tables)} 张目标表（{names}）：请一次只上传一张"
                               "（多张表可用 zhibiao cases import 导入案例库）")
    return tables[0].table


def _kind(title: str, table: TargetTable) -> str:
    if "自评" in title:
        return "自评表"
    if "监控" in title:
        return "监控表"
    return "自评表" if table.has_actuals or any(r.self_score is not None for r in table.indicators) else "目标表"


def _sheet_problem(p: Problem, where: _Found) -> Problem:
    """A problem of the table's JSON (row = the n-th indicator row) → the sheet row it came from."""
    row = where.rows[p.row - 1] if p.row and p.row <= len(where.rows) else None
    label = p.field.removeprefix("绩效指标·") if row else p.field
    return Problem(p.message, f"工作表“{where.sheet}”", row, label)


# --- finding the tables of a sheet ----------------------------------------------------------

def _header_fields(sheet: _Sheet, r: int) -> dict[int, str]:
    out = {}
    for c in range(len(sheet.raw[r])):
        f = _header_field(sheet.down(r, c))
        if f:
            out[c] = f
    return out


def _is_header(fields: dict[int, str]) -> bool:
    found = set(fields.values())
    return len(found) >= 3 and all(f in found for f in REQUIRED_COLUMNS)


def _starts_table(sheet: _Sheet, r: int) -> bool:
    """A row that belongs to the next table's block: its title, or its project's name or unit."""
    cells = sheet.cells(r)
    if len(cells) == 1 and TITLE_RE.search(cells[0][1]) and len(cells[0][1]) <= 80:
        return True
    return any(_label_field(t) in ("name", "unit_name", "department", "implementing_unit") for _, t in cells)


def _ends_table(sheet: _Sheet, r: int) -> bool:
    first = _clean_label(sheet.first_text(r))
    return first in END_LABELS or first.startswith(END_PREFIXES)


def _sheet_tables(sheet: _Sheet) -> list[_Found]:
    out: list[_Found] = []
    start, r, partial = 0, 0, None
    while r < len(sheet):
        fields = _header_fields(sheet, r)
        if len(set(fields.values())) < 3:
            r += 1
            continue
        if not _is_header(fields):
            partial = partial if partial is not None else (r, [c for c in REQUIRED_COLUMNS if c not in fields.values()])
            r += 1
            continue
        columns, project_columns = _columns(fields, sheet, r)
        end = r + 1
        while end < len(sheet) and not _starts_table(sheet, end) and not _ends_table(sheet, end):
            end += 1
        if "name" in project_columns:
            out += _flat_tables(sheet, start, r, end, columns, project_columns)
        else:
            project, goal, title = _project(sheet, start, r)
            rows, numbers = _indicator_rows(sheet, r, end, columns)
            out.append(_Found({"project": project, "goal": goal, "indicators": rows}, sheet.title, title, r + 1, numbers))
        start = r = end
    if not out and partial is not None:
        raise TableFileInvalid(f"工作表“{sheet.title}”第{partial[0] + 1}行像是指标表表头，但缺少列："
                               + "、".join(_header(c) for c in partial[1]))
    return out


def _columns(fields: dict[int, str], sheet: _Sheet, header: int) -> tuple[dict[str, int], dict[str, int]]:
    """Target field → column; and, for a 横表, project field → column."""
    by_field: dict[str, list[int]] = {}
    for c, f in sorted(fields.items()):
        by_field.setdefault(f, []).append(c)
    # two blocks side by side (中期 | 年度: 二级指标 | 三级指标 | 指标值 twice): the year's block is the right one
    dual = any(len(by_field.get(f, ())) > 1 for f in ("name", "value"))
    columns = {f: (cols[-1] if dual else cols[0]) for f, cols in by_field.items()}
    if "operator" in by_field:
        chosen = _operator_column(sheet, header, by_field["operator"])
        if chosen is None:
            del columns["operator"]
        else:
            columns["operator"] = chosen
    project_columns: dict[str, int] = {}
    for c in range(len(sheet.raw[header])):
        if c not in fields:
            f = _label_field(sheet.down(header, c))
            if f and f not in project_columns:
                project_columns[f] = c
    return columns, project_columns


_OPERATORS = {"≥", "≤", "=", ">", "<", "区间", "定性"}


def _operator_column(sheet: _Sheet, header: int, candidates: list[int]) -> int | None:
    """The column of ≥ ≤ = among those whose header can name it: 内蒙古's tables head 正向/反向
    指标性质 and ≥ ≤ = 指标方向, other provinces the reverse. A column of directions is no operator."""
    table = alias_table()
    directions = []
    for c in candidates:
        values = [v for r in range(header + 1, min(len(sheet), header + 200)) if (v := sheet.down(r, c))]
        if any(normalise_operator(v) in _OPERATORS for v in values):
            return c
        directions.append(any(table.value_of("direction", v) in ("up", "down") for v in values))
    return next((c for c, d in zip(candidates, directions) if not d), None)


def _indicator_rows(sheet: _Sheet, header: int, end: int, columns: dict[str, int],
                    only: set[int] | None = None) -> tuple[list[dict], list[int]]:
    """The indicator rows under a header (`only` those rows), and the sheet row of each."""
    rows, numbers = [], []
    last1 = last2 = ""
    for r in range(header + 1, end):
        if (only is not None and r not in only) or sheet.one_span(r):
            continue  # another project's row (横表), or a remark or section line merged across the table
        cells = {f: _indicator_text(sheet.down(r, c)) for f, c in columns.items()}
        if _header_field(cells.get("name")) == "name":
            continue  # a repeated header (page breaks)
        for level in ("level1", "level2"):
            if cells.get(level):
                cells[level] = _level_text(cells[level])
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
        if not any(cells.get(f) for f in ("name", "value", "operator", "unit", "actual")):
            continue
        rows.append(cells)
        numbers.append(r + 1)
    return rows, numbers


# --- the project block ----------------------------------------------------------------------

def _project(sheet: _Sheet, start: int, header: int) -> tuple[dict, str, str]:
    """The project fields, the 年度目标 and the title printed above a table (rows start..header-1)."""
    project: dict = {}
    used: set[int] = set()
    title = _title(sheet, start, header)
    goal = _goal_grid(sheet, start, header, used)
    project.update(_funds_grid(sheet, start, header, used))
    for r in range(start, header):
        if r in used:
            continue
        cells = sheet.cells(r)
        found: dict[str, str] = {}
        i = 0
        while i < len(cells):
            text = cells[i][1]
            inline = _inline_label(text)
            label = _label_field(text)
            if label is None and inline is None:
                i += 1
                continue
            if label is None:
                field, value, i = inline[0], inline[1], i + 1
            else:
                field, value = label, ""
                nxt = cells[i + 1][1] if i + 1 < len(cells) else ""
                # a label whose value is the next label (or a grid heading) belongs to an empty field
                if nxt and _label_field(nxt) is None and _goal_heading(nxt) is None and _inline_label(nxt) is None:
                    value = nxt
                    i += 1
                i += 1
            if field == "goal" and not value and r + 1 < header and r + 1 not in used:
                value = next((t for _, t in sheet.cells(r + 1) if _label_field(t) is None), "")
            if value and value not in ("(盖章)", "（盖章）"):
                found[field] = value  # the same label twice in a row: 中期 | 年度, the year's is on the right
        for f, v in found.items():
            if f == "goal":
                goal = goal or v
            elif f not in project:
                project[f] = v
    block = [t for r in range(start, header + 1) for _, t in sheet.cells(r)]
    if any(_YUAN_RE.search(t) for t in block) and not any("万元" in t for t in block):
        for f in MONEY_FIELDS:  # amounts in 元 (金额单位：元), unless a label says 万元
            if f in project and to_number(str(project[f])) is not None:
                project[f] = f"{project[f]}元"
    return _finish(project, title, sheet, start, header), goal, title


def _finish(project: dict, title: str, sheet: _Sheet, start: int, header: int) -> dict:
    unit_name = project.pop("unit_name", "")
    if project.get("implementing_unit") and "department" not in project:
        project["department"] = project["implementing_unit"]  # forms with only 实施单位 still name a department
    m = _CODED_NAME_RE.match(project.get("sector", ""))
    if m:
        project["sector"] = m.group(1)  # "21002 公立医院" as our exports write it
    if "year" not in project:
        year = _year(sheet, start, header)
        if year:
            project["year"] = year
    whole = "部门整体" in title or "整体支出" in title
    if "name" not in project:
        if title and not whole and _names_something(title):
            project["name"] = title  # a 区域/转移支付 table names no project: its title does
        elif unit_name:
            project["name"] = unit_name
            whole = True
    if unit_name and "department" not in project:
        project["department"] = unit_name
    if whole and "expenditure_type" not in project:
        project["expenditure_type"] = "部门整体"
    return project


def _names_something(title: str) -> bool:
    """"2021年中央对地方专项转移支付区域绩效目标自评表" says what it is about; "项目支出绩效目标表" does not."""
    rest = re.sub(r"^\d{4}年度?|[（(][^）)]*[)）]", "", title)
    rest = re.sub(r"项目支出|部门整体支出|部门预算|项目|绩效|目标|申报|自评|批复|监控|表", "", rest)
    return len(rest) >= 2


def _title(sheet: _Sheet, start: int, header: int) -> str:
    for r in range(start, header):
        texts = [t for _, t in sheet.cells(r)]
        if any(_label_field(t) for t in texts):
            break
        hit = next((t for t in texts if TITLE_RE.search(t) and len(t) <= 80), None)
        if hit:
            return re.sub(r"\s+", "", hit)
    return ""


def _year(sheet: _Sheet, start: int, header: int) -> str:
    """The year printed with the title: "（2023年度）", "2025年项目支出绩效目标表"."""
    texts = []
    for r in range(start, header):
        cells = [t for _, t in sheet.cells(r)]
        if any(_label_field(t) for t in cells):
            break
        texts.append(re.sub(r"\s+", "", "".join(cells)))
    for pattern in _YEAR_RES:
        for t in texts:
            m = pattern.search(t)
            if m:
                return m.group(1)
    return ""


def _goal_grid(sheet: _Sheet, start: int, header: int, used: set[int]) -> str:
    """预期目标 | 实际完成情况 (or 中期目标 | 年度目标) over the texts: the text under the year's target."""
    for r in range(start, header):
        cells = sheet.cells(r)
        if cells and _label_field(cells[0][1]) == "goal":
            cells = cells[1:]  # the row's label (年度总体目标 | 预期目标 | 实际完成情况), not a heading
        heads = [(c, k) for c, t in cells if (k := _goal_heading(t))]
        if len(heads) < 2 or not any(k == "target" for _, k in heads):
            continue
        col = next(c for c, k in heads if k == "target")
        stop = next((c for c, _ in heads if c > col), len(sheet.raw[r]))
        for below in range(r + 1, min(r + 3, header)):
            texts = [sheet.filled[below][c] for c in range(col, stop) if sheet.filled[below][c]]
            if texts and not _goal_heading(texts[0]) and _label_field(texts[0]) is None:
                used.update((r, below))
                return texts[0]
        used.add(r)
        return ""
    return ""


def _funds_grid(sheet: _Sheet, start: int, header: int, used: set[int]) -> dict:
    """年初预算数 | 全年预算数 | 全年执行数 … over 年度资金总额 / 其中：财政拨款 / 其他资金 rows."""
    for r in range(start, header):
        heads = {c: k for c, t in sheet.cells(r) if (k := _fund_heading(t))}
        values = [k for k in heads.values() if k != "label"]
        if not ({"budget", "executed"} & set(values)) or not (len(values) >= 2 or "label" in heads.values()):
            continue
        names = {c: _strip_remark(_clean_label(sheet.raw[r][c])) for c in heads}
        budget_cols = [c for name in FUND_COLUMNS["budget"] for c, n in names.items() if n == name]
        executed_cols = [c for name in FUND_COLUMNS["executed"] for c, n in names.items() if n == name]
        first_value = min(c for c, k in heads.items() if k != "label")
        found: dict = {}
        used.add(r)
        for below in range(r + 1, header):
            label = next((t for c, t in sheet.cells(below) if c < first_value), "")
            field = _fund_row(label)
            if field is None:
                if not label or not re.search(r"资金|拨款|结转|收入", label):
                    break
                used.add(below)  # 上年结转资金, 财政专户管理资金 …: read, not kept
                continue
            used.add(below)
            amount = next((sheet.filled[below][c] for c in budget_cols if sheet.filled[below][c]), "")
            if amount and field not in found:
                found[field] = amount
            if field == "budget_wan_yuan":
                spent = next((sheet.filled[below][c] for c in executed_cols if sheet.filled[below][c]), "")
                if spent:
                    found["budget_executed_wan_yuan"] = spent
        return found
    return {}


def _flat_tables(sheet: _Sheet, start: int, header: int, end: int, columns: dict[str, int],
                 project_columns: dict[str, int]) -> list[_Found]:
    """A 横表: one row per indicator, the project in columns (单位名称 | 项目名称 | 预算数 | 年度目标)
    merged down each project's rows. Each project is a table; a unit's subtotal row (no 项目名称) is none."""
    shared, _, title = _project(sheet, start, header)
    shared.pop("name", None)
    block = [t for r in range(start, header + 1) for _, t in sheet.cells(r)]
    yuan = any(_YUAN_RE.search(t) for t in block) and not any("万元" in t for t in block)
    groups: list[tuple[int, list[int]]] = []  # (the project's first row, its rows)
    for r in range(header + 1, end):
        name = _indicator_text(sheet.down(r, project_columns["name"]))
        if not name:
            continue
        if not groups or name != _indicator_text(sheet.down(groups[-1][0], project_columns["name"])):
            groups.append((r, []))
        groups[-1][1].append(r)
    out = []
    for first, lines in groups:
        project, goal = dict(shared), ""
        for f, c in project_columns.items():
            text = _indicator_text(sheet.down(first, c))
            if f == "goal":
                goal = text
            elif f == "unit_name":
                if text:
                    project["department"] = text
            elif text:
                project[f] = f"{text}元" if yuan and f in MONEY_FIELDS and to_number(text) is not None else text
        rows, numbers = _indicator_rows(sheet, lines[0] - 1, lines[-1] + 1, columns, only=set(lines))
        out.append(_Found({"project": project, "goal": goal, "indicators": rows}, sheet.title, title, header + 1, numbers))
    return out


def _add_monitoring(table: dict, sheet: _Sheet) -> None:
    """What a unit filled in the 监控表 sheet we export: 截至日期, 已执行资金 and each row's 实际完成值
    (matched by 三级指标 name, in order), unless the target sheet already states them."""
    head = next((r for r in range(min(len(sheet), 40)) if {"actual", "name"} <= set(_header_fields(sheet, r).values())), None)
    if head is None:
        return
    project, _, _ = _project(sheet, 0, head)
    columns = {}
    for c, f in sorted(_header_fields(sheet, head).items()):
        columns.setdefault(f, c)
    rows, _ = _indicator_rows(sheet, head, len(sheet), columns)
    for f in ("as_of", "budget_executed_wan_yuan"):
        if project.get(f) and not table["project"].get(f):
            table["project"][f] = project[f]
    actuals: dict[str, list[str]] = {}
    for r in rows:
        actuals.setdefault(r.get("name", ""), []).append(r.get("actual", ""))
    for r in table["indicators"]:
        got = actuals.get(r.get("name", ""))
        if got and not r.get("actual"):
            r["actual"] = got.pop(0)
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

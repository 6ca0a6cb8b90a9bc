"""Helpers for the importer tests: workbooks and CSV files in the layouts
provinces and departments publish, and a snapshot of the draft."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
from sqlalchemy import func, select

from kb.library.draft import draft_records, record_data
from kb.models import ChangeLog

# A 卫生健康 sheet as a city bureau publishes it: a title and a note above the
# header, 一级/二级 merged down the groups, odd headers (指标说明, 度量单位,
# 指标性质), a 序号 column, a note row below the data.
HEALTH_TITLE = "某市卫生健康领域个性绩效指标库（2024年版）"
HEALTH_HEADER = ["序号", "一级指标", "二级指标", "三级指标", "指标说明", "度量单位", "指标性质", "指标值", "行业", "指标类别"]
HEALTH_ROWS = [  # rows 4–8; None where a merged cell continues
    [1, "产出指标", "数量指标", "门急诊人次", "年度内门诊和急诊服务的人次", "人次", "≥", 120000, "公立医院", "个性"],
    [2, None, None, "出院人次", "年度内出院患者人次", "人次", "≥", 8000, "21002", "个性"],
    [3, None, "质量指标", "手术患者并发症发生率", "手术患者发生并发症的比例", "%", "≤", 1.5, "21002 公立医院", "个性"],
    [4, None, None, "病历甲级率", "甲级病历占抽查病历的比例", "%", "≥", 90, "公立医院、综合医院", "个性"],
    [5, "满意度指标", "服务对象满意度指标", "患者满意度", "门诊和住院患者满意度调查结果", "%", "≥", 90, "卫生健康", "个性"],
]
HEALTH_MERGES = ["A1:J1", "A2:J2", "B4:B7", "C4:C5", "C6:C7"]


def health_sheet(ws, rows=HEALTH_ROWS, merges=HEALTH_MERGES) -> None:
    ws.append([HEALTH_TITLE])
    ws.append(["填报说明：一级、二级指标为合并单元格；指标值为参考值。"])
    ws.append(HEALTH_HEADER)
    for row in rows:
        ws.append(row)
    ws.append([])
    ws.append(["注：本表由市卫生健康委员会整理。"])
    for ref in merges:
        ws.merge_cells(ref)


def education_sheet(ws) -> None:
    ws.append(["教育领域个性指标"])
    ws.append(["一级指标", "二级指标", "三级指标", "计量单位", "指标性质", "指标值", "行业", "指标类别"])
    ws.append(["产出指标", "数量指标", "资助学生人数", "人", "≥", 500, "教育支出", "个性"])


def workbook_bytes(build) -> bytes:
    """build(workbook) fills a new workbook (its first sheet is removed if unused)."""
    wb = openpyxl.Workbook()
    first = wb.active
    build(wb)
    if first.max_row == 1 and first.max_column == 1 and first["A1"].value is None and len(wb.worksheets) > 1:
        wb.remove(first)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def one_sheet(header: list, rows: list[list], title: str = "指标", above: list[list] | None = None) -> bytes:
    def build(wb):
        ws = wb.active
        ws.title = title
        for row in above or []:
            ws.append(row)
        ws.append(header)
        for row in rows:
            ws.append(row)
    return workbook_bytes(build)


def csv_bytes(rows: list[list], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode(encoding)


def cells_of(data: bytes) -> list[list]:
    """Every sheet's cell values of a workbook (what a reader of the file sees)."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [[ws.title] + [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets]


def draft_snapshot(session) -> dict:
    """Everything an import may change: the draft's indicators and the change log."""
    session.expire_all()
    return {
        "indicators": [record_data("indicator", i) for i in draft_records(session, "indicator")],
        "revisions": {i.code: i.revision for i in draft_records(session, "indicator")},
        "change_log": session.execute(select(func.count()).select_from(ChangeLog)).scalar(),
    }


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path

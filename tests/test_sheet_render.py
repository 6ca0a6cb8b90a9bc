"""The exported 申报表 as a reviewer sees it printed: LibreOffice (headless) turns the .xlsx into a PDF, poppler
into a PNG under test-output/screenshots/ (issue 15 asks for the sheet rendered). Skipped, saying why, where
LibreOffice or poppler is not installed (.ci/run installs both from Debian)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.page_helpers import csrf_token, targets_app, targets_client  # noqa: F401

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
TABLE = {
    "project": {"name": "全市基层卫生人员业务培训", "description": "举办三类培训班2期，每期80人，每期3天", "sector": "210",
                "department": "市卫生健康委员会", "implementing_unit": "市卫生健康培训中心", "year": 2025,
                "budget_wan_yuan": 30, "fiscal_wan_yuan": 25, "other_wan_yuan": 5},
    "goal": "年内举办培训班2期，培训基层卫生人员160人次，受训学员满意度不低于90%。",
    "indicators": [
        {"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "operator": "≥", "value": "160", "unit": "人次", "code": "T-004"},
        {"level1": "产出指标", "level2": "质量指标", "name": "培训合格率", "operator": "=", "value": "100", "unit": "%"},
        {"level1": "产出指标", "level2": "时效指标", "name": "培训完成时间", "operator": "≤", "value": "2025-11-30", "unit": ""},
        {"level1": "成本指标", "level2": "经济成本指标", "name": "培训费", "operator": "≤", "value": "26.4", "unit": "万元"},
        {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "受训学员满意度", "operator": "≥", "value": "90", "unit": "%"},
    ],
}


@pytest.mark.skipif(not SOFFICE, reason="LibreOffice not installed (Debian: apt-get install libreoffice-calc-nogui)")
@pytest.mark.skipif(not PDFTOPPM, reason="pdftoppm not installed (Debian: apt-get install poppler-utils)")
def test_exported_target_sheet_renders_as_a_page(targets_client, tmp_path):
    token = csrf_token(targets_client)
    resp = targets_client.post("/draft/export.xlsx", json=TABLE, headers={"X-CSRFToken": token})
    assert resp.status_code == 200
    xlsx = tmp_path / "申报表.xlsx"
    xlsx.write_bytes(resp.data)
    # a profile of its own: a LibreOffice already running for the user would otherwise take the job and return
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(xlsx)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "申报表.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    # the first page is the 申报表 (the 监控表 sheet follows): its text has the form's labels and our values
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout if shutil.which("pdftotext") else ""
    if text:
        for words in ("项目支出绩效目标申报表", "全市基层卫生人员业务培训", "市卫生健康培训中心", "培训人次", "受训学员满意度"):
            assert words in text, words
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = SCREENSHOTS / "target-sheet"
    subprocess.run([PDFTOPPM, "-f", "1", "-l", "1", "-r", "150", "-png", "-singlefile", str(pdf), str(png)],
                   check=True, capture_output=True, timeout=60)
    assert png.with_suffix(".png").stat().st_size > 10_000

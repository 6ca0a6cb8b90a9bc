"""Values of twelve hospitals for SYS-YYZT, written out so that the expected
scores of two of them can be worked by hand (tests/test_scoring.py)."""
from __future__ import annotations

import copy

SYSTEM = "SYS-YYZT"

# A value for every leaf of SYS-YYZT that earns its full points.
FULL_MARKS = {
    "GX-BM-001": "0",  # deduction: 不符合的评价要点数
    "GX-BM-002": "0",
    "GX-BM-003": "100%",  # ceiling 100, 0.3 a point over
    "GX-BM-005": "95%",  # bands, ≥90 full
    "GX-BM-004": "0",  # ceiling 0, 0.2 a point over
    "YYCW-022": "优",  # judged
    "GX-BM-006": {"actual": "100%", "target": "100%"},  # proportional, each unit's own target
    "YYCW-003": {"actual": "98%", "target": "95%"},
    "GX-BM-007": "0",  # bands, =0 full
    "GX-BM-009": "达成",  # judged
    "GX-BM-012": "98%",  # ceiling 100, 1/3 a point over
    "GX-BM-013": {"actual": "100%", "target": "100%"},
    "GX-BM-014": "0",
    "GX-BM-015": "0",
    "GX-BM-016": "0",
    "YY3-042": "优",
    "YY3-043": "优",
    "YY3-036": "1.5",  # judged: the points themselves
    "YY3-035": "100%",  # judged: a share of the points
    "YY3-034": {"actual": "95", "target": "100"},  # ceiling, each unit's own target
    "GX-BM-019": "0",
    "GX-BM-020": {"actual": "92%", "target": "90%"},
    "YY3-012": "达成",
    "YYCW-030": {"actual": 520000, "target": 500000},
    "YYCW-031": {"actual": 31000, "target": 30000},
    "YY3-004": {"actual": "35%", "target": "32%"},
    "YY3-002": {"actual": 4200, "target": 4000},
    "YY3-008": {"actual": "0.6%", "target": "0.8%"},
    "YY3-014": {"actual": "0.02%", "target": "0.03%"},
    "YY3-009": {"actual": "0.5%", "target": "1%"},
    "YY3-017": {"actual": 38, "target": 40},
    "YY2-013": {"actual": 7.8, "target": 8},
    "YY3-023": {"actual": 12, "target": 15},
    "YY3-038": {"actual": "2%", "target": "3%"},  # ceiling, each unit's own target, 10% of the points a point over
    "YY3-040": {"actual": "1.5%", "target": "3%"},
    "YY3-039": {"actual": "-1%", "target": "0%"},
    "YY3-041": {"actual": "0%", "target": "0%"},
    "YY3-031": {"actual": "36%", "target": "35%"},
    "YY3-021": {"actual": "92%", "target": "90%"},
    "YYZT-001": {"actual": "100%", "target": "100%"},
    "YY3-033": {"actual": "42%", "target": "40%"},
    "YY3-046": "优",
    "YY3-050": {"actual": 30, "target": 25},
    "YY3-024": "0",  # deduction: 低于目标等级的级数
    "YY3-053": {"actual": 92, "target": 90},
    "YY3-054": {"actual": 93, "target": 90},
    "YY3-055": {"actual": 88, "target": 85},
}


def with_changes(changes: dict, drop: tuple[str, ...] = ()) -> dict:
    values = {k: copy.deepcopy(v) for k, v in FULL_MARKS.items() if k not in drop}
    values.update(changes)
    return values


# 市第二人民医院: eight leaves short of full marks. Some leaves are named, not coded, and one
# target comes in a column of its own ("GX-BM-006 目标值"), as a spreadsheet would have it.
SECOND = with_changes({
    "在职人员控制率": "105%",  # GX-BM-003: 3 − 5 × 0.3 = 1.5
    "GX-BM-005": "85%",  # 80（含）–90 → 3 × 0.8 = 2.4
    "预算完成率": "90%", "GX-BM-006 目标值": "100%",  # 3 × 90/100 = 2.7
    "YY3-042": "良",  # 1.5 × 0.8 = 1.2
    "GX-BM-015": "2",  # 1.5 − 2 × 0.5 = 0.5
    "YY3-008": {"actual": "1.0%", "target": "0.8%"},  # 3 × 0.8/1.0 = 2.4
    "YY3-038": {"actual": "5%", "target": "3%"},  # 2 − 2 × (10% × 2) = 1.6
    "YY3-053": {"actual": 85, "target": 90},  # 4 × 85/90 = 3.777… → 3.78
}, drop=("GX-BM-003", "GX-BM-006"))

# 市中医医院: nine other leaves short.
THIRD = with_changes({
    "GX-BM-001": "2",  # 2.5 − 2 × 2.5/3 = 0.8333… → 0.83
    "GX-BM-004": "3%",  # 2 − 3 × 0.2 = 1.4
    "GX-BM-007": "12%",  # 10（不含）–20（含） → 1 × 1/3 = 0.33
    "GX-BM-012": "103%",  # 2 − 3 × 1/3 = 1
    "YY3-012": "部分达成",  # 1.5 × 0.8 = 1.2
    "平均住院日": {"actual": 10, "target": 8},  # YY2-013: 3 × 8/10 = 2.4
    "YYCW-030": {"actual": 450000, "target": 500000},  # 2.5 × 0.9 = 2.25
    "YY3-024": "1",  # 2 − 1 × 50% × 2 = 1
    "YY3-046": "1.5",  # judged points: 1.5 of 2
}, drop=("YY2-013",))


def twelve_hospitals() -> list[dict]:
    units = [
        {"name": "市第一人民医院", "values": with_changes({})},
        {"name": "市第二人民医院", "values": SECOND},
        {"name": "市中医医院", "values": THIRD},
    ]
    # nine more, each short on 预算完成率 only: 3 × (80 + i)/100
    for i in range(8):
        units.append({"name": f"县人民医院{i + 1}",
                      "values": with_changes({"GX-BM-006": {"actual": f"{80 + i}%", "target": "100%"}})})
    units.append({"name": "县人民医院9", "values": copy.deepcopy(units[-1]["values"])})  # ties with 县人民医院8
    return units

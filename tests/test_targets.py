

def test_a_table_writes_its_fields_as_asdict_would():
    """to_dict copies the flat project and rows field by field (no deep copy); the result is asdict's, less the
    empty optional fields."""
    from dataclasses import asdict

    from kb.targets.table import OPTIONAL_PROJECT_FIELDS, OPTIONAL_ROW_FIELDS, Project, TargetRow, TargetTable

    table = TargetTable(Project("某项目", budget_wan_yuan=12.5, year=2024), "目标",
                        [TargetRow("产出指标", "数量指标", "培训人次", "≥", "100", "人次", actual="90", self_score=8.5),
                         TargetRow("效益指标", "社会效益指标", "知晓率", "≥", "90", "%")])
    d = table.to_dict()
    project = {k: v for k, v in asdict(table.project).items() if not (k in OPTIONAL_PROJECT_FIELDS and v in ("", None))}
    rows = [{k: v for k, v in asdict(r).items() if not (k in OPTIONAL_ROW_FIELDS and v in ("", None))}
            for r in table.indicators]
    assert d == {"project": project, "goal": "目标", "indicators": rows}
    d["indicators"][0]["name"] = "改了"
    assert table.indicators[0].name == "培训人次"  # a copy, not the row itself

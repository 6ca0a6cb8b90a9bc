"""`zhibiao suggest` and `zhibiao check` (DESIGN §9): recommend a target table
for a project, and review a drafted one (.json or .xlsx)."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from api.cli.files import format_option, input_file, is_dash, read_input
from kb.errors import InvalidInput
from api.cli.output import echo_json
from kb.result_schemas import CheckResultSchema, EvaluationResultSchema, MonitorResultSchema


def register(cli: click.Group) -> None:
    cli.add_command(suggest_command)
    cli.add_command(check_command)
    cli.add_command(monitor_command)
    cli.add_command(evaluate_command)


@click.command("suggest")
@click.option("--name", required=True, help="项目名称")
@click.option("--description", default="", help="项目概况 / 主要内容（数量写清楚，如“三类培训 3 天 100 人”）")
@click.option("--sector", default="", help="行业/领域：支出功能分类编码或名称")
@click.option("--department", default="", help="部门")
@click.option("--project-type", default="", help="项目类别（不填则按内容识别）")
@click.option("--budget", "budget", default=None, help="预算金额（万元）")
@click.option("--expenditure-type", default="项目", type=click.Choice(["项目", "部门整体"]), show_default=True, help="支出类型")
@click.option("--version", "label", default=None, help="指标库版本（默认当前版本）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--table", "table_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="同时把目标表草稿写入这个 .xlsx 或 .json 文件")
@with_appcontext
def suggest_command(name, description, sector, department, project_type, budget, expenditure_type, label, as_json, table_file):
    """为项目推荐绩效目标表：指标、建议值和适用的支出标准。"""
    from server.db import get_session, index_dir, require_schema
    from kb.targets.recommend import describe, recommend
    from kb.targets.schema import load_project

    if table_file is not None and table_file.suffix.lower() not in (".xlsx", ".json"):
        raise InvalidInput("--table 只能写 .xlsx 或 .json 文件")
    project = load_project({"name": name, "description": description, "sector": sector, "department": department,
                            "project_type": project_type, "budget_wan_yuan": budget, "expenditure_type": expenditure_type})
    require_schema()
    rec = recommend(get_session(), index_dir(), project, version=label)
    if table_file is not None:
        _write_table(rec.table, table_file, get_session(), rec.version)
    if as_json:
        echo_json(rec.to_dict())
    else:
        click.echo(describe(rec))
        if table_file is not None:
            click.echo(f"已写出目标表草稿：{table_file}")


def _write_table(table, path: Path, session, version: str) -> None:
    if path.suffix.lower() == ".xlsx":
        from importers.target_xlsx import write_table
        from kb.library import snapshot
        from kb.targets.project import labels

        write_table(table, path, labels=labels(snapshot.load(session, version), table.project))
    else:
        path.write_text(json.dumps(table.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")


@click.command("check")
@click.argument("file", type=input_file())
@format_option("xlsx", "json")
@click.option("--version", "label", default=None, help="对照的指标库版本（默认当前版本）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def check_command(file: Path, fmt: str | None, label: str | None, as_json: bool):
    """按财政审核的方式审核目标表（.json 或 .xlsx；- 表示标准输入）：逐条意见、修改建议和等级。"""
    from server.db import get_session, require_schema
    from kb.targets.check import check
    from kb.errors import KbError

    table = read_table_file(file, fmt)
    try:
        require_schema()
        session = get_session()
    except KbError:
        session = None  # no library here: the rules that need it are skipped, the others still run
    if session is not None and label is None:
        from kb.library import versions

        if versions.current_version_id(session) is None:
            session = None  # initialised but nothing published yet
    result = check(table, session, label) if session is not None else check(table)
    if as_json:
        echo_json(CheckResultSchema().dump(result))
        return
    click.echo(f"审核等级：{result.grade}（{result.meaning}），得分 {result.score}"
               + ("" if result.version else "；未连接指标库，未做与指标库和支出标准相关的检查"))
    marks = {"error": "错误", "warning": "提醒", "info": "说明"}
    for f in result.findings:
        if f.rule == "C16":
            continue
        where = f"第{f.row}行 " if f.row else ""
        click.echo(f"[{f.rule} {marks[f.severity]}] {where}{f.message}")
        if f.fix:
            click.echo(f"    建议：{f.fix.message}")


@click.command("monitor")
@click.argument("file", type=input_file())
@format_option("xlsx", "json")
@click.option("--as-of", default=None, help="截至日期 YYYY-MM-DD（默认取表中的 as_of）")
@click.option("--tolerance", type=float, default=None,
              help="完成度、预算执行率与时间进度相差多少时预警（0.2 即20个百分点；默认取 dimensions.yaml）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def monitor_command(file: Path, fmt: str | None, as_of: str | None, tolerance: float | None, as_json: bool):
    """执行监控（FILE 为 .json 或 .xlsx 目标表；- 表示标准输入）：按实际完成值和已执行资金，计算完成度、预算执行率和时间进度，并提示偏差。"""
    from kb.targets.monitoring import monitor

    result = monitor(read_table_file(file, fmt), as_of=as_of, tolerance=tolerance)
    if as_json:
        echo_json(MonitorResultSchema().dump(result))
        return
    d = result.to_dict()
    done = "—" if d["completion"] is None else f"{d['completion'] * 100:.1f}%"
    click.echo(f"截至{d['as_of']}：时间进度{d['time_share'] * 100:.1f}%，预算执行率{d['execution_rate'] * 100:.1f}%，"
               f"产出完成度{done}")
    for r in d["rows"]:
        c = "未填报" if r["completion"] is None else f"{r['completion'] * 100:.1f}%"
        click.echo(f"  第{r['row']}行 {r['name']}：{c}（{r['reason']}）")
    for w in d["warnings"]:
        click.echo(f"[预警 {w['title']}] {w['message']}\n    → {w['explain']}")
    if not d["warnings"]:
        click.echo("无预警：完成度、预算执行和时间进度相符。")


@click.command("evaluate")
@click.argument("file", type=input_file())
@format_option("xlsx", "json")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def evaluate_command(file: Path, fmt: str | None, as_json: bool):
    """单位自评打分（财预〔2020〕10号；FILE 为 .json 或 .xlsx 目标表，- 表示标准输入）：按实际完成值计分、定等级，并核对自评得分（C15）。"""
    from kb.targets.self_evaluation import evaluate

    result = evaluate(read_table_file(file, fmt))
    if as_json:
        echo_json(EvaluationResultSchema().dump(result))
        return
    d = result.to_dict()
    click.echo(f"自评得分：{d['total']}分（{d['grade']}）；" + "，".join(f"{k}{v}分" for k, v in d["by_level1"].items()))
    for r in d["rows"]:
        claimed = "" if r["self_score"] is None else f"，自评{r['self_score']:g}分"
        click.echo(f"  第{r['row']}行 {r['name']}：{r['score']:g}/{r['max']:g}分{claimed}（{r['reason']}）")
    for note in d["notes"]:
        click.echo(f"说明：{note}")
    for f in d["findings"]:
        click.echo(f"[C15 自评一致性] {f['message']}")


def read_table_file(file: Path, fmt: str | None = None):
    """A target table from a .json or .xlsx file (or standard input, for -); anything else is refused with a
    clear message."""
    from importers.target_xlsx import read_target_file

    if fmt is None and not is_dash(file) and file.suffix.lower() not in (".xlsx", ".json"):
        raise InvalidInput(f"“{file.name}”：只能读取 .json 或 .xlsx 格式的目标表")
    return read_target_file(*read_input(file, fmt, ("xlsx", "json")))

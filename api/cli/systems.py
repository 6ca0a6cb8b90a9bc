"""`zhibiao systems list|score|rounds`: indicator systems, and scoring units with one (绩效评价)."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from api.cli.files import format_option, input_file, read_input
from server.db import get_session, require_schema
from kb.library import versions
from api.cli.output import echo_json


def register(cli: click.Group) -> None:
    cli.add_command(systems_group)


@click.group("systems")
def systems_group() -> None:
    """指标体系：列出体系，用体系给多个单位评分。"""


@systems_group.command("list")
@click.option("--version", "label", default=None, help="版本（默认当前版本）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def list_command(label: str | None, as_json: bool) -> None:
    """列出指标体系。"""
    from kb.systems import tree as systems

    require_schema()
    session = get_session()
    version = versions.resolve(session, label)
    items = systems.list_systems(session, version)
    if as_json:
        echo_json({"version": version.label, "systems": [
            {"code": s.code, "name": s.name, "description": s.description, "sectors": s.sectors, "status": s.status}
            for s in items]})
        return
    for s in items:
        click.echo(f"{s.code:<12} {s.name}")
    click.echo(f"版本 {version.label}：{len(items)} 个指标体系")


@systems_group.command("score")
@click.argument("code")
@click.argument("file", type=input_file())
@format_option("xlsx", "json")
@click.option("--version", "label", default=None, help="按哪个已发布版本的体系评分（默认当前版本）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def score_command(code: str, file: Path, fmt: str | None, label: str | None, as_json: bool) -> None:
    """用指标体系 CODE 给 FILE 中的单位评分（.xlsx：单位名称一列、每个指标一列；或 JSON {"units": [...]}；- 表示标准输入），保存为一轮。"""
    from importers.round_files import read_units_file
    from kb.systems import rounds

    data, filename = read_input(file, fmt, ("xlsx", "json"))
    units = read_units_file(data, filename)
    require_schema()
    session = get_session()
    round_id, result = rounds.score_and_save(session, code, units, label, user="cli")
    if as_json:
        echo_json({"round": round_id, **result.to_dict()})
        return
    click.echo(f"{result.system_name}（{result.system}，版本 {result.version}）第 {round_id} 轮，{len(result.units)} 个单位：")
    for unit in sorted(result.units, key=lambda u: u.rank):
        weakest = "、".join(f"{w.name}（失 {w.lost:g} 分）" for w in unit.weakest[:3])
        click.echo(f"{unit.rank:>3}  {unit.name}  {unit.total:g} 分  {unit.grade}" + (f"  失分最多：{weakest}" if weakest else ""))


@systems_group.command("rounds")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def rounds_command(code: str, as_json: bool) -> None:
    """列出指标体系 CODE 已保存的评分轮次（新的在前）。"""
    from kb.systems import rounds

    require_schema()
    found = rounds.list_rounds(get_session(), code)
    if as_json:
        echo_json({"system": code, "rounds": found})
        return
    for r in found:
        click.echo(f"第 {r.id} 轮  版本 {r.version}  {r.units} 个单位  {r.created_at:%Y-%m-%d %H:%M}  {r.created_by}")
    click.echo(f"{code}：{len(found)} 轮评分")

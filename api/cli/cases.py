"""`zhibiao cases list|show|import`: the case library of real target tables."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from api.cli.files import format_option, input_file, read_input
from api.cli.progress import Progress
from server.db import get_session, require_schema
from kb.library import versions
from kb.errors import InvalidInput
from api.cli.output import echo_json


def register(cli: click.Group) -> None:
    cli.add_command(cases_group)


@click.group("cases")
def cases_group() -> None:
    """案例库：已公开的真实绩效目标表。"""


@cases_group.command("list")
@click.argument("query", default="")
@click.option("--sector", default="", help="功能分类编码（含下级），如 210 或 21004")
@click.option("--province", default="", help="省份，如 湖南")
@click.option("--year", type=int, default=None, help="年度")
@click.option("--version", "label", default=None, help="版本（默认当前版本；draft 为草稿）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def list_command(query: str, sector: str, province: str, year: int | None, label: str | None, as_json: bool) -> None:
    """列出案例（可按文字、功能分类、省份、年度筛选）。"""
    from kb.library.case_catalog import CaseFilters, find

    require_schema()
    session = get_session()
    version = versions.resolve(session, label)
    found = find(versions.records(session, "case", version), query, CaseFilters(sector, province, year))
    if as_json:
        echo_json({"version": version.label, "total": len(found), "cases": [c.model_dump(mode="json") for c in found]})
        return
    for c in found:
        click.echo(f"{c.code}  {c.name}  {c.region or c.province} {c.year or ''}  {c.sector}  {len(c.rows)}行"
                   + ("（不完整）" if c.incomplete else ""))
    click.echo(f"共 {len(found)} 个案例（版本 {version.label}）")


@cases_group.command("show")
@click.argument("code")
@click.option("--version", "label", default=None, help="版本标签（默认当前版本）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def show_command(code: str, label: str | None, as_json: bool) -> None:
    """显示一个案例的项目、指标行和来源。"""
    require_schema()
    session = get_session()
    version = versions.resolve(session, label)
    case = versions.record(session, "case", code, version)
    if as_json:
        echo_json({"version": version.label, "case": case.model_dump(mode="json")})
        return
    src = case.source or {}
    click.echo(f"{case.code}  {case.name}（{case.table_kind}）")
    click.echo(f"  {case.region} {case.year or ''}  功能分类 {case.sector or '—'}  主管部门 {case.department or '—'}"
               f"  预算 {case.budget_wan_yuan if case.budget_wan_yuan is not None else '—'} 万元")
    if case.goal:
        click.echo(f"  年度总体目标：{case.goal}")
    for r in case.rows:
        value = " ".join(x for x in (r.get("operator", ""), r.get("value", ""), r.get("unit", "")) if x)
        click.echo(f"  {r.get('level1', '')}/{r.get('level2', '')}  {r['name']}  {value}"
                   + (f"  实际 {r['actual']}" if r.get("actual") else "") + (f"  [{r['indicator']}]" if r.get("indicator") else ""))
    click.echo(f"  来源：{src.get('document', '')} {src.get('doc_number') or ''} {src.get('url') or ''}（{case.provenance}，{case.certainty}）")
    if case.incomplete:
        click.echo("  注意：本表不完整（部分行无法辨认或页面截断，未录入）")
    if case.note:
        click.echo(f"  备注：{case.note}")


@cases_group.command("import")
@click.argument("file", type=input_file())
@format_option("xlsx", "csv", "json")
@click.option("--dry-run", is_flag=True, help="只检查，不写入草稿")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--code", default="", help="单张目标表（.xlsx 或目标表 JSON）的案例编码")
@click.option("--url", default="", help="单张目标表的来源网址")
@click.option("--document", default="", help="单张目标表的来源文件名称")
@click.option("--doc-number", default="", help="文号")
@click.option("--issuer", default="", help="发布单位")
@click.option("--region", default="", help="地区，如 湖南省衡阳市")
@click.option("--province", default="", help="省份，如 湖南")
@click.option("--year", type=int, default=None, help="年度")
@click.option("--table-kind", type=click.Choice(["目标表", "自评表", "监控表"]), default=None,
              help="表别（默认按表题和列判断：有“自评”或实际完成值的为自评表）")
@click.option("--provenance", type=click.Choice(["verbatim", "adapted", "local"]), default="verbatim",
              help="来源性质：verbatim 原文照录，adapted 改写，local 本地编制")
@click.option("--certainty", type=click.Choice(["verified", "likely", "uncertain"]), default="verified",
              help="可靠程度：verified 已核对原文，likely 较可靠，uncertain 待核实")
@with_appcontext
def import_command(file: Path, fmt: str | None, dry_run: bool, as_json: bool, code: str, url: str, document: str,
                   doc_number: str, issuer: str, region: str, province: str, year: int | None, table_kind: str | None,
                   provenance: str, certainty: str) -> None:
    """把案例（.xlsx 目标表或自评表、.csv、.json；- 表示标准输入）导入草稿：全部成功或全部不导入。

    一个工作簿有多张目标表（如重庆一般性项目绩效目标表、四川横表）时，案例编码为 CODE-01、CODE-02 ……"""
    from importers.cases import CaseSource, apply_cases, plan_cases

    require_schema()
    session = get_session()
    source = CaseSource(code, url, document, doc_number, issuer, provenance, certainty, region, province, year,
                        table_kind or "")
    data, name = read_input(file, fmt, ("xlsx", "csv", "json"))
    report = None
    with Progress(quiet=as_json) as progress:
        progress.step(f"读取并检查 {name} 中的案例", unit="个")
        plan = plan_cases(data, name, source, progress=progress)
        if plan.ok:
            progress.step("试运行" if dry_run else "写入草稿", unit="个")
            report = apply_cases(session, plan, user="cli", dry_run=dry_run, progress=progress)
    if as_json:
        echo_json({**plan.to_dict(), "dry_run": dry_run, "applied": bool(plan.ok and not dry_run),
                   "added": report.added.get("case", []) if report else [],
                   "changed": report.changed.get("case", []) if report else []})
    else:
        for p in plan.errors:
            click.echo(f"错误：{p}", err=True)
    if not plan.ok:
        raise InvalidInput(f"“{name}”有 {len(plan.errors)} 处错误，未导入任何案例")
    if not as_json:
        verb = "试运行（草稿未改动）：将" if dry_run else "已导入草稿："
        click.echo(f"{verb}新增 {len(report.added.get('case', []))} 个案例，修改 {len(report.changed.get('case', []))} 个，"
                   f"未变 {report.unchanged} 个。")

"""`zhibiao import FILE`: read an .xlsx, .csv or .json file into the draft,
all or nothing, after printing what it would do."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from api.cli.files import format_option, input_file, read_input
from api.cli.progress import Progress
from server.db import get_session, require_schema
from kb.errors import InvalidInput
from api.cli.output import echo_json


PLAN_LINES = 20  # adds and changes listed before "……另有 N 条" (a 10,000-row import printed 10,000 lines)


def register(cli: click.Group) -> None:
    cli.add_command(import_command)


@click.command("import")
@click.argument("file", type=input_file())
@format_option("xlsx", "csv", "json")
@click.option("--dry-run", is_flag=True, help="只显示将发生的变化，不写入")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出导入计划")
@click.option("--sheet", default=None, help="只读工作簿中的这个工作表")
@click.option("--source-document", default="", help="未写来源的行的来源文件（〔〕中的文号会被识别）")
@click.option("--kind", type=click.Choice(["common", "specific"]), default=None, help="未写类别的行的类别：common 共性、specific 个性")
@click.option("--provenance", type=click.Choice(["verbatim", "adapted", "local"]), default=None,
              help="未写来源性质的新行的来源性质（默认 verbatim 原文照录）")
@click.option("--allow-duplicates", is_flag=True, help="仍然导入与草稿中已有指标同名或同义的新行（默认不导入）")
@click.option("--verbose", is_flag=True, help="列出每一条新增和修改（默认各列前 20 条）")
@with_appcontext
def import_command(file: Path, fmt: str | None, dry_run: bool, as_json: bool, sheet: str | None, source_document: str,
                   kind: str | None, provenance: str | None, allow_duplicates: bool, verbose: bool) -> None:
    """把 FILE（.xlsx、.csv 或 .json；- 表示标准输入）中的指标导入草稿：全部成功或全部不导入。"""
    from importers.indicator_rows import DEFAULT_PROVENANCE, ImportDefaults
    from importers.dry_run import apply_import, plan_import

    require_schema()
    session = get_session()
    defaults = ImportDefaults(source_document=source_document, kind=kind or "", provenance=provenance or DEFAULT_PROVENANCE)
    data, name = read_input(file, fmt, ("xlsx", "csv", "json"))
    with Progress(quiet=as_json) as progress:
        progress.step(f"读取 {name}", unit="行")
        plan = plan_import(session, data, name, defaults=defaults, sheet=sheet, progress=progress)
    if as_json:
        echo_json({**plan.to_dict(), "dry_run": dry_run, "applied": bool(plan.ok and not dry_run)})
    else:
        _print_plan(plan, len(plan.adds) + len(plan.changes) if verbose else PLAN_LINES)
    if not plan.ok:
        raise InvalidInput(f"“{name}”有 {len(plan.errors)} 处错误，未导入任何内容")
    if dry_run:
        if not as_json:
            click.echo("试运行：草稿未改动。")
        return
    from importers.dry_run import held_back

    confirmed = None if allow_duplicates else ()
    kept_out = held_back(plan, confirmed)
    with Progress(quiet=as_json) as progress:
        progress.step("写入草稿")
        report = apply_import(session, plan, user="cli", confirmed_duplicates=confirmed, progress=progress)
    if not as_json:
        click.echo(f"已导入草稿：新增 {report.total('added')} 条，修改 {report.total('changed')} 条，未变 {report.unchanged} 条。")
        if kept_out:
            click.echo(f"与草稿中已有指标重复的 {len(kept_out)} 条未导入（{'、'.join(sorted(kept_out)[:5])}"
                       f"{'等' if len(kept_out) > 5 else ''}）；确属不同指标的，加 --allow-duplicates 再导入。")


def _print_plan(plan, shown: int) -> None:
    for s in plan.sheets:
        if s.skipped:
            click.echo(f"工作表 {s.name}：跳过（{s.skipped}）")
        else:
            click.echo(f"工作表 {s.name}：表头在第{s.header_row}行，{s.rows} 行数据")
    for c in plan.unmapped:
        click.echo(f"未识别的列：{c.sheet} {c.column}列“{c.header}”（未导入）")
    for c in plan.ignored:
        click.echo(f"忽略的列：{c.sheet} {c.column}列“{c.header}”（{c.reason}）")
    for r in plan.adds[:shown]:
        click.echo(f"+ {r.code} {r.name}  [{r.where}]")
    if len(plan.adds) > shown:
        click.echo(f"+ ……另有 {len(plan.adds) - shown} 条新增（--verbose 列出全部，--json 输出完整计划）")
    for r in plan.changes[:shown]:
        click.echo(f"~ {r.code} {r.name}  [{r.where}]")
        for name, change in r.changes.items():
            click.echo(f"    {name}: {change['previous']!r} → {change['current']!r}")
    if len(plan.changes) > shown:
        click.echo(f"~ ……另有 {len(plan.changes) - shown} 条修改（--verbose 列出全部）")
    for d in plan.duplicates:
        click.echo(f"重复 {d.code} {d.name} [{d.sheet}{f' 第{d.row}行' if d.row else ''}] 与 {d.other_code} {d.other_name} [{d.other_where}]：{d.reason}")
    for p in plan.errors:
        click.echo(f"错误 {p}")
    counts = plan.counts()
    click.echo(f"新增 {counts['adds']}，修改 {counts['changes']}，未变 {counts['unchanged']}，"
               f"重复 {counts['duplicates']}，错误 {counts['errors']}")

"""`zhibiao import FILE`: read an .xlsx, .csv or .json file into the draft,
all or nothing, after printing what it would do."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from api.db import get_session, require_schema
from kb.errors import InvalidInput


def register(cli: click.Group) -> None:
    cli.add_command(import_command)


def _progress(rows: int, total: int | None) -> None:
    if sys.stderr.isatty():
        shown = f"{rows}/{total}" if total and total >= rows else str(rows)
        click.echo(f"\r已读取 {shown} 行…", err=True, nl=False)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="only show what would change")
@click.option("--json", "as_json", is_flag=True, help="print the plan as JSON")
@click.option("--sheet", default=None, help="read only this sheet of a workbook")
@click.option("--source-document", default="", help="source document of rows that name none (文号 in 〔〕 is parsed out)")
@click.option("--kind", type=click.Choice(["common", "specific"]), default=None, help="kind of rows that state none")
@click.option("--provenance", type=click.Choice(["verbatim", "adapted", "local"]), default=None,
              help="provenance of new rows that state none (default: verbatim)")
@click.option("--allow-duplicates", is_flag=True, help="仍然导入与草稿中已有指标同名或同义的新行（默认不导入）")
@with_appcontext
def import_command(file: Path, dry_run: bool, as_json: bool, sheet: str | None, source_document: str,
                   kind: str | None, provenance: str | None, allow_duplicates: bool) -> None:
    """Import indicators from FILE (.xlsx, .csv or .json) into the draft, all or nothing."""
    from importers.indicator_rows import DEFAULT_PROVENANCE, ImportDefaults
    from importers.plan import apply_import, plan_import

    require_schema()
    session = get_session()
    defaults = ImportDefaults(source_document=source_document, kind=kind or "", provenance=provenance or DEFAULT_PROVENANCE)
    plan = plan_import(session, file, file.name, defaults=defaults, sheet=sheet, progress=_progress)
    if sys.stderr.isatty():
        click.echo("", err=True)
    if as_json:
        from api.cli import echo_json

        echo_json({**plan.to_dict(), "dry_run": dry_run, "applied": bool(plan.ok and not dry_run)})
    else:
        _print_plan(plan)
    if not plan.ok:
        raise InvalidInput(f"“{file.name}”有 {len(plan.errors)} 处错误，未导入任何内容")
    if dry_run:
        if not as_json:
            click.echo("试运行：草稿未改动。")
        return
    from importers.plan import held_back

    confirmed = None if allow_duplicates else ()
    kept_out = held_back(plan, confirmed)
    report = apply_import(session, plan, user="cli", confirmed_duplicates=confirmed)
    if not as_json:
        click.echo(f"已导入草稿：新增 {report.total('added')} 条，修改 {report.total('changed')} 条，未变 {report.unchanged} 条。")
        if kept_out:
            click.echo(f"与草稿中已有指标重复的 {len(kept_out)} 条未导入（{'、'.join(sorted(kept_out)[:5])}"
                       f"{'等' if len(kept_out) > 5 else ''}）；确属不同指标的，加 --allow-duplicates 再导入。")


def _print_plan(plan) -> None:
    for s in plan.sheets:
        if s.skipped:
            click.echo(f"工作表 {s.name}：跳过（{s.skipped}）")
        else:
            click.echo(f"工作表 {s.name}：表头在第{s.header_row}行，{s.rows} 行数据")
    for c in plan.unmapped:
        click.echo(f"未识别的列：{c.sheet} {c.column}列“{c.header}”（未导入）")
    for c in plan.ignored:
        click.echo(f"忽略的列：{c.sheet} {c.column}列“{c.header}”（{c.reason}）")
    for r in plan.adds:
        click.echo(f"+ {r.code} {r.name}  [{r.where}]")
    for r in plan.changes:
        click.echo(f"~ {r.code} {r.name}  [{r.where}]")
        for name, change in r.changes.items():
            click.echo(f"    {name}: {change['previous']!r} → {change['current']!r}")
    for d in plan.duplicates:
        click.echo(f"重复 {d.code} {d.name} [{d.sheet}{f' 第{d.row}行' if d.row else ''}] 与 {d.other_code} {d.other_name} [{d.other_where}]：{d.reason}")
    for p in plan.errors:
        click.echo(f"错误 {p}")
    counts = plan.counts()
    click.echo(f"新增 {counts['adds']}，修改 {counts['changes']}，未变 {counts['unchanged']}，"
               f"重复 {counts['duplicates']}，错误 {counts['errors']}")

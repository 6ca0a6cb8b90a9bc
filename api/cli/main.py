"""The `zhibiao` command: a click group on the app, as `flask` commands are in
the Flask tutorial, so the command line and the web share one configuration.

Errors exit non-zero with one plain line on stderr.
"""
from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from api.cli import admin as cli_admin, cases as cli_cases, imports as cli_import, search as cli_search
from api.cli import systems as cli_systems, targets as cli_targets, text as cli_text
from api.cli.output import echo_json, json_default
from server.app import create_app
from api.cli.files import input_file, is_dash, read_all_input, write_output
from api.cli.progress import Progress
from server.db import engine, get_session, index_dir, require_schema, sqlite_path
from kb import db as kbdb
from kb.library import versions
from kb.errors import KbError

class ZhibiaoGroup(FlaskGroup):
    """FlaskGroup for what it gives (each command runs inside the app, with its configuration), without what
    it adds for Flask's own command line: the -e/-A/--debug options and the commands extensions register
    (flask-limiter's limiter, flask-smorest's openapi) are not zhibiao's and stay out of its help."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.params = [p for p in self.params if p.name not in ("env_file", "app", "debug")]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands)

    def get_command(self, ctx: click.Context, name: str):
        return self.commands.get(name)


cli = ZhibiaoGroup(
    name="zhibiao",
    help="预算绩效指标库 zhibiao 的命令行：初始化与发布、检索、编制与审核目标表、导入导出、备份。各命令加 --help 查看用法。",
    create_app=lambda: create_app(),
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)


def _version_json(v: versions.VersionRef) -> dict:
    return {"label": v.label, "published_at": v.published_at, "notes": v.notes, "is_current": v.is_current, "counts": v.counts}


KIND_NAMES = {"indicator": "指标", "sector": "功能分类", "department": "部门", "project_type": "项目类别", "text": "文本",
              "system": "指标体系", "quota": "支出标准", "case": "案例"}


def _counts_text(counts: dict) -> str:
    return "，".join(f"{KIND_NAMES.get(k, k)} {n}" for k, n in counts.items())


# --- init / serve ------------------------------------------------------------------

def _index_hook(progress=None):
    """Publishing builds the new version's search index in the same transaction."""
    from kb.search import publish_hook

    return publish_hook(index_dir(), progress=progress)


def _reset_database() -> None:
    path = sqlite_path(current_app.config["DATABASE_URL"])
    eng = engine()
    if path is not None:
        eng.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with eng.begin() as conn:
        SQLModel.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


@cli.command("init")
@click.option("--force", is_flag=True, help="先删除现有的指标库（全部数据）")
@click.option("--if-empty", is_flag=True, help="已有指标库时什么也不做")
@click.option("--label", default=None, help="第一个版本的标签（默认：当年.1，如 2026.1）")
@click.option("--from", "source_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="载入这个文件夹中的指标库，而不是自带的 indicators/")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def init_command(force: bool, if_empty: bool, label: str | None, source_dir: Path | None, as_json: bool) -> None:
    """初始化：建表，载入 indicators/ 中的指标库，发布第一个版本。"""
    from importers import seed

    initialised = kbdb.has_schema(engine()) and versions.current_version_id(get_session()) is not None
    if initialised and not force:
        if if_empty:
            if as_json:
                echo_json({"initialised": False, "reason": "指标库已初始化，跳过"})
            else:
                click.echo("指标库已初始化，跳过。")
            return
        raise click.ClickException("指标库已初始化；如需重建（将删除全部数据），请加 --force")
    if force:
        get_session().close()
        _reset_database()
    with Progress(quiet=as_json) as progress:
        progress.step("建表")
        kbdb.upgrade(engine())
        session = get_session()
        progress.step(f"载入 {source_dir or 'indicators/'}")
        report = seed.load_into(session, source_dir or seed.INDICATORS_DIR, progress=progress)
        label = label or f"{date.today().year}.1"
        progress.step(f"发布版本 {label} 并建立检索索引")
        version = versions.publish(session, label, notes="初始化：载入 indicators/ 中的种子指标库", user="init",
                                   after_snapshot=_index_hook(progress))
    if as_json:
        echo_json({"initialised": True, "loaded": report.total("added"), "version": _version_json(version)})
        return
    click.echo(f"已载入 {report.total('added')} 条记录，发布版本 {version.label}：{_counts_text(version.counts)}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="端口")
def serve_command(host: str, port: int) -> None:
    """启动网页和接口服务（开发用；生产环境用 make serve）。"""
    from werkzeug.serving import run_simple

    require_schema()
    # app.run() refuses to start inside a flask CLI command; run_simple is what it would call
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


# --- versions ---------------------------------------------------------------------

@cli.command("publish")
@click.argument("label")
@click.option("--notes", default="", help="版本说明")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def publish_command(label: str, notes: str, as_json: bool) -> None:
    """把草稿发布为版本 LABEL（如 2025.1）：先过发布检查，全部通过才发布。"""
    require_schema()
    with Progress(quiet=as_json) as progress:
        progress.step(f"检查并发布版本 {label}，建立检索索引")
        version = versions.publish(get_session(), label, notes=notes, user="cli", after_snapshot=_index_hook(progress))
    if as_json:
        echo_json(_version_json(version))
        return
    click.echo(f"已发布版本 {version.label}：{_counts_text(version.counts)}")


@cli.command("versions")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def versions_command(as_json: bool) -> None:
    """列出已发布的版本（* 为当前版本）。"""
    require_schema()
    items = versions.list_versions(get_session())
    if as_json:
        echo_json({"versions": [_version_json(v) for v in items]})
        return
    for v in items:
        mark = "*" if v.is_current else " "
        click.echo(f"{mark} {v.label:<10} {v.published_at:%Y-%m-%d %H:%M}  {v.counts.get('indicator', 0):>6} 指标  {v.notes}")


@cli.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def diff_command(a: str, b: str, as_json: bool) -> None:
    """比较版本 A 到版本 B 的逐字段差异（可写 draft 表示草稿）。"""
    require_schema()
    session = get_session()
    va, vb = versions.resolve(session, a), versions.resolve(session, b)
    changes = versions.diff(session, va, vb)
    if as_json:
        echo_json({"a": va.label, "b": vb.label, "changes": [dataclasses.asdict(c) for c in changes]})
        return
    signs = {"added": "+", "removed": "-", "changed": "~"}
    for c in changes:
        click.echo(f"{signs[c.change]} {c.kind} {c.code} {c.name}")
        for name, f in c.fields.items():
            click.echo(f"    {name}: {f['previous']!r} → {f['current']!r}")
    click.echo(f"{va.label} → {vb.label}: {len(changes)} 处变化")


@cli.command("history")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def history_command(code: str, as_json: bool) -> None:
    """一个指标在各版本中的修订历史。"""
    require_schema()
    entries = versions.history(get_session(), code)
    if as_json:
        echo_json({"code": code, "revisions": [dataclasses.asdict(e) for e in entries]})
        return
    if not entries:
        click.echo(f"{code} 尚未发布过")
    for e in entries:
        click.echo(f"修订 {e.number}  版本 {', '.join(e.versions) or '—'}  {e.data.get('name', '')}")
        for name, f in e.changes.items():
            click.echo(f"    {name}: {f['previous']!r} → {f['current']!r}")


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), required=True,
              help="json：整个指标库；csv、xlsx：指标表（zhibiao import 能读回的列）")
@click.option("--version", "label", default=None, help="版本标签（默认当前版本；draft 为草稿）")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path), required=True,
              help="写入的文件；- 表示标准输出")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出导出结果（--output - 时不可用）")
def export_command(fmt: str, label: str | None, output: Path, as_json: bool) -> None:
    """导出一个版本：整个指标库为 JSON，或其中的指标为表格。--output - 写到标准输出。"""
    require_schema()
    session = get_session()
    version = versions.resolve(session, label)
    to_stdout = str(output) == "-"
    if to_stdout and as_json:
        raise click.UsageError("--output - 把导出内容写到标准输出，不能再加 --json")
    if fmt != "json":
        from importers.writers import export_indicators

        exported = export_indicators(session, version, fmt)
        data, count = exported.data, exported.count
    else:
        doc = versions.export_library(session, version)
        data = json.dumps(doc, ensure_ascii=False, indent=1, default=json_default).encode("utf-8")
        count = len(doc["indicators"])
    if to_stdout:
        write_output(data)
        return
    output.write_bytes(data)
    if as_json:
        echo_json({"version": version.label, "format": fmt, "output": str(output), "indicators": count, "bytes": len(data)})
        return
    what = "指标库" if fmt == "json" else "指标表"
    click.echo(f"已导出版本 {version.label} 的{what}到 {output}（{count} 条指标）")


@cli.command("stats")
@click.option("--version", "label", default=None, help="版本标签（默认当前版本）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def stats_command(label: str | None, as_json: bool) -> None:
    """统计：按行业、类别、一级指标、来源性质计数，以及案例库。"""
    from kb.library.stats import library_stats

    require_schema()
    session = get_session()
    stats = library_stats(session, versions.resolve(session, label))
    if as_json:
        echo_json(stats)
        return
    click.echo(f"版本 {stats.version}: {stats.totals}")
    for title, counts in (("类别", stats.by_kind), ("一级指标", stats.by_level1), ("来源性质", stats.by_provenance),
                          ("可靠程度", stats.by_certainty), ("行业（个性指标所属类）", stats.by_sector)):
        click.echo(f"{title}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo(f"国家监测指标（▲）: {stats.national_monitoring}")
    c = stats.cases
    if c is not None:
        click.echo(f"案例: {c.total} 张表，{c.rows} 行（不完整 {c.incomplete} 张）")
        for title, counts in (("案例·类", c.by_sector), ("案例·省份", c.by_province), ("案例·年度", c.by_year),
                              ("案例·表别", c.by_table_kind)):
            click.echo(f"{title}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@cli.command("lint")
@click.option("--version", "label", default="draft", show_default=True, help="版本（默认草稿）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def lint_command(label: str, as_json: bool) -> None:
    """内容检查：指标名称与单位、运算符与方向、维度归属、一指标一度量、同名指标。错误阻止发布。"""
    from kb.library.lint import lint

    require_schema()
    session = get_session()
    version = versions.resolve(session, label)
    findings = lint(versions.records(session, "indicator", version))
    errors = sum(f.severity == "error" for f in findings)
    if as_json:
        echo_json({"version": version.label, "errors": errors, "warnings": len(findings) - errors,
                   "findings": [f.to_dict() for f in findings]})
    else:
        for f in findings:
            click.echo(f"{'错误' if f.severity == 'error' else '提醒'} {f.rule} {f.message}")
        click.echo(f"版本 {version.label}：{errors} 项错误，{len(findings) - errors} 项提醒")
    if errors:
        sys.exit(1)


# --- quota standards --------------------------------------------------------------

@cli.command("quota")
@click.argument("query", default="")
@click.option("--category", default=None, help="类别，如 会议费、培训费")
@click.option("--version", "label", default=None, help="版本标签（默认当前版本）")
@click.option("--all", "include_old", is_flag=True, help="包括已被替代和已废止的标准")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def quota_command(query: str, category: str | None, label: str | None, include_old: bool, as_json: bool) -> None:
    """查找支出定额标准：按文字、类别或档次。"""
    from kb.targets.quota_catalog import find

    require_schema()
    session = get_session()
    version = versions.resolve(session, label)
    found = find(session, version, query, category=category, status=None if include_old else "current")
    if as_json:
        echo_json({"version": version.label, "quotas": [
            {"code": q.code, "name": q.name, "category": q.category, "tier": q.tier, "unit": q.unit, "amount": q.amount,
             "items": q.items, "status": q.status, "effective_date": q.effective_date,
             "source": {"document": q.source.get("document", ""), "doc_number": q.source.get("doc_number", "")}}
            for q in found]})
        return
    for q in found:
        parts = "，".join(f"{i['name']} {i['amount']:g}" for i in q.items)
        click.echo(f"{q.code:<16} {q.name}  {q.amount:g} {q.unit}" + (f"（{parts}）" if parts else "")
                   + f"  {q.source.get('doc_number') or q.source.get('document', '')}")
    click.echo(f"版本 {version.label}：{len(found)} 项支出标准")


@cli.command("quota-calc")
@click.argument("code")
@click.option("--people", default=None, help="人数")
@click.option("--days", default=None, help="天数")
@click.option("--hours", default=None, help="学时数")
@click.option("--sessions", default=None, help="期数")
@click.option("--version", "label", default=None, help="版本标签（默认当前版本）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（与 /quotas/calculator.json 相同）")
def quota_calc_command(code: str, people, days, hours, sessions, label: str | None, as_json: bool) -> None:
    """按一项支出标准计算金额：如 zhibiao quota-calc Q-PXF-2016-2 --people 300 --days 3。"""
    from kb.targets.quota_calculator import calculate, quantity

    require_schema()
    session = get_session()
    version = versions.resolve(session, label)
    item = versions.record(session, "quota", code, version)
    given = {name: quantity(name, raw) for name, raw in
             (("people", people), ("days", days), ("hours", hours), ("sessions", sessions))}
    calc = calculate(item, **given)
    if as_json:
        echo_json({"version": version.label, **calc.to_dict()})
        return
    line = calc.estimate.lines[0]
    click.echo(f"{item.code} {item.name}：{line.formula}")
    for share in calc.items:
        click.echo(f"  其中 {share.name} {share.amount:g} → {share.subtotal:g} 元")
    click.echo(f"合计 {calc.estimate.total_yuan:g} 元（{calc.estimate.total_wan_yuan:g} 万元）；依据 {calc.to_dict()['source']}")
    for note in calc.estimate.notes:
        click.echo(f"  注：{note}")


# --- backup ------------------------------------------------------------------------

@cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（FILE 为 - 时不可用）")
def backup_command(file: Path, as_json: bool) -> None:
    """备份：把整个指标库（全部版本、草稿、规划、修改记录）写入 FILE（.json 或 .json.gz；- 表示标准输出，JSON）。"""
    from kb.library.backup import backup, backup_data

    to_stdout = is_dash(file)
    if to_stdout and as_json:
        raise click.UsageError("备份到标准输出（-）时，不能再加 --json")
    require_schema()
    with Progress(quiet=as_json) as progress:
        progress.step("备份", unit="行")
        if to_stdout:
            data, counts = backup_data(engine(), progress=progress)
        else:
            counts = backup(engine(), file, progress=progress)
    if to_stdout:
        write_output(data)
        return
    if as_json:
        echo_json({"file": str(file), "rows": sum(counts.values()), "tables": counts})
        return
    click.echo(f"已备份到 {file}：{sum(counts.values())} 行（{counts.get('version', 0)} 个版本）")


@cli.command("restore")
@click.argument("file", type=input_file())
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def restore_command(file: Path, as_json: bool) -> None:
    """从备份 FILE（.json 或 .json.gz；- 表示标准输入）恢复到空数据库。"""
    from kb.library.backup import restore

    data = read_all_input(file)
    with Progress(quiet=as_json) as progress:
        progress.step("恢复", unit="行")
        counts = restore(engine(), data, progress=progress)
    if as_json:
        echo_json({"file": str(file), "rows": sum(counts.values()), "tables": counts})
        return
    click.echo(f"已恢复：{sum(counts.values())} 行（{counts.get('version', 0)} 个版本）")


# --- commands that live in their own modules (each adds its commands with `register(cli)`) ------------
cli_admin.register(cli)
cli_cases.register(cli)
cli_import.register(cli)
cli_search.register(cli)
cli_systems.register(cli)
cli_targets.register(cli)
cli_text.localise(cli)


# --- entry point -------------------------------------------------------------------

def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="zhibiao", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("错误：已取消", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        click.echo(f"错误：{cli_text.finish(_one_line(exc.format_message()))}", err=True)
        sys.exit(exc.exit_code)
    except KbError as exc:
        for problem in exc.problems:
            click.echo(f"  - {problem}")
        click.echo(f"错误：{_one_line(exc.message)}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        click.echo(f"错误：无法读取数据库（{_one_line(str(exc.orig) if getattr(exc, 'orig', None) else exc.__class__.__name__)}）", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"错误：{_one_line(exc.strerror or str(exc))}（{exc.filename or ''}）", err=True)
        sys.exit(1)
    except Exception as exc:  # the one place a surprise becomes a message instead of a traceback
        if getattr(exc, "problems", None):
            for problem in exc.problems:
                click.echo(f"  - {problem}")
        click.echo(f"错误：{_one_line(str(exc)) or exc.__class__.__name__}", err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)

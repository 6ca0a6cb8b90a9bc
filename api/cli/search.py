"""`zhibiao search` and `zhibiao reindex` (DESIGN §9)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from api.cli.progress import Progress
from server.db import get_session, index_dir, require_schema
from kb import search as kbsearch
from kb.library import versions
from kb.result_schemas import SearchResultSchema
from api.cli.output import echo_json


@click.command("search")
@click.argument("query")
@click.option("--sector", default=None, help="行业（支出功能分类）编码，含下级")
@click.option("--level1", default=None, help="一级指标")
@click.option("--kind", type=click.Choice(["common", "specific"]), default=None, help="common 共性，specific 个性")
@click.option("--version", "label", default=None, help="版本号（默认当前版本；draft 为草稿）")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100), help="最多显示几条")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def search_command(query: str, sector, level1, kind, label, limit: int, as_json: bool) -> None:
    """检索指标（中文词语；拼音补全在网页上）。"""
    require_schema()
    filters = kbsearch.SearchFilters(sector=sector, level1=level1, kind=kind)
    result = kbsearch.search(get_session(), index_dir(), query, filters, version=label, per_page=limit, source="cli")
    if as_json:
        echo_json(SearchResultSchema().dump(result))
        return
    for hit in result.hits:
        click.echo(f"{hit.code:<12} {hit.name}  [{hit.level1}/{hit.level2}]  {hit.operator}{hit.unit}")
    click.echo(f"版本 {result.version}：共 {result.total} 条")
    if result.did_you_mean:
        click.echo(f"您是不是要找：{'、'.join(result.did_you_mean)}")


@click.command("reindex")
@click.option("--version", "label", default=None, help="版本号（默认当前版本；draft 为草稿）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@with_appcontext
def reindex_command(label: str | None, as_json: bool) -> None:
    """重建一个版本的检索索引。"""
    require_schema()
    session = get_session()
    ref = versions.resolve(session, label)
    with Progress(quiet=as_json) as progress:
        progress.step(f"重建 {ref.label} 的索引")
        info = kbsearch.build_index(session, index_dir(), ref, progress=progress)
    if as_json:
        echo_json({"version": info.label, "engine": info.engine, "indicators": info.count, "seconds": round(info.seconds, 2)})
        return
    click.echo(f"已重建版本 {info.label} 的 {info.engine} 索引：{info.count} 条指标，用时 {info.seconds:.1f} 秒")


def register(cli: click.Group) -> None:
    cli.add_command(search_command)
    cli.add_command(reindex_command)

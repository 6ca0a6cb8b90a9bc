"""/search: the search page (facets, highlights, pages, help when nothing is
found) with its JSON twin, and the typeahead's /complete.json. Both call
kb.search, as the API and the command line do."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from flask import jsonify, render_template, request, url_for
from markupsafe import Markup

from server.db import get_session, index_dir
from kb import search
from kb.library import snapshot
from kb.dimensions import level1_families
from kb.result_schemas import CompletionListSchema, SearchResultSchema
from kb.search.query import trusted_fragment
from kb.search.reader import MAX_PAGE
from kb.taxonomy import sector_tree
from kb.errors import BadParameter
from web.public.blueprint import KINDS, bp, version_ref

PER_PAGE = 20
FILTERS = ("sector", "level1", "kind", "department", "project_type")
FACET_TITLES = {"sector": "行业领域", "level1": "一级指标", "kind": "指标类别", "department": "部门", "project_type": "项目类别"}
MAX_FILTER_CHARS = 40
COMPLETIONS = 8


def safe_fragment(fragment: str, source: str) -> Markup:
    """kb.search's highlights come HTML-escaped with matches in <mark>: trusted as HTML only once
    kb.search.query.trusted_fragment has checked that they are exactly that (the JSON twins give the same)."""
    return Markup(trusted_fragment(fragment, source))


@dataclass
class SectorFacet:
    code: str
    name: str
    count: int
    children: list["SectorFacet"] = field(default_factory=list)


def sector_facets(counts: list[search.FacetCount], sectors) -> list[SectorFacet]:
    """The classification tree, each node with the hits in it or below it.

    `counts` are the engine's sector_path counts: an indicator counts once in
    every sector on its path, so a node's count is what its link (the sector
    filter, which takes the subtree) finds. Adding up the children instead
    counted an indicator of two 项 of one 款 twice."""
    own = {f.value: f.count for f in counts}

    def build(node) -> SectorFacet | None:
        count = own.get(node.code, 0)
        if not count:
            return None
        children = [c for c in (build(child) for child in node.children) if c]
        return SectorFacet(node.code, node.name, count, children)

    return [f for f in (build(n) for n in sector_tree(sectors)) if f]


@dataclass
class Level1Group:
    name: str
    source: str
    counts: list


def level1_groups(counts: list[search.FacetCount]) -> list[Level1Group]:
    """The 一级 facet by the framework each value belongs to (kb.dimensions.level1_families): the library mixes
    产出指标 (目标表), 产出 (评价) and 医疗质量 (医院考核), and a bare list does not say which is which."""
    groups, placed = [], set()
    for fam in level1_families():
        mine = [f for f in counts if f.value in fam.level1 and f.value not in placed]
        placed.update(f.value for f in mine)
        if mine:
            groups.append(Level1Group(fam.name, fam.source, mine))
    rest = [f for f in counts if f.value not in placed]
    if rest:
        groups.append(Level1Group("其他", "", rest))
    return groups


def page_arg() -> int:
    raw = (request.args.get("page") or "1").strip()
    if not re.fullmatch(r"[0-9]{1,7}", raw) or not 1 <= int(raw) <= MAX_PAGE:
        raise BadParameter(f"页码“{raw[:20]}”无效：应为 1 到 {MAX_PAGE} 之间的整数")
    return int(raw)


def filters_arg() -> search.SearchFilters:
    values = {}
    for name in FILTERS:
        value = (request.args.get(name) or "").strip()
        if len(value) > MAX_FILTER_CHARS:
            raise BadParameter(f"筛选条件“{FACET_TITLES[name]}”过长")
        values[name] = value or None
    if values["kind"] and values["kind"] not in KINDS:
        raise BadParameter(f"指标类别“{values['kind']}”无效：应为 common（共性）或 specific（个性）")
    if values["sector"] and not values["sector"].isdigit():
        raise BadParameter(f"行业领域“{values['sector']}”无效：应为支出功能分类编码，如 210")
    return search.SearchFilters(**values)


def run_search(version) -> tuple[str, search.SearchFilters, search.SearchResult]:
    query = request.args.get("q", "")
    filters = filters_arg()
    page = page_arg()
    result = search.search(get_session(), index_dir(), query, filters, version, page=page, per_page=PER_PAGE,
                           source="web")
    return query, filters, result


def nearest_names(query: str, version) -> list[str]:
    """For a query that found nothing: indicator names starting like it, from ever shorter beginnings."""
    text = "".join(query.split())
    shortest = 1 if text and "\u4e00" <= text[0] <= "\u9fff" else 2  # one Chinese character already says something
    for n in range(min(len(text), 4), shortest - 1, -1):
        found = search.complete(get_session(), index_dir(), text[:n], version, limit=6)
        if found:
            return [c.text for c in found]
    return []


def search_url(changes: dict | None = None, drop: tuple = ()) -> str:
    """This search with some parameters changed (a facet picked, a page turned)."""
    args = {k: v for k, v in request.args.items() if v and k not in drop}
    args.pop("page", None)
    for key, value in (changes or {}).items():
        if value in (None, ""):
            args.pop(key, None)
        else:
            args[key] = value
    return url_for("web.search", **args)  # "web.search": the endpoint the header and the home page link to


@bp.route("/search", endpoint="search")
def search_page():
    version = version_ref()
    query, filters, result = run_search(version)
    session = get_session()
    sectors = list(snapshot.load(session, version).sectors.values())  # kept per worker and version
    sector_names = {s.code: s.name for s in sectors}
    facet_names = {name: {f.value: f.label for f in result.facets.get(name, [])} for name in FILTERS}
    facet_names["sector"].update(sector_names)
    facet_names["kind"].update(KINDS)
    pages = max(1, min(math.ceil(result.total / PER_PAGE), MAX_PAGE))
    nearest = nearest_names(query, version) if result.total == 0 and query.strip() else []
    hits = [(hit, safe_fragment(hit.highlight, hit.name), safe_fragment(hit.snippet, hit.definition)) for hit in result.hits]
    return render_template(
        "search.html", version=version, query=query, filters=filters, result=result, hits=hits, pages=pages,
        sector_tree=sector_facets(result.facets.get("sector_path", []), sectors),
        level1_groups=level1_groups(result.facets.get("level1", [])),
        facet_titles=FACET_TITLES, facet_names=facet_names, nearest=[n for n in nearest if n not in result.did_you_mean],
        search_url=search_url, active=[(n, getattr(filters, n)) for n in FILTERS if getattr(filters, n)],
    )


@bp.route("/search.json")
def search_json():
    version = version_ref()
    _, _, result = run_search(version)
    return jsonify(SearchResultSchema().dump(result))


@bp.route("/complete.json")
def complete_json():
    """The typeahead: indicator names by characters, full pinyin or initials."""
    version = version_ref()
    prefix = (request.args.get("q") or "")[:40]
    found = search.complete(get_session(), index_dir(), prefix, version, limit=COMPLETIONS) if prefix.strip() else []
    return jsonify(CompletionListSchema().dump({"version": version.label, "query": prefix, "completions": found}))

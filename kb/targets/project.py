"""A project's place in the library: its sector (and parent codes), department
and project types — given, or detected from the text by the types' keywords.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.models import ProjectTypeRecord
from kb.library.snapshot import Snapshot, sector_chain
from kb.targets.table import Project

NAME_WEIGHT = 2.0  # a keyword in the project's name says more than one in its description
KEEP_RATIO = 0.5  # other types are kept when they score at least half the best
MAX_TYPES = 3
SUBSIDY = "PT-BZ"
# 补助补贴发放类 pays people (or households, units) by a standard. "补助" alone also names money
# one government gives another for running something (急救中心运行补助, 免费开放补助资金,
# 基本公共卫生服务补助资金): the type then needs the people it pays to be named.
SUBSIDY_GENERIC = ("补助", "补贴", "奖励", "资助", "奖补", "补偿")
SUBSIDY_RECIPIENTS = re.compile(
    r"(学生|幼儿|儿童|老人|老年|残疾|困难|群众|居民|农户|农民|家庭|个人|人员|对象|职工|干部|教师|医生|村医|陪审员|"
    r"退役|优抚|军人|烈属|孤儿|低保|特困|贫困|脱贫|就业|岗位|创业|种植户|养殖户|经营主体|合作社|企业|每人|每户|人均|户均|生均)")


@dataclass
class TypeMatch:
    code: str
    name: str
    keywords: list[str] = field(default_factory=list)  # the words that matched; empty when given
    score: float = 0.0
    given: bool = False

    @property
    def reason(self) -> str:
        if self.given:
            return f"{self.name}（申报时填写）"
        return f"{self.name}（项目内容含“{'、'.join(self.keywords[:3])}”）"


@dataclass
class Scope:
    project: Project
    sector: str | None  # resolved 支出功能分类 code
    sectors: list[str]  # the sector with its parents, and the department's sectors when no sector is given
    department: str | None
    types: list[TypeMatch]

    @property
    def type_codes(self) -> list[str]:
        return [t.code for t in self.types]


def detect_types(project: Project, project_types: dict[str, ProjectTypeRecord]) -> list[TypeMatch]:
    """Project types whose keywords occur in the name or description, best first."""
    scored = []
    for t in sorted(project_types.values(), key=lambda t: t.code):
        hits, score = [], 0.0
        # a keyword inside a longer matched keyword of the same type counts once
        for k in sorted(set(t.keywords), key=lambda k: (-len(k), k)):  # by length, then by text (a set has no order)
            if not k or any(k in h for h in hits):
                continue
            in_name, in_text = k in project.name, k in project.description
            if in_name or in_text:
                hits.append(k)
                score += len(k) * (NAME_WEIGHT if in_name else 1.0)
        if hits:
            scored.append(TypeMatch(t.code, t.name, hits, score))
    scored = [m for m in scored if m.code != SUBSIDY or _pays_people(m, project)]
    scored = [m for m in scored if m.code != MEETING or _holds_a_meeting(m, project)]
    scored = _purchase_types(scored, project, project_types)
    scored = [m for m in scored if m.code != WORKS or _builds(m, project)]
    if not scored:
        return []
    scored.sort(key=lambda m: (-m.score, m.code))
    best = scored[0].score
    return [m for m in scored if m.score >= best * KEEP_RATIO][:MAX_TYPES]


MEETING = "PT-HY"
# a meeting project holds the meeting; "联席会议" or "常务会议" named in a description is who decided
MEETING_HELD = re.compile(r"(召开|举办|举行|承办|组织|筹办|参加|出席)[^，。；,;]{0,12}(会|论坛)|(会|论坛)[^，。；,;]{0,4}(筹备|会务|场地)")
RECIPIENT_WINDOW = 12  # characters before "补助" in which the people paid are named ("困难群众生活补助")


PURCHASE = "PT-GZ"
SERVICE = "PT-GM"
# 购置类 buys goods. "采购"/"购买" alone also name buying a service (采购雾炮车降尘抑尘服务,
# 机房租赁服务采购项目) or the procedure itself (已完成招标采购): the type then needs goods bought,
# and a service bought makes the project 政府购买服务类 even when none of that type's words occur.
PURCHASE_GENERIC = ("采购", "购买")
# what is bought runs from the verb to a clause break or to a word that starts another phrase
# (以采购价提供给…, 用于…); "、" and "等" stay inside it (采购狂犬、乙肝、流感等疫苗)
_BOUGHT_END = re.compile(r"[，。；,;：:（()）\n]|以|用于|提供|并|及|按|由|向|给|经|后|时")
# a service is bought when the thing bought is a 服务 (not a 服务机构/服务中心 that receives goods)
_A_SERVICE = re.compile(r"服务(?!机构|中心|站|点|对象|设施|设备|器材|用房|能力|水平|体系)")
# the procedure or its paperwork, not a thing bought
_NOT_GOODS = re.compile(r"^(项目|工作|经费|资金|计划|价|价格|程序|方式|流程|合同|任务|文件|手续|管理|结果|金额|代理)")
# what may stand before 采购 without being bought: the procedure (招标采购, 政府采购, 集中采购)
_PROCEDURE = ("招标", "政府", "集中", "公开", "完成", "统一", "组织", "进行", "实施", "自行", "分散", "年度", "计划")
_CLAUSE = re.compile(r"[，。；,;：:（()）\s\d]")
GOODS_MIN_CHARS = 2  # a thing bought is named by at least two characters (采购价 is a price)


@dataclass
class Purchases:
    goods: bool = False  # something bought is goods (疫苗, 图书, 办公电脑)
    service: str = ""  # the words naming a service bought ("采购雾炮车降尘抑尘服务"), if any


def purchases(project: Project) -> Purchases:
    """What "采购"/"购买" buy in the project's text: goods, a service (采购……服务, ……服务采购), or only
    the procedure (招标采购, 采购项目), each occurrence read on its own."""
    found = Purchases()
    for text in (project.name, project.description):
        for word in PURCHASE_GENERIC:
            for m in re.finditer(word, text):
                if text[max(0, m.start() - 2):m.start()] == "服务":
                    found.service = found.service or "服务" + word
                    continue
                rest = text[m.end():]
                end = _BOUGHT_END.search(rest)
                bought = rest[:end.start() if end else len(rest)]
                service = _A_SERVICE.search(bought)
                if service:
                    found.service = found.service or word + bought[:service.end()]
                elif len(bought) >= GOODS_MIN_CHARS and not _NOT_GOODS.match(bought):
                    found.goods = True
                else:
                    # nothing bought after the verb: the thing may come before it (图书采购, 办公电脑购买)
                    before = _CLAUSE.split(text[:m.start()])[-1]
                    if len(before) >= GOODS_MIN_CHARS and not before.endswith(_PROCEDURE):
                        found.goods = True
    return found


def _purchase_types(scored: list[TypeMatch], project: Project, project_types: dict[str, ProjectTypeRecord]) -> list[TypeMatch]:
    """购置类 only for goods bought (a word that says so by itself — 购置, 设备购置, 配备 … — or "采购"/
    "购买" of goods); a service bought adds 政府购买服务类 with the same weight."""
    goods = next((m for m in scored if m.code == PURCHASE), None)
    if goods is None or any(k not in PURCHASE_GENERIC for k in goods.keywords):
        return scored
    bought = purchases(project)
    out = [m for m in scored if m.code != PURCHASE or bought.goods]
    if bought.service and SERVICE in project_types and not any(m.code == SERVICE for m in out):
        out.append(TypeMatch(SERVICE, project_types[SERVICE].name, [bought.service], goods.score))
    return out


WORKS = "PT-JS"
# "工程" also names a programme (雪亮工程, 惠民工程, 育才工程): alone it needs works the text describes
WORKS_GENERIC = ("工程",)
_WORKS_DONE = re.compile(r"(施工|建设|新建|修建|建成|改造|维修|修缮|加固|铺设|安装|竣工|开工|土建|标段|监理|平方米|㎡|m2|延米|公里)")


def _builds(match: TypeMatch, project: Project) -> bool:
    return any(k not in WORKS_GENERIC for k in match.keywords) or bool(_WORKS_DONE.search(project.text))


def _holds_a_meeting(match: TypeMatch, project: Project) -> bool:
    """A meeting named in the project's name, or one the text says is held."""
    return any(k in project.name for k in match.keywords) or bool(MEETING_HELD.search(project.text))


def _pays_people(match: TypeMatch, project: Project) -> bool:
    """补助 paid to people: a word that says so by itself (助学金, 低保, 慰问 …), "发放", or the people
    named just before the generic word ("为学生提供营养膳食补助", "再就业援助对象岗位补贴")."""
    if any(k not in SUBSIDY_GENERIC for k in match.keywords):
        return True
    text = project.text
    if "发放" in text:
        return True
    for word in SUBSIDY_GENERIC:
        for m in re.finditer(word, text):
            if SUBSIDY_RECIPIENTS.search(text[max(0, m.start() - RECIPIENT_WINDOW):m.start()]):
                return True
    return False


def scope(snapshot: Snapshot, project: Project, strict: bool = True) -> Scope:
    """Resolve the project's sector, department and types against a library version.

    strict: an unknown sector or project type raises InvalidInput (recommend);
    otherwise it is ignored (the check reports it as a finding instead)."""
    try:
        sector = snapshot.resolve_sector(project.sector)
    except Exception:
        if strict:
            raise
        sector = None
    department = snapshot.resolve_department(project.department)
    try:
        given = snapshot.resolve_project_type(project.project_type)
    except Exception:
        if strict:
            raise
        given = None
    if given:
        types = [TypeMatch(given, snapshot.project_types[given].name, given=True)]
        types += [m for m in detect_types(project, snapshot.project_types) if m.code != given][:MAX_TYPES - 1]
    else:
        types = detect_types(project, snapshot.project_types)
    sectors: list[str] = sector_chain(sector) if sector else []
    if not sectors and department and department in snapshot.departments:
        for code in snapshot.departments[department].sectors:
            sectors += [c for c in sector_chain(code) if c not in sectors]
    return Scope(project, sector, sectors, department, types)


@dataclass
class ProjectLabels:
    """How a 申报表 names the project's sector and type: "21002 公立医院", "设备购置类"."""
    sector: str = ""
    project_type: str = ""


def labels(snapshot: Snapshot, project: Project) -> ProjectLabels:
    """The sector as code and name, and the given or detected project type by name (codes the library does
    not know are written as typed)."""
    found = scope(snapshot, project, strict=False)
    sector = found.sector
    sector_label = f"{sector} {snapshot.sectors[sector].name}" if sector in snapshot.sectors else project.sector
    type_label = found.types[0].name if found.types else project.project_type
    return ProjectLabels(sector_label, type_label)

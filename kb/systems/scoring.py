"""Scoring units with an indicator system (绩效评价): each unit's values per
leaf → leaf scores by the leaves' structured rules (kb.systems.scoring_rules), totals,
ranks, scores per 一级 and the leaves that lost most.

Leaf weights are absolute points, so a total is the sum of its leaves. Every
leaf score is rounded to 2 decimals (half up) first, and totals add the rounded
leaf scores, so the figures a unit sees always add up. No Flask here.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from kb.dimensions import dimensions
from kb.errors import InvalidInput, Problem
from kb.systems.scoring_rules import Bands, Ceiling, Deduction, Judged, Proportional, Rule, RuleError, parse_rule
from kb.systems.tree import SystemNode, SystemTree

CENT = Decimal("0.01")
WEAKEST = 5
MAX_LISTED = 8  # leaves named in one message before "等N项"
# No indicator value comes near this; beyond it Decimal's 28 digits could not hold a score to the cent.
LARGEST = Decimal("1e15")


class ValueProblem(ValueError):
    """A value a rule cannot use; the message says why, the caller says whose and where."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def plain(value: Decimal) -> str:
    """95.00 → "95", 2.375 → "2.375", 1/3 → "0.3333"."""
    value = Decimal(value)
    if value != value.quantize(Decimal("0.0001")):
        value = value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


# --- values as units write them ----------------------------------------------------------

def _text(raw) -> str:
    # NFKC: full-width digits and ％ become ASCII; spaces inside a number go
    return "".join(unicodedata.normalize("NFKC", str(raw)).split())


def parse_number(raw) -> Decimal:
    """95, "95", "95%", "1,200", "－3" → Decimal; a percentage keeps its percent figure (95% → 95)."""
    if isinstance(raw, bool) or raw is None or isinstance(raw, (dict, list)):
        raise ValueProblem(f"应为数字（如 95 或 95%），现为“{_shown(raw)}”")
    if isinstance(raw, (int, float)):
        value = Decimal(str(raw))
    else:
        text = _text(raw).replace(",", "").replace("−", "-").rstrip("%")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueProblem(f"应为数字（如 95 或 95%），现为“{_shown(raw)}”") from None
    if not value.is_finite() or abs(value) > LARGEST:
        raise ValueProblem(f"应为不超过 10 的 15 次方的有限数值，现为“{_shown(raw)}”")
    return value


def _shown(raw) -> str:
    text = str(raw) if raw is not None else ""
    return text if len(text) <= 40 else text[:40] + "…"


def is_blank(raw) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, dict):
        return is_blank(raw.get("actual"))
    return False


@dataclass(frozen=True)
class LeafInput:
    """A unit's value for one leaf: the actual value and, for rules against a target, its own target."""
    actual: object
    target: object = None


def leaf_input(raw) -> LeafInput:
    if isinstance(raw, dict):
        unknown = [k for k in raw if k not in ("actual", "target")]
        if unknown or "actual" not in raw:
            raise ValueProblem("应为数值，或 {\"actual\": 完成值, \"target\": 目标值}")
        target = raw.get("target")
        return LeafInput(raw["actual"], None if is_blank(target) else target)
    return LeafInput(raw)


# --- one leaf ------------------------------------------------------------------------------

def _judged_shares() -> dict[str, Decimal]:
    return {word: Decimal(share) for word, share in dimensions().judged_shares}


def _target(rule: Proportional | Ceiling, given: LeafInput) -> Decimal:
    if given.target is not None:
        try:
            return parse_number(given.target)
        except ValueProblem as exc:
            raise ValueProblem(f"目标值{exc.message}") from None
    if rule.target is None:
        raise ValueProblem("没有目标值：本项按各单位的年度目标计分，请同时给出目标值"
                           "（JSON 写 {\"actual\": 完成值, \"target\": 目标值}；Excel 加一列“编码 目标值”）")
    return rule.target


def _proportional(rule: Proportional, given: LeafInput, points: Decimal) -> tuple[Decimal, str]:
    actual, target = parse_number(given.actual), _target(rule, given)
    if actual >= target:
        return points, f"完成值 {plain(actual)} ≥ 目标值 {plain(target)}，得满分"
    if target <= 0:
        return Decimal(0), f"完成值 {plain(actual)} 低于目标值 {plain(target)}（目标值不为正数，无法按比例计分），不得分"
    score = max(Decimal(0), points * actual / target)
    return score, f"完成值 {plain(actual)} / 目标值 {plain(target)} × {plain(points)} 分"


def _ceiling(rule: Ceiling, given: LeafInput, points: Decimal) -> tuple[Decimal, str]:
    actual, target = parse_number(given.actual), _target(rule, given)
    if actual <= target:
        return points, f"实际值 {plain(actual)} ≤ 目标值 {plain(target)}，得满分"
    over = actual - target
    per = rule.deduction_per_unit(points)
    if per is not None:
        # continuous: 1.5 points over costs 1.5 × per (the 评分表's "每超过1个百分点" read as a rate)
        lost = per * over
        return max(Decimal(0), points - lost), (
            f"实际值 {plain(actual)}，超出目标值 {plain(target)} 共 {plain(over)}，每超出1扣 {plain(per)} 分，扣 {plain(min(lost, points))} 分"
            + ("，扣完为止" if lost >= points else ""))
    if target <= 0:
        return Decimal(0), f"实际值 {plain(actual)} 超过目标值 {plain(target)}（目标值不为正数，无法按比例计分），不得分"
    return points * target / actual, f"实际值 {plain(actual)} 超过目标值：目标值 {plain(target)} / 实际值 {plain(actual)} × {plain(points)} 分"


def _bands(rule: Bands, given: LeafInput, points: Decimal) -> tuple[Decimal, str]:
    value = parse_number(given.actual)
    band = rule.find(value)
    if band is None:
        raise ValueProblem(f"值 {plain(value)} 不在评分分档内（{'；'.join(b.label for b in rule.bands)}）")
    return points * band.share, f"值 {plain(value)} 在“{band.label}”档，得分值的 {plain(band.share * 100)}%"


def _deduction(rule: Deduction, given: LeafInput, points: Decimal) -> tuple[Decimal, str]:
    count = parse_number(given.actual)
    what = rule.counts or "次数"
    if count < 0 or count != count.to_integral_value():
        raise ValueProblem(f"应为{what}（0 或正整数），现为“{_shown(given.actual)}”")
    per = rule.per_occurrence(points)
    if count == 0:
        return points, f"{what}为 0，得满分"
    lost = per * count
    return max(Decimal(0), points - lost), (
        f"{what}为 {plain(count)}，每项扣 {plain(per)} 分，扣 {plain(min(lost, points))} 分" + ("，扣完为止" if lost >= points else ""))


def _judged(given: LeafInput, points: Decimal) -> tuple[Decimal, str]:
    raw = given.actual
    shares = _judged_shares()
    word = _text(raw) if isinstance(raw, str) else None
    if word in shares:
        share = shares[word]
        return points * share, f"评定“{word}”，得分值的 {plain(share * 100)}%"
    try:
        value = parse_number(raw)
    except ValueProblem:
        raise ValueProblem(f"本项由评价人评定，应填得分（0–{plain(points)}）、得分比例（如 80%）或等级"
                           f"（{'、'.join(shares)}），现为“{_shown(raw)}”") from None
    if isinstance(raw, str) and _text(raw).endswith("%"):
        if not 0 <= value <= 100:
            raise ValueProblem(f"得分比例应在 0%–100% 之间，现为“{_shown(raw)}”")
        return points * value / 100, f"评定得分值的 {plain(value)}%"
    if not 0 <= value <= points:
        raise ValueProblem(f"评定得分应在 0–{plain(points)} 之间，现为“{_shown(raw)}”")
    return value, f"评定得分 {plain(value)}"


def leaf_score(rule: Rule, given: LeafInput, points: Decimal) -> tuple[Decimal, str]:
    """(score rounded to cents, reason); ValueProblem when the value does not fit the rule."""
    if given.target is not None and not rule.uses_target:
        raise ValueProblem("本项不按目标值计分，不应填目标值")
    if isinstance(rule, Proportional):
        score, reason = _proportional(rule, given, points)
    elif isinstance(rule, Ceiling):
        score, reason = _ceiling(rule, given, points)
    elif isinstance(rule, Bands):
        score, reason = _bands(rule, given, points)
    elif isinstance(rule, Deduction):
        score, reason = _deduction(rule, given, points)
    else:
        score, reason = _judged(given, points)
    score = cents(min(max(score, Decimal(0)), points))
    return score, f"{reason}：得 {plain(score)} 分"


def score_leaf(rule, value, points) -> tuple[float, str]:
    """One leaf: `rule` a rule dict (or parsed rule, or None for judged), `value` as a unit gives it
    ("95%", 95, "优", {"actual": …, "target": …}), `points` the leaf's weight → (score, reason)."""
    try:
        parsed = rule if isinstance(rule, (Proportional, Ceiling, Bands, Deduction, Judged)) else parse_rule(rule)
    except RuleError as exc:
        raise InvalidInput(f"计分规则有误：{exc.message}") from None
    try:
        score, reason = leaf_score(parsed, leaf_input(value), Decimal(str(points)))
    except ValueProblem as exc:
        raise InvalidInput(exc.message) from None
    return float(score), reason


# --- a round ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Leaf:
    """A leaf of the system as scoring sees it."""
    indicator: str
    name: str
    level1: str
    points: Decimal
    rule: Rule
    indicator_name: str = ""  # the library's name of the indicator, when the leaf is named otherwise

    @property
    def label(self) -> str:
        return f"{self.name}（{self.indicator}）" if self.name != self.indicator else self.indicator


@dataclass
class LeafScore:
    indicator: str
    name: str
    level1: str
    score: float
    max: float
    reason: str


@dataclass
class WeakLeaf:
    name: str
    indicator: str
    score: float
    max: float
    lost: float


@dataclass
class UnitScore:
    name: str
    total: float
    rank: int
    grade: str
    by_level1: dict[str, float]
    weakest: list[WeakLeaf]
    leaves: list[LeafScore]


@dataclass
class RoundScores:
    system: str
    system_name: str
    version: str
    max_total: float
    level1: dict[str, float]  # 一级 → its points, in the system's order
    units: list[UnitScore] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def leaves(tree: SystemTree) -> list[Leaf]:
    """The system's leaves in order, with their 一级 and parsed rules (RuleError if one is broken)."""
    out: list[Leaf] = []

    def walk(nodes: list[SystemNode], level1: str | None) -> None:
        for node in nodes:
            top = level1 if level1 is not None else node.name
            if node.children:
                walk(node.children, top)
            elif node.indicator:
                try:
                    rule = parse_rule(node.rule)
                except RuleError as exc:
                    raise RuleError(f"指标“{node.name}（{node.indicator}）”的计分规则有误：{exc.message}") from None
                out.append(Leaf(node.indicator, node.name, top, Decimal(str(node.weight)), rule, node.indicator_name or ""))

    walk(tree.nodes, None)
    return out


def _key(text: str) -> str:
    return _text(text).upper()


class LeafIndex:
    """Finds a leaf by its indicator code or its name, as a unit's file writes either."""

    def __init__(self, items: list[Leaf]):
        self.codes = {_key(leaf.indicator): leaf for leaf in items}
        self.names: dict[str, Leaf | None] = {}
        for leaf in items:
            for name in {leaf.name, leaf.indicator_name} - {""}:
                key = _key(name)
                if key not in self.codes:
                    # two leaves of one name: only their codes say which (None marks the clash)
                    self.names[key] = leaf if self.names.get(key, leaf) is leaf else None

    def find(self, key: str) -> Leaf | None:
        """The leaf, None when unknown; ValueProblem when the name fits two leaves."""
        normal = _key(key)
        if normal in self.codes:
            return self.codes[normal]
        if normal in self.names and self.names[normal] is None:
            raise ValueProblem(f"“{key}”对应多个指标，请改用指标编码")
        return self.names.get(normal)


@dataclass(frozen=True)
class UnitInput:
    name: str
    values: dict


def unit_inputs(units) -> tuple[list[UnitInput], list[Problem]]:
    """The units as given, checked for shape: a list of {name, values}, names present and unique."""
    if not isinstance(units, list) or not units:
        return [], [Problem("没有要评分的单位：units 应为至少一个 {name, values} 的列表")]
    out, problems, seen = [], [], set()
    for i, unit in enumerate(units, start=1):
        where = f"第{i}个单位"
        if not isinstance(unit, dict):
            problems.append(Problem("应为 {name, values}", where))
            continue
        unknown = [k for k in unit if k not in ("name", "values")]
        if unknown:
            problems.append(Problem(f"不认识的字段：{'、'.join(map(str, unknown))}（应为 name、values）", where))
        name = unit.get("name")
        name = name.strip() if isinstance(name, str) else ""
        if not name:
            problems.append(Problem("缺少单位名称（name）", where))
            continue
        if name in seen:
            problems.append(Problem(f"单位名称“{name}”重复", where))
            continue
        seen.add(name)
        values = unit.get("values")
        if not isinstance(values, dict):
            problems.append(Problem(f"单位“{name}”的 values 应为 {{指标编码或名称: 值}}", where))
            continue
        out.append(UnitInput(name, values))
    return out, problems


def _names(items: list[Leaf]) -> str:
    shown = "、".join(leaf.label for leaf in items[:MAX_LISTED])
    return shown + (f"等{len(items)}项" if len(items) > MAX_LISTED else "")


# "GX-BM-006 目标值", "预算完成率（目标值）", "预算完成率-年度目标": the unit's own target for a leaf
TARGET_SUFFIX = re.compile(r"[\s·_\-—:：（(]*(?:年度)?目标值?[)）]?$")


@dataclass
class _Given:
    """What one unit wrote for one leaf, and under which keys."""
    actual_key: str = ""
    actual: object = None
    target_key: str = ""
    target: object = None


def _lookup(index: LeafIndex, key: str) -> tuple[Leaf | None, bool]:
    """(leaf, whether the key names its target column); (None, False) when no leaf fits."""
    leaf = index.find(key)
    if leaf is not None:
        return leaf, False
    base = TARGET_SUFFIX.sub("", key)
    if base and base != key:
        leaf = index.find(base)
        return leaf, leaf is not None
    return None, False


def _collect(unit: UnitInput, index: LeafIndex, system: str, problems: list[Problem]) -> dict[str, _Given]:
    given: dict[str, _Given] = {}
    for key, raw in unit.values.items():
        key = str(key)
        try:
            leaf, is_target = _lookup(index, key)
        except ValueProblem as exc:
            problems.append(Problem(f"单位“{unit.name}”：{exc.message}", unit.name, field=key))
            continue
        if leaf is None:
            problems.append(Problem(f"单位“{unit.name}”：“{key}”不是指标体系 {system} 中的指标", unit.name, field=key))
            continue
        g = given.setdefault(leaf.indicator, _Given())
        first = g.target_key if is_target else g.actual_key
        if first:
            what = "目标值" if is_target else "值"
            problems.append(Problem(f"单位“{unit.name}”：“{first}”与“{key}”是同一指标 {leaf.label} 的{what}，只能填一次",
                                    unit.name, field=key))
        elif is_target:
            g.target_key, g.target = key, raw
        else:
            g.actual_key, g.actual = key, raw
    return given


def _input(g: _Given) -> LeafInput:
    given = leaf_input(g.actual)
    if is_blank(g.target):
        return given
    if given.target is not None:
        raise ValueProblem(f"目标值填了两次（“{g.actual_key}”与“{g.target_key}”）")
    return LeafInput(given.actual, g.target)


def _score_unit(unit: UnitInput, items: list[Leaf], index: LeafIndex, system: str,
                problems: list[Problem]) -> list[tuple[Leaf, Decimal, str]] | None:
    before = len(problems)
    given = _collect(unit, index, system, problems)
    missing = [leaf for leaf in items if is_blank(given.get(leaf.indicator, _Given()).actual)]
    if missing:
        problems.append(Problem(f"单位“{unit.name}”缺少 {len(missing)} 项指标的值：{_names(missing)}", unit.name,
                                field="、".join(leaf.indicator for leaf in missing)))
    skipped = {leaf.indicator for leaf in missing}
    scored = []
    for leaf in items:
        if leaf.indicator in skipped:
            continue
        try:
            score, reason = leaf_score(leaf.rule, _input(given[leaf.indicator]), leaf.points)
        except ValueProblem as exc:
            problems.append(Problem(f"单位“{unit.name}”的“{leaf.label}”{exc.message}", unit.name, field=leaf.indicator))
            continue
        scored.append((leaf, score, reason))
    return None if len(problems) > before else scored


def grade(total: Decimal, max_total: Decimal) -> str:
    """优/良/中/差 of a total, on 100 (财预〔2020〕10号; dimensions.yaml)."""
    on_100 = total * 100 / max_total if max_total else Decimal(0)
    for name, minimum in dimensions().evaluation_grades:
        if on_100 >= Decimal(str(minimum)):
            return name
    return dimensions().evaluation_grades[-1][0]


def _unit_result(name: str, scored: list[tuple[Leaf, Decimal, str]], level1: dict[str, Decimal],
                 max_total: Decimal) -> UnitScore:
    total = sum((s for _, s, _ in scored), Decimal(0))
    by_level1 = {top: Decimal(0) for top in level1}
    for leaf, score, _ in scored:
        by_level1[leaf.level1] += score
    lost = sorted(((leaf, score) for leaf, score, _ in scored if score < leaf.points),
                  key=lambda item: -(item[0].points - item[1]))  # stable: ties keep the system's order
    return UnitScore(
        name=name,
        total=float(total),
        rank=0,
        grade=grade(total, max_total),
        by_level1={k: float(v) for k, v in by_level1.items()},
        weakest=[WeakLeaf(leaf.name, leaf.indicator, float(score), float(leaf.points), float(leaf.points - score))
                 for leaf, score in lost[:WEAKEST]],
        leaves=[LeafScore(leaf.indicator, leaf.name, leaf.level1, float(score), float(leaf.points), reason)
                for leaf, score, reason in scored],
    )


def rank(units: list[UnitScore]) -> None:
    """1 = best; equal totals share a rank and the next rank skips (1, 2, 2, 4)."""
    totals = sorted((u.total for u in units), reverse=True)
    for u in units:
        u.rank = totals.index(u.total) + 1


def score_round(tree: SystemTree, units) -> RoundScores:
    """Score every unit; InvalidInput naming unit and leaf for every value that does not fit (nothing partial).

    `units`: [{"name": …, "values": {"<leaf code or name>": value}}]; a value is text or a number
    ("95%", 95, "优"), or {"actual": …, "target": …} for a leaf scored against each unit's own target."""
    try:
        items = leaves(tree)
    except RuleError as exc:
        raise InvalidInput(f"指标体系 {tree.code}（版本 {tree.version}）无法用于评分：{exc.message}") from None
    if not items:
        raise InvalidInput(f"指标体系 {tree.code} 没有叶节点指标，无法评分")
    inputs, problems = unit_inputs(units)
    index = LeafIndex(items)
    scored = [(unit.name, _score_unit(unit, items, index, tree.code, problems)) for unit in inputs]
    if problems:
        head = problems[0].message
        message = head if len(problems) == 1 else f"评分数据有 {len(problems)} 处问题，未评分：{head}；……"
        raise InvalidInput(message, problems)
    level1 = {}
    for leaf in items:
        level1[leaf.level1] = level1.get(leaf.level1, Decimal(0)) + leaf.points
    max_total = sum(level1.values(), Decimal(0))
    results = [_unit_result(name, rows, level1, max_total) for name, rows in scored]
    rank(results)
    return RoundScores(tree.code, tree.name, tree.version, float(max_total), {k: float(v) for k, v in level1.items()}, results)

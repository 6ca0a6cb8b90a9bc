"""Structured scoring rules of an indicator system's leaves: what a leaf's
`rule` dict may say, parsed into data classes (kb.systems.scoring applies them).

A leaf keeps its `scoring_rule` text for people; `rule` is the same rule in a
form a program can apply. Five kinds:

- proportional  full marks at or beyond `target`, points × actual/target below it
- ceiling       full marks at or below `target`; above it `per_point` points off per unit over
                (or `per_point_share` of the leaf's points), floor 0; without either, points × target/actual
- bands         value bands {min, max, share}: min inclusive, max exclusive unless
                `min_inclusive`/`max_inclusive` say otherwise; either bound may be null (open)
- deduction     `per` points (or `per_share` of the leaf's points) off per occurrence, floor 0
- judged        the evaluator enters the points, a share ("80%") or a grade word (see dimensions.yaml)

`target: null` means each unit's own annual target, given with its value.
Numbers may be written as fractions ("1/3") where a decimal would be inexact.
All arithmetic is Decimal so that a round scores the same on every machine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Union

KIND_NAMES = {
    "proportional": "比例计分",
    "ceiling": "上限扣分",
    "bands": "分档计分",
    "deduction": "扣分",
    "judged": "评价人评定",
}
PARAM_NAMES = {
    "target": "target（目标值；填 null 表示按各单位的年度目标）",
    "per_point": "per_point（每超出1个单位扣的分）",
    "per_point_share": "per_point_share（每超出1个单位扣分值的比例）",
    "bands": "bands（分档列表）",
    "per": "per（每次扣的分）",
    "per_share": "per_share（每次扣分值的比例）",
    "counts": "counts（计数的是什么）",
}
_FRACTION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")


class RuleError(ValueError):
    """A rule that cannot be applied; the message is Chinese, for the curator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def rule_number(raw, what: str) -> Decimal:
    """A parameter as Decimal: a number, a decimal string or a fraction such as "1/3"."""
    if isinstance(raw, bool) or raw is None:
        raise RuleError(f"{what}应为数字")
    if isinstance(raw, (int, float)):
        value = Decimal(str(raw))  # str(): 0.3 stays 0.3, not its binary expansion
    elif isinstance(raw, str):
        m = _FRACTION.match(raw)
        try:
            if m:
                if Decimal(m.group(2)) == 0:
                    raise RuleError(f"{what}的分母不能为0")
                value = Decimal(m.group(1)) / Decimal(m.group(2))
            else:
                value = Decimal(raw.strip())
        except InvalidOperation:
            raise RuleError(f"{what}应为数字或分数（如 0.5、1/3），现为“{raw}”") from None
    else:
        raise RuleError(f"{what}应为数字")
    if not value.is_finite() or abs(value) > Decimal("1e15"):  # as kb.systems.scoring.LARGEST: scores stay exact to the cent
        raise RuleError(f"{what}应为不超过 10 的 15 次方的有限数值")
    return value


def _share(raw, what: str) -> Decimal:
    value = rule_number(raw, what)
    if not 0 <= value <= 1:
        raise RuleError(f"{what}应在0到1之间（分值的比例），现为 {raw}")
    return value


@dataclass(frozen=True)
class Proportional:
    target: Decimal | None

    kind = "proportional"
    uses_target = True


@dataclass(frozen=True)
class Ceiling:
    target: Decimal | None
    per_point: Decimal | None = None
    per_point_share: Decimal | None = None

    kind = "ceiling"
    uses_target = True

    def deduction_per_unit(self, points: Decimal) -> Decimal | None:
        if self.per_point is not None:
            return self.per_point
        if self.per_point_share is not None:
            return self.per_point_share * points
        return None


@dataclass(frozen=True)
class Band:
    min: Decimal | None
    max: Decimal | None
    share: Decimal
    min_inclusive: bool = True
    max_inclusive: bool = False

    def contains(self, value: Decimal) -> bool:
        if self.min is not None and (value < self.min or (value == self.min and not self.min_inclusive)):
            return False
        if self.max is not None and (value > self.max or (value == self.max and not self.max_inclusive)):
            return False
        return True

    @property
    def label(self) -> str:
        """The band as the 评分表 writes it: "80（含）–90", "≥90", "<60", "=0"."""
        lo, hi = _plain(self.min), _plain(self.max)
        if self.min is not None and self.min == self.max:
            return f"={lo}"
        if self.min is None:
            return f"{'≤' if self.max_inclusive else '<'}{hi}" if self.max is not None else "任意值"
        if self.max is None:
            return f"{'≥' if self.min_inclusive else '>'}{lo}"
        return f"{lo}{'（含）' if self.min_inclusive else '（不含）'}–{hi}{'（含）' if self.max_inclusive else ''}"


@dataclass(frozen=True)
class Bands:
    bands: tuple[Band, ...]

    kind = "bands"
    uses_target = False

    def find(self, value: Decimal) -> Band | None:
        return next((b for b in self.bands if b.contains(value)), None)


@dataclass(frozen=True)
class Deduction:
    per: Decimal | None = None
    per_share: Decimal | None = None
    counts: str = ""  # what one occurrence is, for the reason text ("发现的问题数")

    kind = "deduction"
    uses_target = False

    def per_occurrence(self, points: Decimal) -> Decimal:
        return self.per if self.per is not None else self.per_share * points


@dataclass(frozen=True)
class Judged:
    kind = "judged"
    uses_target = False


Rule = Union[Proportional, Ceiling, Bands, Deduction, Judged]
JUDGED = Judged()


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text if len(text) <= 8 else format(round(value, 4).normalize(), "f")


def _check_params(raw: dict, kind: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    name = f"“{KIND_NAMES[kind]}”规则（{kind}）"
    unknown = [k for k in raw if k != "kind" and k not in required and k not in optional]
    if unknown:
        raise RuleError(f"{name}不认识参数：{'、'.join(map(str, unknown))}")
    missing = [PARAM_NAMES.get(k, k) for k in required if k not in raw]
    if missing:
        raise RuleError(f"{name}缺少参数：{'、'.join(missing)}")


def _target(raw: dict) -> Decimal | None:
    return None if raw.get("target") is None else rule_number(raw["target"], "目标值 target")


def _proportional(raw: dict) -> Proportional:
    _check_params(raw, "proportional", ("target",))
    return Proportional(_target(raw))


def _ceiling(raw: dict) -> Ceiling:
    _check_params(raw, "ceiling", ("target",), ("per_point", "per_point_share"))
    per_point = raw.get("per_point")
    per_share = raw.get("per_point_share")
    if per_point is not None and per_share is not None:
        raise RuleError("“上限扣分”规则只能给 per_point 或 per_point_share 之一")
    rule = Ceiling(
        _target(raw),
        rule_number(per_point, "每超出1个单位扣的分 per_point") if per_point is not None else None,
        _share(per_share, "每超出1个单位扣分值的比例 per_point_share") if per_share is not None else None,
    )
    if (rule.per_point is not None and rule.per_point <= 0) or (rule.per_point_share is not None and rule.per_point_share <= 0):
        raise RuleError("“上限扣分”规则每超出1个单位扣的分应大于0")
    return rule


def _band(raw, index: int) -> Band:
    where = f"第{index}档"
    if not isinstance(raw, dict):
        raise RuleError(f"{where}应为 {{min, max, share}}")
    unknown = [k for k in raw if k not in ("min", "max", "share", "min_inclusive", "max_inclusive")]
    if unknown:
        raise RuleError(f"{where}不认识参数：{'、'.join(map(str, unknown))}")
    if "share" not in raw:
        raise RuleError(f"{where}缺少参数：share（得分值的比例，0–1）")
    if "min" not in raw and "max" not in raw:
        raise RuleError(f"{where}缺少参数：min 或 max（下限、上限，null 表示不限）")
    for flag in ("min_inclusive", "max_inclusive"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise RuleError(f"{where}的 {flag} 应为 true 或 false")
    lo = None if raw.get("min") is None else rule_number(raw["min"], f"{where}的下限 min")
    hi = None if raw.get("max") is None else rule_number(raw["max"], f"{where}的上限 max")
    band = Band(lo, hi, _share(raw["share"], f"{where}的 share"),
                raw.get("min_inclusive", True), raw.get("max_inclusive", False))
    if lo is not None and hi is not None:
        if lo > hi:
            raise RuleError(f"{where}的下限 {_plain(lo)} 大于上限 {_plain(hi)}")
        if lo == hi and not (band.min_inclusive and band.max_inclusive):
            raise RuleError(f"{where}的下限与上限相同（{_plain(lo)}），须 min_inclusive 与 max_inclusive 都为 true")
    return band


def _overlap(a: Band, b: Band) -> bool:
    """Whether two bands share a value (a value in two bands would have two scores)."""
    neg_inf, pos_inf = Decimal("-Infinity"), Decimal("Infinity")
    lo_a, lo_b = (a.min if a.min is not None else neg_inf), (b.min if b.min is not None else neg_inf)
    hi_a, hi_b = (a.max if a.max is not None else pos_inf), (b.max if b.max is not None else pos_inf)
    lo = max(lo_a, lo_b)
    lo_in = (a.min_inclusive or lo_a != lo) and (b.min_inclusive or lo_b != lo)
    hi = min(hi_a, hi_b)
    hi_in = (a.max_inclusive or hi_a != hi) and (b.max_inclusive or hi_b != hi)
    return lo < hi or (lo == hi and lo_in and hi_in and lo.is_finite())


def _bands(raw: dict) -> Bands:
    _check_params(raw, "bands", ("bands",))
    items = raw["bands"]
    if not isinstance(items, list) or not items:
        raise RuleError("“分档计分”规则的 bands 应为至少一档的列表")
    bands = tuple(_band(b, i) for i, b in enumerate(items, start=1))
    for i, a in enumerate(bands):
        for j in range(i + 1, len(bands)):
            if _overlap(a, bands[j]):
                raise RuleError(f"第{i + 1}档（{a.label}）与第{j + 1}档（{bands[j].label}）有重叠")
    return Bands(bands)


def _deduction(raw: dict) -> Deduction:
    _check_params(raw, "deduction", (), ("per", "per_share", "counts"))
    if (raw.get("per") is None) == (raw.get("per_share") is None):
        raise RuleError("“扣分”规则（deduction）须给 per（每次扣的分）或 per_share（每次扣分值的比例）之一")
    counts = raw.get("counts") or ""
    if not isinstance(counts, str):
        raise RuleError("“扣分”规则的 counts 应为文字")
    if raw.get("per") is not None:
        per = rule_number(raw["per"], "每次扣的分 per")
        if per <= 0:
            raise RuleError("“扣分”规则每次扣的分 per 应大于0")
        return Deduction(per=per, counts=counts)
    share = _share(raw["per_share"], "每次扣分值的比例 per_share")
    if share <= 0:
        raise RuleError("“扣分”规则每次扣分值的比例 per_share 应大于0")
    return Deduction(per_share=share, counts=counts)


def _judged(raw: dict) -> Judged:
    _check_params(raw, "judged", ())
    return JUDGED


_PARSERS = {"proportional": _proportional, "ceiling": _ceiling, "bands": _bands, "deduction": _deduction, "judged": _judged}


def parse_rule(raw) -> Rule:
    """A leaf's `rule` dict → a rule; None (no structured rule) is judged by the evaluator."""
    if raw is None:
        return JUDGED
    if not isinstance(raw, dict):
        raise RuleError("计分规则应为 {kind: …, 参数…}")
    kind = raw.get("kind")
    if kind not in _PARSERS:
        raise RuleError(f"计分规则的 kind 须为：{'、'.join(f'{k}（{v}）' for k, v in KIND_NAMES.items())}")
    return _PARSERS[kind](raw)


def describe(raw) -> str:
    """A rule in a few Chinese words, for pages that show it beside the scoring rule's text."""
    try:
        rule = parse_rule(raw)
    except RuleError as exc:
        return f"计分规则有误：{exc.message}"
    target = "各单位年度目标" if getattr(rule, "target", None) is None else f"目标值 {_plain(rule.target)} "
    if isinstance(rule, Proportional):
        return f"比例计分：达到{target}得满分，未达到按完成值/目标值计分"
    if isinstance(rule, Ceiling):
        if rule.per_point is not None:
            return f"上限扣分：不超过{target}得满分，每超出1扣 {_plain(rule.per_point)} 分，扣完为止"
        if rule.per_point_share is not None:
            return f"上限扣分：不超过{target}得满分，每超出1扣分值的 {_plain(rule.per_point_share * 100)}%，扣完为止"
        return f"上限计分：不超过{target}得满分，超过按目标值/实际值计分"
    if isinstance(rule, Bands):
        return "分档计分：" + "；".join(f"{b.label} 得分值的 {_plain(round(b.share * 100, 2))}%" for b in rule.bands)
    if isinstance(rule, Deduction):
        per = f" {_plain(rule.per)} 分" if rule.per is not None else f"分值的 {_plain(round(rule.per_share * 100, 2))}%"
        return f"扣分：{('按' + rule.counts + '，') if rule.counts else ''}每项扣{per}，扣完为止"
    return "评价人评定：填得分、得分比例或等级（优/良/中/差，达成/部分达成/未达成）"

"""The 一级/二级 target dimensions, operators and value bases, read from the
one file that states them (indicators/framework/dimensions.yaml)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

from kb.paths import INDICATORS_DIR

DIMENSIONS_FILE = INDICATORS_DIR / "framework" / "dimensions.yaml"


@dataclass(frozen=True)
class TargetLevel:
    level1: str
    level2: tuple[str, ...]
    required: tuple[str, ...]
    required_any: bool


@dataclass(frozen=True)
class Dimensions:
    target_levels: tuple[TargetLevel, ...]
    operators: tuple[str, ...]
    quantitative_operators: tuple[str, ...]
    value_bases: tuple[str, ...]
    qualitative_values: tuple[str, ...]
    grades: tuple[tuple[str, int, str], ...]  # (grade, min score, meaning)
    evaluation_grades: tuple[tuple[str, float], ...]  # (grade, min total out of 100) of a scored unit
    judged_shares: tuple[tuple[str, str], ...]  # (word, share of a judged leaf's points, as decimal text)
    raw: dict

    @property
    def target_level1(self) -> tuple[str, ...]:
        return tuple(t.level1 for t in self.target_levels)

    def level2_of(self, level1: str) -> tuple[str, ...]:
        for t in self.target_levels:
            if t.level1 == level1:
                return t.level2
        return ()


@dataclass(frozen=True)
class Level1Family:
    """A framework whose 一级 the library holds (绩效目标表, 绩效评价 …), with the document that sets it."""
    name: str
    source: str
    level1: tuple[str, ...]


def level1_families() -> tuple[Level1Family, ...]:
    """The families of 一级 values, in the order dimensions.yaml lists them (level1_families)."""
    dims = dimensions()
    frameworks = dims.raw.get("frameworks", {})
    out = []
    for fam in dims.raw.get("level1_families", []):
        values = list(dims.target_level1) if fam.get("target") else []
        for key in fam.get("frameworks", []):
            values.extend(frameworks[key]["level1"])
        values.extend(fam.get("level1", []))
        out.append(Level1Family(fam["name"], fam.get("source", ""), tuple(dict.fromkeys(values))))
    return tuple(out)


@lru_cache(maxsize=1)
def dimensions() -> Dimensions:
    raw = yaml.safe_load(DIMENSIONS_FILE.read_text(encoding="utf-8"))
    levels = tuple(
        TargetLevel(
            level1=t["level1"],
            level2=tuple(t["level2"]),
            required=tuple(t.get("required", [])),
            required_any=bool(t.get("required_any", False)),
        )
        for t in raw["target"]["levels"]
    )
    ops = raw["operators"]
    return Dimensions(
        target_levels=levels,
        operators=tuple(o["symbol"] for o in ops),
        quantitative_operators=tuple(o["symbol"] for o in ops if o["quantitative"]),
        value_bases=tuple(b["name"] for b in raw["value_bases"]),
        qualitative_values=tuple(raw["qualitative_values"]),
        grades=tuple((b["grade"], int(b["min"]), b["meaning"]) for b in raw["grades"]["bands"]),
        evaluation_grades=tuple((b["grade"], float(b["min"])) for b in raw["evaluation"]["grades"]),
        # kept as text: kb.systems.scoring computes in Decimal, and str(0.8) is exactly "0.8"
        judged_shares=tuple((word, str(share)) for word, share in raw["evaluation"]["judged"]["shares"].items()),
        raw=raw,
    )

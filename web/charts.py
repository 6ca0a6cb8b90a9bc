"""Server-rendered charts: the geometry of a horizontal bar chart, drawn as
SVG by templates/curator/_charts.html (no script, no inline style; colours
come from classes in the stylesheet)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from kb.numerals import fmt


@dataclass(frozen=True)
class BarRow:
    label: str
    value: float  # counts in the plan's charts, scores (82.67) in a round's
    target: float
    y: float
    width: float  # of the value's bar
    target_x: float | None  # where the target mark goes
    done: bool

    @property
    def text(self) -> str:
        return f"{fmt(self.value)} / {fmt(self.target)}" if self.target else fmt(self.value)


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    left: int  # width of the labels' column
    plot: int  # width of the bars' area
    bar: int  # height of one bar
    rows: list[BarRow]
    ticks: list[tuple[float, str]]


def nice_max(value: float) -> int:
    """A round upper bound for the axis (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power)
    return int(10 * power)


def bar_chart(title: str, items: list[tuple[str, float, float]], width: int = 760, left: int = 220,
              row: int = 28, bar: int = 16) -> BarChart:
    """items: (label, value, target); a target of 0 means none."""
    plot = width - left - 90  # room on the right for "value / target"
    top = nice_max(max([v for _, v, _ in items] + [t for _, _, t in items] + [1]))
    scale = plot / top
    rows = [
        BarRow(label, value, target, 24 + i * row, value * scale, left + target * scale if target else None,
               bool(target) and value >= target)
        for i, (label, value, target) in enumerate(items)
    ]
    ticks = [(left + top * f * scale, f"{top * f:g}") for f in (0, 0.25, 0.5, 0.75, 1)]
    return BarChart(title, width, 24 + len(items) * row + 8, left, plot, bar, rows, ticks)

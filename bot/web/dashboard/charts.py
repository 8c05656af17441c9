"""The overview's activity chart as geometry for an inline SVG (bot/templates/web/_chart.html.j2): one column per
day, its groups stacked, a y axis with round ticks. No JavaScript, nothing fetched."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28
GAP = 0.2  # of a column's width, between columns
MOST_TICKS = 5
LABELS = 6  # at most this many days are named under the axis


@dataclass(frozen=True, slots=True)
class Bar:
    group: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Column:
    day: str
    counts: dict[str, int]
    total: int
    x: float
    width: float
    bars: list[Bar]
    label: str | None  # the day under the axis (MM-DD), for some columns


@dataclass(frozen=True, slots=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    right: float  # the plot's right edge
    bottom: float  # the plot's baseline
    groups: list[str]
    columns: list[Column]
    ticks: list[Tick]
    total: int


def step_for(most: int) -> int:
    """A round tick step (1, 2 or 5 times a power of ten) giving at most MOST_TICKS steps up to `most`."""
    if most <= MOST_TICKS:
        return 1
    power = 10 ** math.floor(math.log10(most / MOST_TICKS))
    for factor in (1, 2, 5, 10):
        if most / (factor * power) <= MOST_TICKS:
            return factor * power
    return 10 * power  # pragma: no cover (10 always fits)


def activity_chart(series: list[dict[str, Any]], groups: list[str]) -> Chart:
    """Stacked columns for `series` (`{"day": "2026-11-02", GROUP: count, …}` per day, as data.daily_activity gives)."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height
    totals = [sum(int(day.get(group, 0)) for group in groups) for day in series]
    most = max(totals, default=0)
    step = step_for(most)
    top_value = max(step, math.ceil(most / step) * step)
    scale = plot_height / top_value
    slot = plot_width / max(1, len(series))
    every = max(1, math.ceil(len(series) / LABELS))
    columns = []
    for index, (day, total) in enumerate(zip(series, totals, strict=True)):
        x = LEFT + index * slot + slot * GAP / 2
        width = slot * (1 - GAP)
        bars, base = [], float(bottom)
        for group in groups:
            value = int(day.get(group, 0))
            if value:
                height = value * scale
                base -= height
                bars.append(Bar(group, value, round(x, 2), round(base, 2), round(width, 2), round(height, 2)))
        label = day["day"][5:] if (len(series) - 1 - index) % every == 0 else None  # counted back from today
        columns.append(Column(day["day"], {group: int(day.get(group, 0)) for group in groups}, total, round(x, 2),
                              round(width, 2), bars, label))
    ticks = [Tick(value, round(bottom - value * scale, 2)) for value in range(0, top_value + 1, step)]
    return Chart(WIDTH, HEIGHT, LEFT, TOP, LEFT + plot_width, bottom, list(groups), columns, ticks, sum(totals))

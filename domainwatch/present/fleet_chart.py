"""The fleet's domains by status over the last 30 days, as stacked bars (pure): from the day
counts the daemon keeps (store.day_counts), never from the history. The page draws it as inline
SVG (templates/fleet_chart.html); the same numbers are its table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domainwatch.state.rules import Status

DAYS = 30
WIDTH, HEIGHT, BOTTOM, LEFT = 900, 150, 18, 40  # SVG user units
ORDER = tuple(s.value for s in Status)  # stacked bottom to top in the badges' order


@dataclass(frozen=True, slots=True)
class Bar:
    status: str
    count: int
    y: float
    height: float


@dataclass(slots=True)
class Day:
    day: str
    total: int
    x: float
    bars: list[Bar] = field(default_factory=list)


@dataclass(slots=True)
class FleetChart:
    days: list[Day]
    most: int  # the largest day's total (the scale)
    bar_width: float
    width: int = WIDTH
    height: int = HEIGHT


def fleet_chart(counts: Mapping[str, Mapping[str, int]], today: datetime) -> FleetChart:
    """The last DAYS days up to `today`; a day without counts (the daemon was not running) is an
    empty slot, not a zero fleet."""
    names = [(today - timedelta(days=DAYS - 1 - n)).strftime("%Y-%m-%d") for n in range(DAYS)]
    most = max((sum(counts[d].values()) for d in names if d in counts), default=0) or 1
    slot = (WIDTH - LEFT) / DAYS
    plot = HEIGHT - BOTTOM
    days = []
    for index, name in enumerate(names):
        own = counts.get(name, {})
        day = Day(name, sum(own.values()), round(LEFT + index * slot + 1, 1))
        top = float(plot)
        for status in ORDER:
            count = own.get(status, 0)
            if count:
                height = round(plot * count / most, 2)
                top -= height
                day.bars.append(Bar(status, count, round(top, 2), height))
        days.append(day)
    return FleetChart(days, most, round(slot - 2, 1))

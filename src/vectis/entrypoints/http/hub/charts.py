"""Small server-rendered SVG bar charts: geometry computed here, drawn by the template."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from attrs import frozen

from vectis.application.customer_hub import Overview

WIDTH = 300
HEIGHT = 80
GAP = 1


@frozen(kw_only=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    label: str


@frozen(kw_only=True)
class Chart:
    title: str
    description: str
    bars: Sequence[Bar]
    legend: Sequence[tuple[str, str]]
    """(series key, label) pairs, in drawing order."""
    peak: int
    first: date
    last: date
    width: int = WIDTH
    height: int = HEIGHT


def bar_chart(
    title: str,
    days: Sequence[date],
    series: Sequence[tuple[str, str, Sequence[int]]],
) -> Chart:
    """Bars per day, the series side by side within each day's slot."""
    peak = max((value for _, _, values in series for value in values), default=0)
    slot = WIDTH / max(len(days), 1)
    width = max((slot - GAP) / max(len(series), 1), 0.5)
    bars = []
    for index, day in enumerate(days):
        for offset, (key, label, values) in enumerate(series):
            value = values[index]
            height = 0.0 if peak == 0 else (HEIGHT - 2) * value / peak
            bars.append(
                Bar(
                    x=round(index * slot + offset * width, 2),
                    y=round(HEIGHT - height, 2),
                    width=round(width, 2),
                    height=round(height, 2),
                    series=key,
                    label=f"{day:%d %b}: {value} {label.lower()}",
                )
            )
    totals = ", ".join(f"{sum(values)} {label.lower()}" for _, label, values in series)
    return Chart(
        title=title,
        description=f"{totals} over {len(days)} days; at most {peak} in a day",
        bars=bars,
        legend=[(key, label) for key, label, _ in series],
        peak=peak,
        first=days[0],
        last=days[-1],
    )


def activity_charts(overview: Overview) -> list[Chart]:
    days = [entry.day for entry in overview.activity]
    return [
        bar_chart(
            "Tickets per day",
            days,
            [
                ("opened", "Opened", [entry.tickets_opened for entry in overview.activity]),
                ("closed", "Closed", [entry.tickets_closed for entry in overview.activity]),
            ],
        ),
        bar_chart(
            "Alerts per day",
            days,
            [("alerts", "Alerts", [entry.alerts_raised for entry in overview.activity])],
        ),
    ]

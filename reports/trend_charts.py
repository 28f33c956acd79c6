"""Weekly trend charts drawn on the server as inline SVG, in the style of ``reports.charts``.

A trend can run to hundreds of weeks, so only about a dozen weeks are labelled on the axis; the
table under each chart gives every week. Suppressed or withheld values leave a gap, and the
chart says which weeks it could not plot.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe

from reports.charts import BLUE, GRID, ORANGE, TEXT, Chart, _nice_max, _open

MAX_LABELS = 12
LEFT, RIGHT, TOP, BOTTOM, LEGEND = 64, 20, 20, 70, 30
PLOT_W, PLOT_H = 640, 220
DASHES = ("", ' stroke-dasharray="8 5"')


@dataclass(frozen=True)
class Series:
    """One line: its name for the legend and a value per week (None: not plotted)."""

    name: str
    values: Sequence[float | None]


def _axis(top: float, percent: bool) -> list[str]:
    parts = []
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        y = TOP + PLOT_H - fraction * PLOT_H
        value = f"{int(fraction * 100)}%" if percent else f"{top * fraction:,.0f}"
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + PLOT_W}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 6}" y="{y + 5:.1f}" text-anchor="end" fill="{TEXT}">{value}</text>'
        )
    return parts


def _labels(weeks: Sequence[str], step: float) -> list[str]:
    every = max(1, math.ceil(len(weeks) / MAX_LABELS))
    parts = []
    for i in range(0, len(weeks), every):
        x, y = LEFT + i * step, TOP + PLOT_H + 18
        parts.append(
            f'<text x="{x:.1f}" y="{y}" text-anchor="end" fill="{TEXT}" '
            f'transform="rotate(-40 {x:.1f} {y})">{escape(weeks[i])}</text>'
        )
    return parts


def _line(series: Series, *, colour: str, dash: str, top: float, step: float) -> list[str]:
    segments: list[list[str]] = [[]]
    dots = []
    for i, value in enumerate(series.values):
        if value is None:
            segments.append([])
            continue
        x, y = LEFT + i * step, TOP + PLOT_H - value / top * PLOT_H
        segments[-1].append(f"{x:.1f},{y:.1f}")
        dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
    lines = [
        f'<polyline points="{" ".join(s)}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>'
        for s in segments
        if len(s) > 1
    ]
    return lines + dots


def _legend(series: Sequence[Series], colours: Sequence[str]) -> list[str]:
    y = TOP + PLOT_H + BOTTOM + 10
    parts = []
    for i, (line, colour) in enumerate(zip(series, colours, strict=False)):
        x = LEFT + i * 220
        parts.append(
            f'<line x1="{x}" y1="{y - 5}" x2="{x + 24}" y2="{y - 5}" stroke="{colour}" '
            f'stroke-width="3"{DASHES[i % 2]}/>'
            f'<text x="{x + 30}" y="{y}" fill="{TEXT}">{escape(line.name)}</text>'
        )
    return parts


def weekly_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    weeks: Sequence[str],
    series: Sequence[Series],
    not_plotted: Sequence[str] = (),
    percent: bool = False,
) -> Chart:
    """Draw one or two lines over the weeks; rates (0 to 1) when ``percent``, else counts.

    ``not_plotted`` names the values left out because they are suppressed or withheld (a rate
    with nothing to divide by is simply absent, and not listed).
    """
    colours = (BLUE, ORANGE)
    width, height = LEFT + PLOT_W + RIGHT, TOP + PLOT_H + BOTTOM + LEGEND
    highest = max((v for s in series for v in s.values if v is not None), default=0)
    top = 1.0 if percent else float(_nice_max(highest))
    step = PLOT_W / max(len(weeks) - 1, 1)
    parts = _open(chart_id, width, height, title, desc)
    parts += _axis(top, percent)
    parts += _labels(weeks, step)
    for i, line in enumerate(series):
        parts += _line(line, colour=colours[i % 2], dash=DASHES[i % 2], top=top, step=step)
    parts += _legend(series, colours)
    parts.append("</svg>")
    # Every value in the SVG text was escaped as it was added.
    return Chart(mark_safe("".join(parts)), title, list(not_plotted))  # nosec B308 B703

"""Charts drawn on the server as inline SVG, so they work without JavaScript and in the PDF.

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>``; the page shows its data
table next to it. Suppressed counts and withheld rates are never plotted: the chart says so.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BLUE = "#1d70b8"
ORANGE = "#b35900"  # dark enough to keep 3:1 contrast with white for the graphics
TEXT = "#0b0c0c"
GRID = "#b1b4b6"
FONT = 'font-family="Arial, Helvetica, sans-serif"'


@dataclass(frozen=True)
class Chart:
    """A chart's SVG and what a reader needs to know that it does not show."""

    svg: SafeString
    title: str
    not_plotted: list[str]


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" {FONT} font-size="14">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _nice_max(value: float) -> float:
    """Round an axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def bar_chart(
    *, chart_id: str, title: str, desc: str, bars: Sequence[tuple[str, int | None]]
) -> Chart:
    """Draw horizontal bars; a value of ``None`` is suppressed and not plotted."""
    label_width, plot_width, row = 190, 330, 28
    width, height = label_width + plot_width + 60, max(row * len(bars), row) + 20
    top = max((v for _, v in bars if v is not None), default=0)
    scale = plot_width / _nice_max(top)
    parts = _open(chart_id, width, height, title, desc)
    not_plotted = []
    for i, (label, value) in enumerate(bars):
        y = 10 + i * row
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end" fill="{TEXT}">'
            f"{escape(label[:26])}</text>"
        )
        if value is None:
            not_plotted.append(label)
            parts.append(
                f'<text x="{label_width + 4}" y="{y + 18}" fill="{TEXT}">&lt;5, not plotted</text>'
            )
            continue
        bar = value * scale
        parts.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{bar:.1f}" height="{row - 8}" '
            f'fill="{BLUE}"/>'
        )
        parts.append(
            f'<text x="{label_width + bar + 6:.1f}" y="{y + 18}" fill="{TEXT}">{value:,}</text>'
        )
    parts.append(
        f'<line x1="{label_width}" y1="8" x2="{label_width}" y2="{height - 8}" stroke="{TEXT}"/>'
    )
    parts.append("</svg>")
    # (B308/B703: every text in the SVG is escaped above; the rest is numbers.)
    return Chart(mark_safe("".join(parts)), title, not_plotted)  # nosec B308 B703


def line_chart(
    *, chart_id: str, title: str, desc: str, points: Sequence[tuple[str, int | None]]
) -> Chart:
    """Draw a line through weekly values; ``None`` (suppressed) leaves a gap."""
    left, right, top_pad, bottom = 60, 20, 20, 60
    plot_w, plot_h = 500, 200
    width, height = left + plot_w + right, top_pad + plot_h + bottom
    top = _nice_max(max((v for _, v in points if v is not None), default=0))
    step = plot_w / max(len(points) - 1, 1)
    parts = _open(chart_id, width, height, title, desc)
    for fraction in (0, 0.5, 1):
        y = top_pad + plot_h - fraction * plot_h
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end" fill="{TEXT}">'
            f"{int(top * fraction):,}</text>"
        )
    segments: list[list[str]] = [[]]
    not_plotted = []
    for i, (label, value) in enumerate(points):
        x = left + i * step
        parts.append(
            f'<text x="{x:.1f}" y="{top_pad + plot_h + 18}" text-anchor="end" fill="{TEXT}" '
            f'transform="rotate(-40 {x:.1f} {top_pad + plot_h + 18})">{escape(label)}</text>'
        )
        if value is None:
            not_plotted.append(label)
            segments.append([])
            continue
        y = top_pad + plot_h - value / top * plot_h
        segments[-1].append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{BLUE}"/>')
    for segment in segments:
        if len(segment) > 1:
            parts.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="{BLUE}" '
                'stroke-width="3"/>'
            )
    parts.append("</svg>")
    # (B308/B703: every text in the SVG is escaped above; the rest is numbers.)
    return Chart(mark_safe("".join(parts)), title, not_plotted)  # nosec B308 B703


@dataclass(frozen=True)
class RatePoint:
    cohort: str
    group: str  # "diverted" or "comparison"
    rate: float | None  # None: withheld, not plotted
    ci_low: float | None
    ci_high: float | None


def interval_chart(*, chart_id: str, title: str, desc: str, points: Sequence[RatePoint]) -> Chart:
    """Draw rates with their confidence intervals, diverted beside comparison, per cohort."""
    cohorts = sorted({p.cohort for p in points})
    left, top_pad, bottom, legend = 60, 20, 60, 30
    group_w = 70
    plot_w, plot_h = max(group_w * len(cohorts), 360), 200
    width, height = left + plot_w + 20, top_pad + plot_h + bottom + legend
    parts = _open(chart_id, width, height, title, desc)
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        y = top_pad + plot_h - fraction * plot_h
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end" fill="{TEXT}">'
            f"{int(fraction * 100)}%</text>"
        )
    by_key = {(p.cohort, p.group): p for p in points}
    not_plotted = []
    for i, cohort in enumerate(cohorts):
        centre = left + group_w * i + group_w / 2
        parts.append(
            f'<text x="{centre:.1f}" y="{top_pad + plot_h + 20}" text-anchor="middle" '
            f'fill="{TEXT}">{escape(cohort)}</text>'
        )
        for offset, group, colour in ((-13, "diverted", BLUE), (13, "comparison", ORANGE)):
            point = by_key.get((cohort, group))
            if point is None:
                continue
            if point.rate is None:
                not_plotted.append(f"{cohort} {group}")
                continue
            x = centre + offset
            y = top_pad + plot_h - point.rate * plot_h
            parts.append(
                f'<rect x="{x - 10:.1f}" y="{y:.1f}" width="20" '
                f'height="{top_pad + plot_h - y:.1f}" fill="{colour}"/>'
            )
            if point.ci_low is not None and point.ci_high is not None:
                y1 = top_pad + plot_h - point.ci_low * plot_h
                y2 = top_pad + plot_h - point.ci_high * plot_h
                parts.append(
                    f'<line x1="{x:.1f}" y1="{y1:.1f}" x2="{x:.1f}" y2="{y2:.1f}" '
                    f'stroke="{TEXT}" stroke-width="2"/>'
                    f'<line x1="{x - 6:.1f}" y1="{y1:.1f}" x2="{x + 6:.1f}" y2="{y1:.1f}" '
                    f'stroke="{TEXT}" stroke-width="2"/>'
                    f'<line x1="{x - 6:.1f}" y1="{y2:.1f}" x2="{x + 6:.1f}" y2="{y2:.1f}" '
                    f'stroke="{TEXT}" stroke-width="2"/>'
                )
    legend_y = top_pad + plot_h + bottom
    parts.append(
        f'<rect x="{left}" y="{legend_y - 12}" width="14" height="14" fill="{BLUE}"/>'
        f'<text x="{left + 20}" y="{legend_y}" fill="{TEXT}">Diverted</text>'
        f'<rect x="{left + 110}" y="{legend_y - 12}" width="14" height="14" fill="{ORANGE}"/>'
        f'<text x="{left + 130}" y="{legend_y}" fill="{TEXT}">Comparison</text>'
    )
    parts.append("</svg>")
    # (B308/B703: every text in the SVG is escaped above; the rest is numbers.)
    return Chart(mark_safe("".join(parts)), title, not_plotted)  # nosec B308 B703


@dataclass(frozen=True)
class Interval:
    """One estimate with its 95% interval, as fractions; ``estimate`` None: withheld."""

    estimate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ForestRow:
    """A row of the forest chart: one interval (or None, no estimate) per period."""

    label: str
    intervals: Sequence[Interval | None]


FOREST_STYLES = ((BLUE, "circle"), (ORANGE, "square"), (TEXT, "diamond"))
FOREST_LIMITS = (0.05, 0.1, 0.2, 0.25, 0.5, 1.0)


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{colour}"/>'
    return (
        f'<polygon points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} '
        f'{x - 6:.1f},{y:.1f}" fill="{colour}"/>'
    )


def _forest_limit(rows: Sequence[ForestRow]) -> float:
    """Return the axis's half-width: the smallest round limit that holds every shown value."""
    widest = max(
        (
            abs(value)
            for row in rows
            for interval in row.intervals
            if interval is not None and interval.estimate is not None
            for value in (interval.estimate, interval.low, interval.high)
            if value is not None
        ),
        default=0.0,
    )
    return next((limit for limit in FOREST_LIMITS if widest <= limit), 1.0)


def _points(value: float) -> str:
    """Write a difference as signed percentage points: "+10", "−12.5", "0"."""
    points = round(value * 100, 1)
    if points == 0:
        return "0"
    text = f"{points:+.0f}" if points == int(points) else f"{points:+.1f}"
    return text.replace("-", "\u2212")


def _forest_axis(left: int, width: int, top: int, bottom: int, limit: float) -> list[str]:
    parts = []
    for step in (-1, -0.5, 0, 0.5, 1):
        x = left + width / 2 + step * width / 2
        dash = "" if step == 0 else ' stroke-dasharray="3 3"'
        stroke = TEXT if step == 0 else GRID
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{stroke}"{dash}/>'
            f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" fill="{TEXT}">'
            f"{_points(step * limit)}</text>"
        )
    parts.append(
        f'<text x="8" y="{bottom + 18}" fill="{TEXT}">Percentage points</text>'
        f'<text x="{left}" y="{bottom + 38}" fill="{TEXT}">&#8592; diverted reoffended less</text>'
        f'<text x="{left + width}" y="{bottom + 38}" text-anchor="end" fill="{TEXT}">'
        "diverted reoffended more &#8594;</text>"
    )
    return parts


@dataclass(frozen=True)
class _Forest:
    """Where things go on a forest chart."""

    periods: Sequence[str]
    limit: float
    label_w: int = 170
    plot_w: int = 400
    line: int = 13
    gap: int = 9
    top: int = 8

    @property
    def row_h(self) -> int:
        return self.line * len(self.periods) + self.gap

    def x(self, value: float) -> float:
        centre, half = self.label_w + self.plot_w / 2, self.plot_w / 2
        return centre + max(-1.0, min(1.0, value / self.limit)) * half


def _forest_row(
    frame: _Forest, i: int, row: ForestRow, width: int, not_plotted: list[str]
) -> list[str]:
    y0 = frame.top + i * frame.row_h
    parts = []
    if i % 2 == 0:
        parts.append(
            f'<rect x="0" y="{y0}" width="{width}" height="{frame.row_h}" fill="#f3f2f1"/>'
        )
    label_y = y0 + frame.row_h / 2 + 5
    parts.append(f'<text x="8" y="{label_y:.1f}" fill="{TEXT}">{escape(row.label[:22])}</text>')
    for j, (interval, (colour, shape)) in enumerate(
        zip(row.intervals, FOREST_STYLES, strict=False)
    ):
        y = y0 + frame.gap / 2 + frame.line * j + frame.line / 2
        if interval is None:
            continue
        if interval.estimate is None:
            not_plotted.append(f"{row.label}, {frame.periods[j]}")
            parts.append(
                f'<text x="{frame.label_w + 6}" y="{y + 4:.1f}" font-size="12" fill="{TEXT}">'
                f"{escape(frame.periods[j])}: withheld</text>"
            )
            continue
        if interval.low is not None and interval.high is not None:
            parts.append(
                f'<line x1="{frame.x(interval.low):.1f}" y1="{y:.1f}" '
                f'x2="{frame.x(interval.high):.1f}" y2="{y:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
        parts.append(_marker(shape, frame.x(interval.estimate), y, colour))
    return parts


def _forest_legend(frame: _Forest, y: float) -> list[str]:
    parts = [f'<text x="8" y="{y}" fill="{TEXT}">Followed for:</text>']
    for j, period in enumerate(frame.periods[: len(FOREST_STYLES)]):
        colour, shape = FOREST_STYLES[j]
        x = frame.label_w + j * 120
        parts.append(_marker(shape, x + 6, y - 5, colour))
        parts.append(f'<text x="{x + 18}" y="{y}" fill="{TEXT}">{escape(period)}</text>')
    return parts


def forest_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    periods: Sequence[str],
    rows: Sequence[ForestRow],
) -> Chart:
    """Draw differences with their intervals: a row per label, a marker per period.

    Withheld estimates are not plotted, and the axis is scaled to the shown values only, so
    the picture gives nothing away that the tables hide.
    """
    frame = _Forest(periods=periods, limit=_forest_limit(rows))
    plot_h = frame.row_h * len(rows)
    width, height = frame.label_w + frame.plot_w + 20, frame.top + plot_h + 80
    parts = _open(chart_id, width, height, title, desc)
    not_plotted: list[str] = []
    for i, row in enumerate(rows):
        parts += _forest_row(frame, i, row, width, not_plotted)
    parts += _forest_axis(frame.label_w, frame.plot_w, frame.top, frame.top + plot_h, frame.limit)
    parts += _forest_legend(frame, frame.top + plot_h + 62)
    parts.append("</svg>")
    # (B308/B703: every text in the SVG is escaped above; the rest is numbers.)
    return Chart(mark_safe("".join(parts)), title, not_plotted)  # nosec B308 B703

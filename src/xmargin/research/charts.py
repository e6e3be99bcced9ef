"""Inline SVG charts for reports: time series with markers, and signed horizontal bars.

The SVG is written here, with no JavaScript and no external resources, so a report opens
offline in any browser. Long series are reduced to the minimum and maximum of each pixel
column, which keeps every spike (a liquidation's trough stays visible).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from xmargin.research.time_axis import time_ticks, utc, value_ticks

FONT = "font-family='system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif'"
GRID = "#e5e7eb"
AXIS = "#6b7280"
TEXT = "#111827"
MARKER_STYLES = {
    "liquidation": ("#dc2626", "liquidation"),
    "breaker": ("#d97706", "breaker / halt"),
}
Point = tuple[int, float]


@dataclass(frozen=True)
class Line:
    """One series: ``points`` are ``(ts_ms, value)`` in time order."""

    label: str
    points: Sequence[Point]
    color: str
    area: bool = False


@dataclass(frozen=True)
class Marker:
    """A vertical mark at an event: ``kind`` is a key of ``MARKER_STYLES``."""

    ts_ms: int
    kind: str
    label: str


@dataclass(frozen=True)
class Frame:
    width: int = 1180
    height: int = 280
    left: int = 84
    right: int = 24
    top: int = 44
    bottom: int = 40

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom


def time_chart(
    title: str,
    lines: Sequence[Line],
    *,
    axis_label: str,
    suffix: str = "",
    markers: Sequence[Marker] = (),
    frame: Frame = Frame(),
    floor: float | None = None,
    reference: tuple[float, str] | None = None,
    span: tuple[int, int] | None = None,
) -> str:
    """An SVG line chart over UTC time with value ticks, a legend and event markers.

    ``span`` fixes the time range (to align stacked charts); ``reference`` draws a labelled
    dashed level, kept on scale only when the data come within a quarter of it.
    """
    points = [p for line in lines for p in line.points if math.isfinite(p[1])]
    head = _open(frame, title)
    if not points:
        return head + _note(frame, "no data in this run") + "</svg>"
    t0, t1 = span or (min(p[0] for p in points), max(p[0] for p in points))
    values = [p[1] for p in points]
    if reference is not None and max(values) < reference[0] / 4:
        head += (
            f"<text x='{frame.left}' y='{frame.height - 6}' fill='#dc2626' "
            f"font-size='11' {FONT}>{escape(reference[1])} (far above: "
            "off scale)</text>"
        )
        reference = None
    values += [reference[0]] if reference else []
    low = min(values) if floor is None else min(floor, *values)
    ticks = value_ticks(low, max(values))
    v0, v1 = ticks[0], ticks[-1]
    x = _scale(t0, t1 if t1 > t0 else t0 + 1, frame.left, frame.left + frame.plot_width)
    y = _scale(v0, v1, frame.top + frame.plot_height, frame.top)
    parts = [head, _value_grid(frame, ticks, y, suffix), _time_grid(frame, t0, t1, x)]
    parts.append(
        f"<text x='14' y='{frame.top + frame.plot_height / 2:.0f}' fill='{AXIS}' font-size='12' "
        f"text-anchor='middle' transform='rotate(-90 14 {frame.top + frame.plot_height / 2:.0f})'"
        f" {FONT}>{escape(axis_label)}</text>"
    )
    if reference is not None:
        ry = y(reference[0])
        parts.append(
            f"<line x1='{frame.left}' x2='{frame.left + frame.plot_width}' y1='{ry:.1f}' "
            f"y2='{ry:.1f}' stroke='#dc2626' stroke-width='1' stroke-dasharray='6 4'/>"
            f"<text x='{frame.left + frame.plot_width - 4}' y='{ry - 4:.1f}' fill='#dc2626' "
            f"font-size='11' text-anchor='end' {FONT}>{escape(reference[1])}</text>"
        )
    for line in lines:
        parts.append(_polyline(line, x, y, frame, max(v0, min(0.0, v1)) if line.area else None))
    parts.append(_markers(markers, x, frame, t0, t1))
    parts.append(_legend(frame, lines, markers))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float]],
    *,
    value_format: Callable[[float], str],
    width: int = 560,
) -> str:
    """Horizontal bars around zero: gains green, costs red, each labelled with its value."""
    row = 30
    frame = Frame(width=width, height=48 + row * len(bars) + 16, left=150, right=110, top=48)
    head = _open(frame, title)
    if not bars:
        return head + _note(frame, "nothing to show") + "</svg>"
    extent = max(abs(v) for _, v in bars) or 1.0
    x = _scale(-extent, extent, frame.left, frame.left + frame.plot_width)
    zero = x(0.0)
    parts = [
        head,
        f"<line x1='{zero:.1f}' x2='{zero:.1f}' y1='{frame.top - 6}' "
        f"y2='{frame.top + row * len(bars)}' stroke='{AXIS}'/>",
    ]
    for index, (label, value) in enumerate(bars):
        top = frame.top + index * row
        end = x(value)
        color = "#16a34a" if value >= 0 else "#dc2626"
        parts.append(
            f"<text x='{frame.left - 10}' y='{top + 19}' fill='{TEXT}' font-size='13' "
            f"text-anchor='end' {FONT}>{escape(label)}</text>"
            f"<rect x='{min(zero, end):.1f}' y='{top + 5}' width='{max(abs(end - zero), 1):.1f}' "
            f"height='{row - 10}' fill='{color}' rx='2'/>"
            f"<text x='{frame.left + frame.plot_width + 8}' y='{top + 19}' fill='{color}' "
            f"font-size='13' {FONT}>{escape(value_format(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _open(frame: Frame, title: str) -> str:
    return (
        f"<svg viewBox='0 0 {frame.width} {frame.height}' width='100%' role='img' "
        f"aria-label='{escape(title)}' style='max-width:{frame.width}px;display:block'>"
        f"<rect width='{frame.width}' height='{frame.height}' fill='#ffffff'/>"
        f"<text x='{frame.left}' y='22' fill='{TEXT}' font-size='15' font-weight='600' {FONT}>"
        f"{escape(title)}</text>"
    )


def _note(frame: Frame, text: str) -> str:
    return (
        f"<text x='{frame.width / 2:.0f}' y='{frame.height / 2:.0f}' fill='{AXIS}' "
        f"font-size='13' text-anchor='middle' {FONT}>{escape(text)}</text>"
    )


def _scale(d0: float, d1: float, r0: float, r1: float) -> Callable[[float], float]:
    span = (d1 - d0) or 1.0
    return lambda value: r0 + (value - d0) / span * (r1 - r0)


def _value_grid(
    frame: Frame, ticks: Sequence[float], y: Callable[[float], float], suffix: str
) -> str:
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    exponent = Decimal(f"{step:.10g}").normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0

    def fmt(value: float) -> str:
        return f"{value:,.{places}f}{suffix}"

    parts = []
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f"<line x1='{frame.left}' x2='{frame.left + frame.plot_width}' y1='{ty:.1f}' "
            f"y2='{ty:.1f}' stroke='{GRID}'/><text x='{frame.left - 8}' y='{ty + 4:.1f}' "
            f"fill='{AXIS}' font-size='11' text-anchor='end' {FONT}>{escape(fmt(tick))}</text>"
        )
    return "".join(parts)


def _time_grid(frame: Frame, t0: int, t1: int, x: Callable[[float], float]) -> str:
    bottom = frame.top + frame.plot_height
    parts = [
        f"<line x1='{frame.left}' x2='{frame.left + frame.plot_width}' y1='{bottom}' "
        f"y2='{bottom}' stroke='{AXIS}'/>"
    ]
    for ts, label in time_ticks(t0, t1):
        tx = x(ts)
        parts.append(
            f"<line x1='{tx:.1f}' x2='{tx:.1f}' y1='{frame.top}' y2='{bottom}' stroke='{GRID}'/>"
            f"<text x='{tx:.1f}' y='{bottom + 16}' fill='{AXIS}' font-size='11' "
            f"text-anchor='middle' {FONT}>{escape(label)}</text>"
        )
    parts.append(
        f"<text x='{frame.left + frame.plot_width}' y='{bottom + 32}' fill='{AXIS}' "
        f"font-size='11' text-anchor='end' {FONT}>date (UTC)</text>"
    )
    return "".join(parts)


def _reduce(points: Sequence[Point], x: Callable[[float], float]) -> list[tuple[float, float]]:
    """Keep the first, min, max and last point of each pixel column (in time order)."""
    columns: dict[int, list[Point]] = {}
    for point in points:
        if math.isfinite(point[1]):
            columns.setdefault(int(x(point[0])), []).append(point)
    kept: list[tuple[float, float]] = []
    for column in columns.values():
        chosen = {
            column[0],
            column[-1],
            min(column, key=lambda p: p[1]),
            max(column, key=lambda p: p[1]),
        }
        kept.extend(sorted(chosen))
    return [(float(t), v) for t, v in kept]


def _polyline(
    line: Line,
    x: Callable[[float], float],
    y: Callable[[float], float],
    frame: Frame,
    base: float | None,
) -> str:
    reduced = _reduce(line.points, x)
    if not reduced:
        return ""
    coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in reduced)
    area = ""
    if base is not None:
        by = y(base)
        area = (
            f"<polygon points='{x(reduced[0][0]):.1f},{by:.1f} {coords} "
            f"{x(reduced[-1][0]):.1f},{by:.1f}' fill='{line.color}' fill-opacity='0.18'/>"
        )
    return (
        f"{area}<polyline points='{coords}' fill='none' stroke='{line.color}' "
        f"stroke-width='1.5' stroke-linejoin='round'/>"
    )


def _markers(
    markers: Sequence[Marker], x: Callable[[float], float], frame: Frame, t0: int, t1: int
) -> str:
    parts = []
    bottom = frame.top + frame.plot_height
    for marker in markers:
        if not t0 <= marker.ts_ms <= t1:
            continue
        color, _ = MARKER_STYLES.get(marker.kind, ("#7c3aed", marker.kind))
        mx = x(marker.ts_ms)
        tip = f"{marker.label} at {utc(marker.ts_ms):%Y-%m-%d %H:%M} UTC"
        parts.append(
            f"<g><title>{escape(tip)}</title>"
            f"<line x1='{mx:.1f}' x2='{mx:.1f}' y1='{frame.top}' y2='{bottom}' stroke='{color}' "
            f"stroke-width='1.5' stroke-dasharray='4 3'/>"
            f"<path d='M{mx - 6:.1f},{frame.top - 9} L{mx + 6:.1f},{frame.top - 9} "
            f"L{mx:.1f},{frame.top + 1} Z' fill='{color}'/></g>"
        )
    return "".join(parts)


def _legend(frame: Frame, lines: Sequence[Line], markers: Sequence[Marker]) -> str:
    entries = [(line.label, line.color, "line") for line in lines if line.label]
    for kind in dict.fromkeys(m.kind for m in markers):
        color, label = MARKER_STYLES.get(kind, ("#7c3aed", kind))
        count = sum(1 for m in markers if m.kind == kind)
        entries.append((f"{label} ({count})", color, "marker"))
    parts = []
    cursor = frame.left + frame.plot_width
    for label, color, shape in reversed(entries):
        width = 7 * len(label) + 30
        cursor -= width
        symbol = (
            f"<line x1='{cursor}' x2='{cursor + 16}' y1='18' y2='18' stroke='{color}' "
            "stroke-width='2.5'/>"
            if shape == "line"
            else f"<path d='M{cursor + 2},12 L{cursor + 14},12 L{cursor + 8},22 Z' fill='{color}'/>"
        )
        parts.append(
            f"{symbol}<text x='{cursor + 21}' y='22' fill='{TEXT}' font-size='12' {FONT}>"
            f"{escape(label)}</text>"
        )
    return "".join(parts)

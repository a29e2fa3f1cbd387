"""Charts drawn on the server as SVG: no script, nothing fetched, readable offline and by
a screen reader (a title, a description, and the same figures in a table beside it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 84, 12, 12, 40


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[int]
    css: str  # a class in dashboard.css that colours it


def _ticks(top: int, count: int = 4) -> list[int]:
    if top <= 0:
        return [0]
    step = 1
    while step * count < top:
        for factor in (2, 5 / 2, 2):  # 1, 2, 5, 10, 20, 50, …
            step = int(step * factor)
            if step * count >= top:
                break
    return [step * i for i in range(count + 1) if step * i < top + step]


def line_chart(labels: Sequence[str], series: Sequence[Series], *, title: str,
               label_of: Callable[[int], str], chart_id: str) -> str:
    """Lines over ``labels`` (the buckets), the y axis labelled with ``label_of``."""
    top = max((v for s in series for v in s.values), default=0)
    low = min((v for s in series for v in s.values), default=0)
    ticks = _ticks(max(top, 1))
    ceiling = max(ticks[-1], 1)
    floor = min(low, 0)
    span = ceiling - floor or 1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return LEFT + (inner_w * (i + 0.5) / n)

    def y(v: int) -> float:
        return TOP + inner_h * (ceiling - v) / span

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
             f'preserveAspectRatio="xMidYMid meet">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(_describe(labels, series, label_of))}</desc>']
    for tick in ticks:
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
                     f'y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
                     f'text-anchor="end">{escape(label_of(tick))}</text>')
    every = -(-len(labels) // 7) or 1  # at most 7 labels: they never overlap
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 18}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    for s in series:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        parts.append(f'<polyline class="line {s.css}" points="{points}"/>')
        if len(s.values) == 1:
            parts.append(f'<circle class="dot {s.css}" cx="{x(0):.1f}" '
                         f'cy="{y(s.values[0]):.1f}" r="4"/>')
    parts.append("</svg>")
    return "".join(parts)


def _describe(labels: Sequence[str], series: Sequence[Series],
              label_of: Callable[[int], str]) -> str:
    if not labels:
        return "no data"
    totals = ", ".join(f"{s.name}: {label_of(sum(s.values))}" for s in series)
    return f"{labels[0]} to {labels[-1]}, totals {totals}"

"""Charts for the HTML reports: inline SVG, accessible and readable on a phone.

Every chart is a ``<figure class="chart" data-chart=NAME data-series="A|B">`` holding
two renderings of the same figures, a wide one and a narrow one (shown below 640 px
wide, with larger text, so no label is drawn under 12 px at 320 px), and a caption
with a text summary. Each ``<svg>`` is ``role="img"`` named by its own ``<title>`` and
``<desc>`` (``aria-labelledby``); what pygal draws inside is hidden from assistive
technology, and its per-point coordinates are dropped, so nothing reads out as
numbers without meaning.

Series colours (:data:`PALETTE`) all have at least 3:1 contrast on white (WCAG 2.2
non-text contrast, 1.4.11). Most charts are pygal's (the optional ``report`` extra);
the differences with their intervals are drawn here (:func:`interval_svg`), since
pygal has no error bars.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from buyin.errors import ConfigurationError

#: series colours: blue, burnt orange, green, purple, magenta, slate (each ≥ 5:1 on white)
PALETTE: tuple[str, ...] = ("#1f5fa8", "#b34700", "#2e7d32", "#6a3d9a", "#ad1457", "#4a5568")
BACKGROUND = "#ffffff"
TEXT = "#1a202c"


@dataclass(frozen=True)
class Size:
    """One rendering: the SVG's own width and height and its font sizes."""

    key: str
    width: int
    height: int
    font: int


#: the wide rendering (shown from 640 px) and the narrow one (phones, drawn for ~300 px)
WIDE = Size("wide", 800, 400, 14)
NARROW = Size("narrow", 360, 420, 16)


def _e(text: object) -> str:
    return html.escape(str(text))


def pygal_module() -> Any:
    try:
        import pygal  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise ConfigurationError(
            "HTML reports draw their charts with pygal, which is not installed",
            hint="pip install 'moodle-buyin[report]' (or use --format csv or json)",
        ) from None
    return pygal


def _style(size: Size) -> Any:
    pygal = pygal_module()
    return pygal.style.Style(
        background=BACKGROUND,
        plot_background=BACKGROUND,
        foreground=TEXT,
        foreground_strong=TEXT,
        foreground_subtle="#4a5568",
        font_family="system-ui, sans-serif",
        colors=PALETTE,
        opacity="1",
        opacity_hover="1",
        title_font_size=size.font + 2,
        legend_font_size=size.font,
        label_font_size=size.font,
        major_label_font_size=size.font,
        value_font_size=size.font,
        tooltip_font_size=size.font,
    )


def pygal_chart(kind: str, size: Size, **config: Any) -> Any:
    """A pygal chart of ``kind`` drawn for ``size`` (no title: the figure's caption is)."""
    pygal = pygal_module()
    options: dict[str, Any] = {
        "js": [],  # no script from the network, no tooltips
        "disable_xml_declaration": True,
        "style": _style(size),
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 1 if size is NARROW else None,
        "print_values": False,
        "width": size.width,
        "height": size.height,
        "explicit_size": False,
        "truncate_legend": -1,
        "truncate_label": -1,
        "margin": 8,
        "stroke_style": {"width": 3},
        "dots_size": 4,
        **config,
    }
    return getattr(pygal, kind)(**options)


def _accessible(svg: str, name: str, title: str, summary: str) -> str:
    """pygal's SVG as a named image: banner, script and coordinates dropped, ids fixed."""
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"<script\b.*?</script>", "", svg, flags=re.S)
    svg = re.sub(r'<desc class="(?:x|y)[^"]*">[^<]*</desc>', "", svg)
    svg = re.sub(r"chart-[0-9a-f]{8}-[0-9a-f-]{27}", f"chart-{name}", svg)
    open_end = svg.index(">") + 1
    head = svg[:open_end].replace(
        "<svg ",
        f'<svg role="img" focusable="false" aria-labelledby="{name}-title {name}-desc" ',
        1,
    )
    label = (
        f'<title id="{name}-title">{_e(title)}</title><desc id="{name}-desc">{_e(summary)}</desc>'
    )
    body = svg[open_end:].rsplit("</svg>", 1)[0]
    return f'{head}{label}<g aria-hidden="true">{body}</g></svg>'


def figure(
    name: str,
    title: str,
    series: Sequence[str],
    summary: str,
    note: str,
    draw: Callable[[Size], str],
) -> str:
    """The chart's figure: both renderings, its title and the text summary.

    ``draw(size)`` returns the SVG for one rendering (pygal's, or one drawn here)."""
    renderings = "".join(
        f'<div class="render {size.key}">'
        + _accessible(draw(size), f"{name}-{size.key}", title, summary)
        + "</div>"
        for size in (WIDE, NARROW)
    )
    caption = f"<figcaption><b>{_e(title)}</b> {_e(summary)}"
    caption += f' <span class="note">{_e(note)}</span>' if note else ""
    return (
        f'<figure class="chart" id="fig-{name}" data-chart="{name}" '
        f'data-series="{_e("|".join(series))}">{renderings}{caption}</figcaption></figure>'
    )


def render(chart: Any) -> str:
    return str(chart.render(is_unicode=True))


# -- the differences with their intervals (a forest plot) ---------------------------


@dataclass(frozen=True)
class IntervalRow:
    label: str
    difference: float
    low: float
    high: float
    #: the difference as the table shows it (``+10.1 pts``)
    text: str


def _nice_bound(value: float) -> float:
    """A round number at least ``value`` (1, 2, 5 × 10^k)."""
    if value <= 0:
        return 1.0
    scale = 10.0 ** len(str(int(value)))
    for step in (0.1, 0.2, 0.25, 0.5, 1.0):
        if value <= step * scale:
            return float(step * scale)
    return scale


def interval_svg(rows: Sequence[IntervalRow], unit: str, size: Size) -> str:
    """Pilot − baseline per row: the estimate as a dot, its interval as a line, zero as
    a dashed line; one scale for the rows given (``unit`` labels the axis)."""
    font = size.font
    left, right = 16, size.width - 16
    row_h = int(font * 3.4)
    top = 4
    axis_y = top + row_h * len(rows)
    height = axis_y + font * 3
    bound = _nice_bound(max((max(abs(r.low), abs(r.high)) for r in rows), default=1.0))

    def x(v: float) -> float:
        return left + (v + bound) / (2 * bound) * (right - left)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size.width} {height}" '
        f'class="interval-chart" font-family="system-ui, sans-serif" font-size="{font}">',
        f'<rect width="{size.width}" height="{height}" fill="{BACKGROUND}"/>',
    ]
    for tick in (-bound, -bound / 2, 0.0, bound / 2, bound):
        tx = x(tick)
        dash = "" if tick else ' stroke-dasharray="4 3"'
        colour = TEXT if tick == 0 else "#a0aec0"
        anchor = "start" if tick == -bound else "end" if tick == bound else "middle"
        parts.append(
            f'<line x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" y2="{axis_y}" stroke="{colour}"{dash}/>'
            f'<text x="{tx:.1f}" y="{axis_y + font + 4}" text-anchor="{anchor}" fill="{TEXT}">'
            f"{tick:+g}</text>"
        )
    parts.append(
        f'<text x="{(left + right) / 2:.1f}" y="{axis_y + 2 * font + 10}" text-anchor="middle" '
        f'fill="{TEXT}">{_e(unit)} (pilot − baseline)</text>'
    )
    colour = PALETTE[0]
    for i, r in enumerate(rows):
        y0 = top + row_h * i
        cy = y0 + font * 2.2
        parts.append(
            f'<text x="{left}" y="{y0 + font * 1.1:.1f}" fill="{TEXT}">{_e(r.label)}: '
            f"{_e(r.text)}</text>"
            f'<g class="series serie-0"><line x1="{x(r.low):.1f}" y1="{cy:.1f}" '
            f'x2="{x(r.high):.1f}" y2="{cy:.1f}" stroke="{colour}" stroke-width="3"/>'
            f'<circle cx="{x(r.difference):.1f}" cy="{cy:.1f}" r="{font / 2.5:.1f}" '
            f'fill="{colour}"/><desc class="value">{_e(r.text)}</desc></g>'
        )
    parts.append("</svg>")
    return "".join(parts)

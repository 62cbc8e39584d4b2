"""The coverage chart of the yearly report: inline SVG, readable printed in black and white.

The two kinds of unit differ by texture (solid and hatched), not by colour; the target is
a thick dashed line; every bar carries its numbers in words. Pure: a report in, SVG out.
"""

from __future__ import annotations

import math
from html import escape

from kiosk.core.fleet import AreaReport, Need, Report

WIDTH = 760
LABEL_W = 190
BAR_W = 440
BAR_H = 15
ROW_GAP = 14
TOP = 58
INK = "#000"
SERIES = (
    ("Phường, thị trấn", "url(#solid)"),
    ("Xã", "url(#hatch)"),
)


def _tick_step(top: int) -> int:
    """1, 2, 5, 10, 20, 50... so the axis has at most ten ticks."""
    for step in (1, 2, 5):
        for power in range(7):
            if top / (step * 10**power) <= 10:
                return step * 10**power
    return 10**7


def _bar(y: float, need: Need, fill: str, scale: float) -> str:
    parts = []
    if need.total is not None:  # the units the area has, as an empty frame behind
        parts.append(
            f'<rect x="{LABEL_W}" y="{y}" width="{need.total * scale:.1f}" height="{BAR_H}" '
            f'fill="#fff" stroke="{INK}" stroke-width="0.6" stroke-dasharray="2 2"/>'
        )
    parts.append(
        f'<rect class="have" x="{LABEL_W}" y="{y}" width="{need.have * scale:.1f}" '
        f'height="{BAR_H}" fill="{fill}" stroke="{INK}" stroke-width="1"/>'
    )
    if need.need > 0:
        x = LABEL_W + need.need * scale
        parts.append(
            f'<line class="target" x1="{x:.1f}" x2="{x:.1f}" y1="{y - 3}" y2="{y + BAR_H + 3}" '
            f'stroke="{INK}" stroke-width="3" stroke-dasharray="4 2"/>'
        )
    words = f"{need.have}" + (f" / cần {need.need}" if need.need else "")
    end = LABEL_W + max(need.have, need.need, need.total or 0) * scale + 8
    parts.append(f'<text x="{end:.1f}" y="{y + BAR_H - 3}" font-size="12">{escape(words)}</text>')
    return "".join(parts)


def _area(y: float, area: AreaReport, scale: float) -> str:
    label = area.label if area.meets else area.label + " ✗"
    weight = "normal" if area.meets else "bold"
    parts = [
        f'<g class="area" data-area="{escape(area.label)}">',
        f'<text x="{LABEL_W - 8}" y="{y + BAR_H + 4}" font-size="13" text-anchor="end" '
        f'font-weight="{weight}">{escape(label)}</text>',
    ]
    for i, (need, (_, fill)) in enumerate(
        zip((area.wards_towns_need, area.communes_need), SERIES, strict=True)
    ):
        parts.append(_bar(y + i * (BAR_H + 2), need, fill, scale))
    parts.append("</g>")
    return "".join(parts)


def _legend(with_totals: bool) -> str:
    x, parts = 0, []
    for name, fill in SERIES:
        parts.append(
            f'<rect x="{x}" y="0" width="22" height="12" fill="{fill}" stroke="{INK}"/>'
            f'<text x="{x + 28}" y="11" font-size="12">{escape(name)} có bảng tin</text>'
        )
        x += 230
    parts.append(
        f'<line x1="{x + 10}" x2="{x + 10}" y1="-2" y2="14" stroke="{INK}" stroke-width="3" '
        f'stroke-dasharray="4 2"/><text x="{x + 20}" y="11" font-size="12">chỉ tiêu</text>'
    )
    if with_totals:
        parts.append(
            f'<rect x="{x + 90}" y="0" width="22" height="12" fill="#fff" stroke="{INK}" '
            f'stroke-dasharray="2 2"/><text x="{x + 118}" y="11" font-size="12">tổng số</text>'
        )
    return f'<g class="legend" transform="translate(20,8)">{"".join(parts)}</g>'


def coverage_svg(report: Report) -> str:
    """Per area, the wards and towns, and the communes, with a board against the target."""
    needs = [n for a in report.areas for n in (a.wards_towns_need, a.communes_need)]
    top = max([1, *(max(n.have, n.need, n.total or 0) for n in needs)])
    step = _tick_step(top)
    top = math.ceil(top / step) * step
    scale = BAR_W / top
    row_h = 2 * BAR_H + 2 + ROW_GAP
    height = TOP + len(report.areas) * row_h + 36
    axis_y = TOP + len(report.areas) * row_h
    ticks = []
    for value in range(0, top + 1, step):
        x = LABEL_W + value * scale
        ticks.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 6}" y2="{axis_y}" stroke="#999" '
            f'stroke-width="0.5"/><text x="{x:.1f}" y="{axis_y + 14}" font-size="11" '
            f'text-anchor="middle">{value}</text>'
        )
    bars = "".join(_area(TOP + i * row_h, a, scale) for i, a in enumerate(report.areas))
    with_totals = any(n.total is not None for n in needs)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="sans-serif" aria-label="Số đơn vị có bảng tin so với chỉ tiêu">'
        "<defs>"
        f'<pattern id="solid" width="4" height="4" patternUnits="userSpaceOnUse">'
        f'<rect width="4" height="4" fill="#333"/></pattern>'
        f'<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{INK}" stroke-width="2.5"/></pattern>'
        "</defs>"
        f"{_legend(with_totals)}{''.join(ticks)}{bars}"
        f'<text x="{LABEL_W + BAR_W / 2}" y="{axis_y + 27}" font-size="11" '
        f'text-anchor="middle">số đơn vị có bảng tin</text>'
        "</svg>"
    )

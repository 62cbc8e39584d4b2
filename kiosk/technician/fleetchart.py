"""The coverage chart of the yearly report: inline SVG, readable printed in black and white.

The two kinds of unit differ by texture (solid and hatched), not by colour; the target is
a thick dashed line; every bar carries its numbers in words. Pure: a report in, SVG out,
through templates/chart.svg (autoescaped).
"""

from __future__ import annotations

import math

from kiosk.core.fleet import AreaReport, Need, Report
from kiosk.technician.pages import PAGES

WIDTH = 760
LABEL_W = 190
BAR_W = 440
BAR_H = 15
ROW_GAP = 14
TOP = 58
INK = "#000"
LEGEND_STEP = 230
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


def _bar(y: float, need: Need, fill: str, scale: float) -> dict:
    """One series' bar: what the area has, the units it has in all (a dashed frame behind)
    and the target (a thick dashed line), with its numbers in words."""
    return {
        "y": y,
        "fill": fill,
        "total_w": None if need.total is None else f"{need.total * scale:.1f}",
        "have_w": f"{need.have * scale:.1f}",
        "target_x": f"{LABEL_W + need.need * scale:.1f}" if need.need > 0 else None,
        "words": f"{need.have}" + (f" / cần {need.need}" if need.need else ""),
        "words_x": f"{LABEL_W + max(need.have, need.need, need.total or 0) * scale + 8:.1f}",
    }


def _area(y: float, area: AreaReport, scale: float) -> dict:
    needs = (area.wards_towns_need, area.communes_need)
    return {
        "y": y,
        "label": area.label,
        "text": area.label if area.meets else area.label + " ✗",
        "weight": "normal" if area.meets else "bold",
        "bars": [
            _bar(y + i * (BAR_H + 2), need, fill, scale)
            for i, (need, (_, fill)) in enumerate(zip(needs, SERIES, strict=True))
        ],
    }


def coverage_svg(report: Report) -> str:
    """Per area, the wards and towns, and the communes, with a board against the target."""
    needs = [n for a in report.areas for n in (a.wards_towns_need, a.communes_need)]
    top = max([1, *(max(n.have, n.need, n.total or 0) for n in needs)])
    step = _tick_step(top)
    top = math.ceil(top / step) * step
    scale = BAR_W / top
    row_h = 2 * BAR_H + 2 + ROW_GAP
    axis_y = TOP + len(report.areas) * row_h
    return PAGES.get_template("chart.svg").render(
        width=WIDTH,
        height=axis_y + 36,
        ink=INK,
        top=TOP,
        axis_y=axis_y,
        label_w=LABEL_W,
        bar_w=BAR_W,
        bar_h=BAR_H,
        legend=[
            {"x": 230 * i, "name": name, "fill": fill} for i, (name, fill) in enumerate(SERIES)
        ],
        legend_x=230 * len(SERIES),
        with_totals=any(n.total is not None for n in needs),
        ticks=[
            {"x": f"{LABEL_W + value * scale:.1f}", "value": value}
            for value in range(0, top + 1, step)
        ],
        areas=[_area(TOP + i * row_h, a, scale) for i, a in enumerate(report.areas)],
    )

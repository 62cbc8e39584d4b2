"""`report.html`: the yearly report for the Department, in Vietnamese, fit to print.

Pure: a report in, one self-contained page out (inline SVG chart, no scripts, no files
beside it), so it can be mailed, archived and printed in black and white. Every name from
the inventory is escaped.
"""

from __future__ import annotations

from datetime import date, datetime

from markupsafe import Markup

from kiosk import __version__
from kiosk.core.fleet import AreaReport, Need, Report, Targets
from kiosk.core.vietnamese import UNIT_KIND_VI
from kiosk.technician.fleetchart import coverage_svg
from kiosk.technician.pages import PAGES


def vn_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _percent(value: float) -> str:
    return f"{value:g}".replace(".", ",") + "%"


def target_lines(targets: Targets) -> list[str]:
    lines = []
    if targets.min_wards_towns:
        lines.append(f"ít nhất {targets.min_wards_towns:02d} phường, thị trấn có bảng tin")
    if targets.min_communes:
        lines.append(f"ít nhất {targets.min_communes:02d} xã có bảng tin")
    if targets.wards_towns_percent:
        lines.append(f"{_percent(targets.wards_towns_percent)} số phường, thị trấn có bảng tin")
    if targets.communes_percent:
        lines.append(f"{_percent(targets.communes_percent)} số xã có bảng tin")
    return lines or ["không đặt chỉ tiêu"]


def _shortfall(area: AreaReport) -> str:
    gaps = []
    for need, kind in ((area.wards_towns_need, "phường, thị trấn"), (area.communes_need, "xã")):
        if not need.met:
            gaps.append(f"còn thiếu {need.short} {kind} (có {need.have}, cần {need.need})")
    return "; ".join(gaps)


def _have(need: Need) -> str:
    total = "" if need.total is None else f" trên {need.total}"
    return f"{need.have}{total} (cần {need.need})"


def render_report(report: Report, polled_at: datetime, inventory_name: str) -> str:
    """The whole page. `polled_at` is when the boards were asked, in local time."""
    areas = [
        {"label": a.label, "meets": a.meets, "wards_towns": a.wards_towns,
         "wards_towns_online": a.wards_towns_online, "communes": a.communes,
         "communes_online": a.communes_online, "others": a.others,
         "wards_towns_have": _have(a.wards_towns_need), "communes_have": _have(a.communes_need),
         "shortfall": _shortfall(a)}
        for a in report.areas
    ]  # fmt: skip
    basis = (
        "bảng tin trả lời khi kiểm tra (đang hoạt động)"
        if report.targets.basis == "online"
        else "bảng tin đã lắp đặt"
    )
    return PAGES.get_template("report.html").render(
        r=report,
        as_of=vn_date(report.as_of),
        polled_time=f"{polled_at:%H:%M}",
        polled_day=vn_date(polled_at.date()),
        inventory_name=inventory_name,
        target_lines=target_lines(report.targets),
        basis=basis,
        share=f" ({report.online * 100 // report.installed}%)" if report.installed else "",
        areas=areas,
        short=[a for a in areas if not a["meets"]],
        chart=Markup(coverage_svg(report)),  # built by fleetchart, its every text escaped
        offline=[(a.label, b) for a in report.areas for b in a.offline],
        unit_kinds=UNIT_KIND_VI,
        version=__version__,
    )

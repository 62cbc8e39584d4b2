"""`report.html`: the yearly report for the Department, in Vietnamese, fit to print.

Pure: a report in, one self-contained page out (inline SVG chart, no scripts, no files
beside it), so it can be mailed, archived and printed in black and white. Every name from
the inventory is escaped.
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from kiosk import __version__
from kiosk.core.fleet import AreaReport, Need, Report, Targets
from kiosk.core.inventory import InventoryBoard
from kiosk.technician.fleetchart import coverage_svg

KIND_VI = {
    "phuong": "phường",
    "thi_tran": "thị trấn",
    "xa": "xã",
    "dac_khu": "đặc khu",
    "huyen": "cấp huyện",
    "tinh": "cấp tỉnh",
}


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


def _area_row(area: AreaReport) -> str:
    verdict = "Đạt" if area.meets else "Chưa đạt"
    return (
        f'<tr class="{"meets" if area.meets else "short"}">'
        f"<th>{escape(area.label)}</th>"
        f"<td>{area.wards_towns}</td><td>{area.wards_towns_online}</td>"
        f"<td>{area.communes}</td><td>{area.communes_online}</td>"
        f"<td>{area.others}</td>"
        f"<td>{_have(area.wards_towns_need)}</td><td>{_have(area.communes_need)}</td>"
        f'<td class="verdict">{verdict}</td></tr>'
    )


def _board_rows(boards: list[tuple[str, InventoryBoard]]) -> str:
    return "".join(
        f"<tr><td>{escape(b.device_id)}</td><td>{escape(b.unit_name)}</td>"
        f"<td>{escape(KIND_VI.get(b.unit_kind, b.unit_kind))}</td><td>{escape(area)}</td></tr>"
        for area, b in boards
    )


def render_report(report: Report, polled_at: datetime, inventory_name: str) -> str:
    """The whole page. `polled_at` is when the boards were asked, in local time."""
    areas = report.areas
    short = [a for a in areas if not a.meets]
    short_items = "".join(
        f"<li><b>{escape(a.label)}</b>: {escape(_shortfall(a))}</li>" for a in short
    )
    offline = [(a.label, b) for a in areas for b in a.offline]
    basis = (
        "bảng tin trả lời khi kiểm tra (đang hoạt động)"
        if report.targets.basis == "online"
        else "bảng tin đã lắp đặt"
    )
    share = f" ({report.online * 100 // report.installed}%)" if report.installed else ""
    extra = ""
    if report.planned:
        extra += (
            f"<p>{len(report.planned)} bảng tin trong danh sách có ngày lắp đặt sau ngày "
            f"{vn_date(report.as_of)}, chưa được tính.</p>"
        )
    if report.outside:
        extra += (
            f"<p>{len(report.outside)} bảng tin cấp huyện, cấp tỉnh không thuộc khu vực nào "
            "được đánh giá, không tính vào chỉ tiêu.</p>"
        )
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Báo cáo bảng tin điện tử công cộng đến ngày {vn_date(report.as_of)}</title>
<style>
body {{ font-family: sans-serif; color: #000; margin: 1.5em auto; max-width: 60em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1em; }}
th, td {{ border: 1px solid #000; padding: 0.2em 0.5em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
thead th {{ text-align: center; font-weight: bold; }}
tr.short .verdict {{ font-weight: bold; text-decoration: underline; }}
tr {{ page-break-inside: avoid; }}
.chart {{ max-width: 100%; height: auto; }}
</style></head>
<body>
<h1>Báo cáo bảng tin điện tử công cộng</h1>
<p id="asof">Số liệu đến ngày {vn_date(report.as_of)}; kiểm tra trực tuyến lúc
{polled_at:%H:%M} ngày {vn_date(polled_at.date())}; danh sách thiết bị:
{escape(inventory_name)}.</p>
<h2>Chỉ tiêu áp dụng</h2>
<p id="targets">{escape(report.targets.title)}.<br>Mỗi khu vực (huyện, thành phố; hoặc cả tỉnh
khi không ghi huyện): {escape("; ".join(target_lines(report.targets)))}. Tính theo {basis}.</p>
<h2>Tổng hợp</h2>
<p id="summary">Đạt chỉ tiêu: <b>{report.meeting}/{len(areas)}</b> khu vực.
Bảng tin đã lắp đặt: <b>{report.installed}</b>, trả lời khi kiểm tra:
<b>{report.online}</b>{share}.</p>
{extra}
<h2>Khu vực chưa đạt chỉ tiêu</h2>
<ul id="short">{short_items or "<li>Tất cả các khu vực đều đạt chỉ tiêu.</li>"}</ul>
<h2>Biểu đồ độ phủ</h2>
{coverage_svg(report)}
<h2>Chi tiết theo khu vực</h2>
<table id="areas">
<thead><tr><th rowspan="2">Khu vực</th><th colspan="2">Bảng tin ở phường, thị trấn</th>
<th colspan="2">Bảng tin ở xã</th><th rowspan="2">Bảng tin khác</th>
<th rowspan="2">Phường, thị trấn có bảng tin</th><th rowspan="2">Xã có bảng tin</th>
<th rowspan="2">Kết quả</th></tr>
<tr><th>đã lắp</th><th>trả lời</th><th>đã lắp</th><th>trả lời</th></tr></thead>
<tbody>{"".join(_area_row(a) for a in areas)}</tbody></table>
<h2>Bảng tin không trả lời khi kiểm tra</h2>
{
        f'''<table id="offline"><thead><tr><th>Mã thiết bị</th><th>Đơn vị</th><th>Cấp</th>
<th>Khu vực</th></tr></thead><tbody>{_board_rows(offline)}</tbody></table>'''
        if offline
        else '<p id="offline">Tất cả bảng tin đã lắp đặt đều trả lời.</p>'
    }
<p><small>Lập bởi kiosk fleet report {escape(__version__)}.</small></p>
</body></html>
"""

"""The status page for a technician's phone (GET /), in Vietnamese, from the /health
document. Pure: a document in, HTML out. Everything from the content is escaped; the page
reloads itself, and changes nothing on the board.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from html import escape
from typing import Any

from kiosk.core.timeutil import parse_rfc3339
from kiosk.core.vietnamese import (
    DISPLAY_VI,
    PROBLEM_VI,
    STATUS_VI,
    moment_text,
    when_text,
)

REFRESH_S = 15
COLOUR = {"ok": "#1b7f3b", "degraded": "#b36b00", "failing": "#b3261e"}


def _value(value: Any, unit: str = "") -> str:
    return "không đọc được" if value is None else f"{escape(str(value))}{unit}"


def _when(value: str | None, now: datetime, tz: tzinfo) -> str:
    """An RFC 3339 time of the document as a technician reads it, in the board's time."""
    if value is None:
        return "chưa có"
    try:
        return escape(when_text(parse_rfc3339(value), now, tz))
    except ValueError:
        return escape(value)


def _showing(current: Mapping[str, Any] | None) -> str:
    if not current:
        return "Không có"
    where = f"{escape(current['channel'])} / {escape(current['id'])}"
    title = current.get("title")
    return f"{escape(title)} <small>({where})</small>" if title else where


def _rows(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in pairs)


def render(doc: Mapping[str, Any], tz: tzinfo) -> str:
    """The page for the document, its times in tz (the board's time zone)."""
    status = doc["status"]
    device, display, sync = doc["device"], doc["display"], doc["sync"]
    now = parse_rfc3339(doc["time"])
    showing = _showing(display["current_item"])
    problems = "".join(
        f"<li><b>{escape(PROBLEM_VI.get(p['code'], p['code']))}</b> "
        f"<code>{escape(p['code'])}</code><br>{escape(p['message'])}"
        f"<br><small>từ {_when(p['since'], now, tz)}</small></li>"
        for p in doc["problems"]
    )
    channels = "".join(
        f"<tr><td>{escape(name)}</td><td>{_value(held['sequence'])}</td>"
        f"<td>{_value(held['items'])}</td><td>{_when(held['expires_at'], now, tz)}</td></tr>"
        for name, held in sync["channels"].items()
    )
    system = doc["system"]
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{REFRESH_S}">
<title>{escape(device["unit_name"])}: {STATUS_VI.get(status, escape(status))}</title>
<style>
body {{ font-family: sans-serif; margin: 0 auto; max-width: 40em; padding: 0.5em; }}
.status {{ color: #fff; background: {COLOUR.get(status, "#555")}; padding: 0.5em;
  font-size: 1.4em; border-radius: 0.3em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: 0.2em 0.4em; border-bottom: 1px solid #ddd; }}
img {{ width: 100%; border: 1px solid #999; }}
</style></head>
<body>
<h1 id="name">{escape(device["name"])}</h1>
<p id="status" class="status">Trạng thái: {STATUS_VI.get(status, escape(status))}</p>
<h2>Sự cố</h2>
<ul id="problems">{problems or "<li>Không có sự cố</li>"}</ul>
<h2>Màn hình</h2>
<table>{
        _rows(
            [
                ("Đang hiển thị", f'<span id="current">{showing}</span>'),
                ("Màn hình", DISPLAY_VI.get(display["state"], escape(display["state"]))),
                ("Kích thước", f"{_value(display['width'])}×{_value(display['height'])}"),
                ("Khung hình gần nhất", _when(display["last_frame_at"], now, tz)),
                ("Bản tin đang chạy", _value(doc["content"]["items_active"])),
                ("Khẩn cấp", "Có" if doc["content"]["emergency_active"] else "Không"),
            ]
        )
    }</table>
<p><img id="screen" src="/screenshot.png" alt="Ảnh màn hình hiện tại"
  onload="this.dataset.loaded = this.naturalWidth"></p>
<h2>Đồng bộ</h2>
<table>{
        _rows(
            [
                ("Lần thử gần nhất", _when(sync["last_attempt_at"], now, tz)),
                ("Lần thành công gần nhất", _when(sync["last_success_at"], now, tz)),
                ("Số lần lỗi liên tiếp", _value(sync["consecutive_failures"])),
            ]
        )
    }</table>
<table><tr><th>Kênh</th><th>Số thứ tự</th><th>Số bản tin</th><th>Hết hạn</th></tr>
{channels}</table>
<h2>Thiết bị</h2>
<table>{
        _rows(
            [
                ("Mã thiết bị", escape(device["id"])),
                ("Đơn vị", escape(device["unit_name"])),
                ("Phiên bản", escape(doc["version"])),
                ("Giờ", escape(moment_text(now.astimezone(tz)))),
                ("Thời gian chạy", _value(doc["uptime_s"], " giây")),
                ("Nhiệt độ CPU", _value(system["cpu_temp_c"], " °C")),
                ("Tải (1 phút)", _value(system["load_1m"])),
                ("Bộ nhớ trống", _value(system["mem_available_mb"], " MB")),
                ("Dung lượng trống", _value(system["disk_free_mb"], " MB")),
                ("Lệch đồng hồ", _value(system["clock_skew_s"], " giây")),
                ("Báo cáo gần nhất", _when(doc["heartbeat"]["last_success_at"], now, tz)),
                ("Lượt phát chờ gửi", _value(doc["heartbeat"]["queued_plays"])),
            ]
        )
    }</table>
</body></html>
"""


NOTICE_TITLE = "Cấu hình mới bị từ chối (đang dùng cấu hình cũ):"


def overlay_text(
    doc: Mapping[str, Any], addresses: list[tuple[str, str]], port: int, notice: list[str] = ()
) -> tuple[str, list[str], str]:
    """The service button's overlay: (title, lines, the status page's address for the QR).
    notice: why the last configuration an installer brought was refused, shown first."""
    device, sync = doc["device"], doc["sync"]
    page = f"http://{addresses[0][1]}:{port}/" if addresses else f"http://127.0.0.1:{port}/"
    codes = sorted({p["code"] for p in doc["problems"]})
    lines = [
        f"Mã thiết bị: {device['id']}",
        f"Đơn vị: {device['unit_name']}",
        "Địa chỉ IP: " + (", ".join(f"{ip} ({name})" for name, ip in addresses) or "không có"),
        f"Trạng thái: {STATUS_VI.get(doc['status'], doc['status'])}",
        "Sự cố: " + (", ".join(codes) if codes else "không có"),
        f"Đồng bộ gần nhất: {sync['last_success_at'] or 'chưa có'}",
        f"Phiên bản: {doc['version']}",
        f"Trang trạng thái: {page}",
    ]
    if notice:
        lines = [NOTICE_TITLE, *notice, "", *lines]
    return "Thông tin kỹ thuật", lines, page

"""The status page for a technician's phone (GET /), in Vietnamese, from the /health
document. Pure: a document in, HTML out, through templates/status.html, which Jinja2
autoescapes: everything from the content is escaped. The page reloads itself, and changes
nothing on the board.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from kiosk.core.problemtext import explain_vi
from kiosk.core.timeutil import parse_rfc3339
from kiosk.core.vietnamese import (
    DISPLAY_VI,
    PROBLEM_VI,
    STATUS_VI,
    moment_text,
    when_text,
)

if TYPE_CHECKING:
    import jinja2

REFRESH_S = 15
COLOUR = {"ok": "#1b7f3b", "degraded": "#b36b00", "failing": "#b3261e"}


@functools.cache
def _pages() -> jinja2.Environment:
    """Made at the first page asked for, not at the kiosk's start (Jinja2 costs ~50 ms)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("kiosk.board", "templates"),
        autoescape=True,  # every value is the document's, and so the content's: escaped
        undefined=jinja2.StrictUndefined,
    )


def _value(value: Any, unit: str = "") -> str:
    return "không đọc được" if value is None else f"{value}{unit}"


def _when(value: str | None, now: datetime, tz: tzinfo) -> str:
    """An RFC 3339 time of the document as a technician reads it, in the board's time."""
    if value is None:
        return "chưa có"
    try:
        return when_text(parse_rfc3339(value), now, tz)
    except ValueError:
        return value


def render(doc: Mapping[str, Any], tz: tzinfo) -> str:
    """The page for the document, its times in tz (the board's time zone)."""
    status = doc["status"]
    device, display, sync = doc["device"], doc["display"], doc["sync"]
    now = parse_rfc3339(doc["time"])
    current = display["current_item"]
    system = doc["system"]
    return _pages().get_template("status.html").render(
        refresh_s=REFRESH_S,
        unit_name=device["unit_name"],
        name=device["name"],
        status_vi=STATUS_VI.get(status, status),
        colour=COLOUR.get(status, "#555"),
        problems=[
            {"label": PROBLEM_VI.get(p["code"], p["code"]), "code": p["code"],
             "why": explain_vi(p["message"]), "message": p["message"],
             "since": _when(p["since"], now, tz)}
            for p in doc["problems"]
        ],
        showing={"title": current.get("title"), "where": f"{current['channel']} / {current['id']}"}
        if current else None,
        screen=[
            ("Màn hình", DISPLAY_VI.get(display["state"], display["state"])),
            ("Kích thước", f"{_value(display['width'])}×{_value(display['height'])}"),
            ("Khung hình gần nhất", _when(display["last_frame_at"], now, tz)),
            ("Bản tin đang chạy", _value(doc["content"]["items_active"])),
            ("Khẩn cấp", "Có" if doc["content"]["emergency_active"] else "Không"),
        ],
        sync=[
            ("Lần thử gần nhất", _when(sync["last_attempt_at"], now, tz)),
            ("Lần thành công gần nhất", _when(sync["last_success_at"], now, tz)),
            ("Số lần lỗi liên tiếp", _value(sync["consecutive_failures"])),
        ],
        channels=[
            {"name": name, "sequence": _value(held["sequence"]),
             "item_count": _value(held["items"]), "expires": _when(held["expires_at"], now, tz)}
            for name, held in sync["channels"].items()
        ],
        device=[
            ("Mã thiết bị", device["id"]),
            ("Đơn vị", device["unit_name"]),
            ("Phiên bản", doc["version"]),
            ("Giờ", moment_text(now.astimezone(tz))),
            ("Thời gian chạy", _value(doc["uptime_s"], " giây")),
            ("Nhiệt độ CPU", _value(system["cpu_temp_c"], " °C")),
            ("Tải (1 phút)", _value(system["load_1m"])),
            ("Bộ nhớ trống", _value(system["mem_available_mb"], " MB")),
            ("Dung lượng trống", _value(system["disk_free_mb"], " MB")),
            ("Lệch đồng hồ", _value(system["clock_skew_s"], " giây")),
            ("Báo cáo gần nhất", _when(doc["heartbeat"]["last_success_at"], now, tz)),
            ("Lượt phát chờ gửi", _value(doc["heartbeat"]["queued_plays"])),
        ],
    )  # fmt: skip


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

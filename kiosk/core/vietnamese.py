"""Dates, times and name order as Vietnamese readers expect them ("Thứ Ba, 16/4/2024 ·
08:30"; Dương before Đầm Hà)."""

from __future__ import annotations

import functools
import unicodedata
from datetime import datetime, tzinfo

# The alphabet's order: ă and â are letters after a, đ after d, and so on. Tone marks
# (unmarked, huyền, hỏi, ngã, sắc, nặng) order only names whose letters are alike.
ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}

# What a technician reads for the board's states (the status page, the province's pages)
STATUS_VI = {"ok": "Bình thường", "degraded": "Có vấn đề", "failing": "Hỏng"}
# why a board's /health could not be read (kiosk status, kiosk fleet): the English is the
# JSON's and the log's, stable for scripts; the tables say it in Vietnamese
ANSWER_VI = {
    "no answer in time": "không trả lời kịp",
    "unreachable": "không kết nối được",
    "not a kiosk /health document": "không phải trang /health của bảng tin",
    "answers without a device id": "trả lời không có mã thiết bị",
    "wrong board": "sai bảng tin",
    "not answering": "không trả lời",
}
ANOTHER_BOARD = "another board answers: "
# a board as the province sees it: its own status, or silent (SPEC 7.3)
BOARD_STATE_VI = {**STATUS_VI, "offline": "Mất kết nối", "never": "Chưa báo cáo"}
# the inventory's unit kinds (SPEC 6), as the yearly report names them
UNIT_KIND_VI = {
    "phuong": "phường",
    "thi_tran": "thị trấn",
    "xa": "xã",
    "dac_khu": "đặc khu",
    "huyen": "cấp huyện",
    "tinh": "cấp tỉnh",
}
DISPLAY_VI = {"on": "Đang bật", "off_scheduled": "Tắt theo lịch", "blank": "Màn hình đen"}
PROBLEM_VI = {
    "no_content": "Không có nội dung để hiển thị",
    "sync_failing": "Không đồng bộ được với hệ thống nguồn",
    "signature_invalid": "Chữ ký số không hợp lệ",
    "rollback_rejected": "Từ chối bản tin cũ hơn bản đang có",
    "manifest_invalid": "Danh mục bản tin không hợp lệ",
    "manifest_expired": "Danh mục bản tin đã hết hạn",
    "item_invalid": "Một bản tin không hợp lệ",
    "asset_invalid": "Một hình ảnh không hợp lệ",
    "clock_unsynced": "Đồng hồ thiết bị lệch",
    "disk_low": "Sắp hết dung lượng lưu trữ",
    "overheating": "Thiết bị quá nóng",
    "undervoltage": "Nguồn điện yếu",
    "display_stalled": "Màn hình bị treo",
    "heartbeat_failing": "Không gửi được báo cáo về hệ thống nguồn",
    "door_open": "Cửa tủ đang mở",
    "update_failed": "Cập nhật phần mềm không thành công",
}

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


def weekday(local: datetime) -> str:
    return WEEKDAYS[local.weekday()]


def date_text(local: datetime) -> str:
    return f"{weekday(local)}, {local.day}/{local.month}/{local.year}"


def time_text(local: datetime) -> str:
    return f"{local.hour:02d}:{local.minute:02d}"


def header_text(local: datetime) -> str:
    return f"{date_text(local)} · {time_text(local)}"


def moment_text(local: datetime, seconds: bool = False) -> str:
    """A moment as a technician reads it: "08:30 ngày 16/4/2024" ("08:30:05 ngày …" with
    seconds)."""
    clock = time_text(local) + (f":{local.second:02d}" if seconds else "")
    return f"{clock} ngày {local.day}/{local.month}/{local.year}"


def when_text(moment: datetime, now: datetime, tz: tzinfo) -> str:
    """A past moment in local time with how long ago: "08:30 ngày 16/4/2024 (3 phút
    trước)"; a future one without."""
    local = moment.astimezone(tz)
    seconds = (now - moment).total_seconds()
    return moment_text(local) + (f" ({ago_text(seconds)})" if seconds >= 0 else "")


def ago_text(seconds: float) -> str:
    """How long ago, roughly: "vừa xong", "3 phút trước", "2 giờ trước", "5 ngày trước"."""
    for unit, name in ((86400, "ngày"), (3600, "giờ"), (60, "phút")):
        if seconds >= unit:
            return f"{int(seconds // unit)} {name} trước"
    return "vừa xong"


def search_key(text: str) -> str:
    """Text as a search compares it: no case, no tone or vowel marks, đ as d, spaces single
    ("Bão  SỐ 3" and "bao so 3" are one), so an officer finds a bulletin however it is typed."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@functools.lru_cache(maxsize=4096)  # pure; names repeat (an area on every row of a CSV)
def sort_key(name: str) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    """The order of a Vietnamese dictionary: letter by letter, then by tone."""
    letters: list[int] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFC", name).lower():
        parts = unicodedata.normalize("NFD", char)
        tone = next((_TONES[c] for c in parts if c in _TONES), 0)
        letter = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        index = ALPHABET.find(letter) if len(letter) == 1 else -1
        if index >= 0:
            letters.append(index + 1)
        elif not letter.isalnum():
            letters.append(0)  # word by word: "Ba Vì" before "Bạc Liêu"
        else:
            letters.append(len(ALPHABET) + 1 + ord(letter[0]))
        tones.append(tone)
    return tuple(letters), tuple(tones), name


def answer_text(reason: str) -> str:
    """A reason of ANSWER_VI (or "another board answers: ID") in Vietnamese."""
    if reason.startswith(ANOTHER_BOARD):
        return "bảng tin khác trả lời: " + reason.removeprefix(ANOTHER_BOARD)
    return ANSWER_VI.get(reason, reason)


def spreadsheet_text(local: datetime) -> str:
    """A local moment for a CSV opened in a spreadsheet: "2026-12-04 08:30", which Excel and
    LibreOffice read as a date and time whatever their locale (d/m/Y would not be)."""
    return local.strftime("%Y-%m-%d %H:%M")

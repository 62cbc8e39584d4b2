"""Dates and times as Vietnamese readers expect them ("Thứ Ba, 16/4/2024 · 08:30")."""

from __future__ import annotations

from datetime import datetime

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


def weekday(local: datetime) -> str:
    return WEEKDAYS[local.weekday()]


def date_text(local: datetime) -> str:
    return f"{weekday(local)}, {local.day}/{local.month}/{local.year}"


def time_text(local: datetime) -> str:
    return f"{local.hour:02d}:{local.minute:02d}"


def header_text(local: datetime) -> str:
    return f"{date_text(local)} · {time_text(local)}"

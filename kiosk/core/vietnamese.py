"""Dates, times and name order as Vietnamese readers expect them ("Thứ Ba, 16/4/2024 ·
08:30"; Dương before Đầm Hà)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

# The alphabet's order: ă and â are letters after a, đ after d, and so on. Tone marks
# (unmarked, huyền, hỏi, ngã, sắc, nặng) order only names whose letters are alike.
ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


def weekday(local: datetime) -> str:
    return WEEKDAYS[local.weekday()]


def date_text(local: datetime) -> str:
    return f"{weekday(local)}, {local.day}/{local.month}/{local.year}"


def time_text(local: datetime) -> str:
    return f"{local.hour:02d}:{local.minute:02d}"


def header_text(local: datetime) -> str:
    return f"{date_text(local)} · {time_text(local)}"


def moment_text(local: datetime) -> str:
    """A moment as a technician reads it: "08:30 ngày 16/4/2024"."""
    return f"{time_text(local)} ngày {local.day}/{local.month}/{local.year}"


def ago_text(seconds: float) -> str:
    """How long ago, roughly: "vừa xong", "3 phút trước", "2 giờ trước", "5 ngày trước"."""
    for unit, name in ((86400, "ngày"), (3600, "giờ"), (60, "phút")):
        if seconds >= unit:
            return f"{int(seconds // unit)} {name} trước"
    return "vừa xong"


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

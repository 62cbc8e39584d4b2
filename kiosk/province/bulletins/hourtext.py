"""Hour windows as officers type them, read into SPEC 1.4's "HH:MM-HH:MM".

An officer writes "7:00-11:30", "7h-11h30", "7g30 - 11g", "07:00–11:30" (an en dash from
Word), with windows apart by commas, semicolons, new lines or spaces. The board's format is
strict; the form is not. Pure: the form calls read_windows and shows its message."""

from __future__ import annotations

import re

from kiosk.core.timeutil import parse_window

TIME = r"(\d{1,2})(?:\s*[:hHgG.](\d{2}(?![\d:hHgG.]))?)?"
WINDOW = re.compile(TIME + r"\s*(?:-|–|—|đến)\s*" + TIME)
SEPARATORS = re.compile(r"[\s,;]*")
HINT = "Viết khung giờ dạng 07:00-11:30 (hoặc 7h-11h30), các khung cách nhau bằng dấu phẩy."


def _quoted(piece: str, most: int = 30) -> str:
    """What the officer typed, as typed (not as we read it), bounded."""
    piece = " ".join(piece.split())
    return f"“{piece[:most]}…”" if len(piece) > most else f"“{piece}”"


class HoursError(ValueError):
    """What is wrong, in Vietnamese, naming what the officer typed."""


def read_windows(text: str) -> list[str]:
    """Every window of text as "HH:MM-HH:MM", in order; HoursError names the first piece
    that is not a window, or a window that is out of range."""
    windows: list[str] = []
    at = 0
    text = text.strip()
    while at < len(text):
        at = SEPARATORS.match(text, at).end()
        if at >= len(text):
            break
        found = WINDOW.match(text, at)
        if found is None:
            piece = re.split(r"[,;\n]", text[at:], maxsplit=1)[0].strip()
            raise HoursError(f"{_quoted(piece)} không phải khung giờ. {HINT}")
        h1, m1, h2, m2 = found.groups()
        window = f"{int(h1):02d}:{int(m1 or 0):02d}-{int(h2):02d}:{int(m2 or 0):02d}"
        try:
            parse_window(window)
        except ValueError:
            raise HoursError(
                f"{_quoted(found.group(0))}: giờ hoặc phút không hợp lệ "
                "(giờ 0 đến 24, phút 0 đến 59, bắt đầu khác kết thúc)."
            ) from None
        windows.append(window)
        at = found.end()
        if at < len(text) and not re.match(r"[\s,;]", text[at]):
            piece = re.split(r"[,;\s]", text[found.start() :], maxsplit=1)[0]
            raise HoursError(f"{_quoted(piece)} không phải khung giờ. {HINT}")
    return windows

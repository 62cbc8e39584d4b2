"""Time values of the wire format: RFC 3339 instants and daily hour windows.

Pure functions: nothing here reads the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from kiosk.textrules import shown

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})\Z")
DAY_SECONDS = 86400


def parse_rfc3339(value: object) -> datetime:
    """An instant with an explicit offset; TOML's offset datetimes are accepted as they are.

    Raises ValueError with a message fit to follow a field name.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("needs a time zone offset, such as 2024-04-16T08:00:00+07:00")
        return value
    if isinstance(value, date):
        raise ValueError("needs a date and a time with an offset, not only a date")
    if not isinstance(value, str):
        raise ValueError(f"must be an RFC 3339 time string, got {type(value).__name__}")
    if not _RFC3339.match(value):
        raise ValueError(
            f"{shown(value)} is not an RFC 3339 time with an offset, "
            "such as 2024-04-16T08:00:00+07:00"
        )
    text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
    frac = re.search(r"\.(\d+)", text)
    if frac and len(frac.group(1)) > 6:  # Python keeps microseconds only
        text = text.replace(frac.group(0), "." + frac.group(1)[:6])
    try:
        return datetime.fromisoformat(text.replace("t", "T"))
    except ValueError as exc:
        raise ValueError(f"{shown(value)} is not a valid time: {exc}") from None


def format_rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class HourWindow:
    """A daily window [start, end) in local wall-clock seconds; end < start crosses midnight."""

    start: int
    end: int

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    def __str__(self) -> str:
        def hhmm(seconds: int) -> str:
            return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

        return f"{hhmm(self.start)}-{hhmm(self.end)}"


def parse_window(value: object) -> HourWindow:
    """Parse "HH:MM-HH:MM"; "24:00" is allowed as an end only."""
    if not isinstance(value, str):
        raise ValueError(f'must be a string "HH:MM-HH:MM", got {type(value).__name__}')
    match = _WINDOW.match(value)
    if not match:
        raise ValueError(f'{shown(value)} is not a window "HH:MM-HH:MM", such as "05:30-22:30"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"{shown(value)} has an hour or minute out of range")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if start == end:
        raise ValueError(f"{shown(value)} is empty: its start equals its end")
    if end == DAY_SECONDS and start > 0:
        end = 0  # "08:00-24:00" runs to midnight: a window that ends at the next day's 00:00
    return HourWindow(start, end)


def seconds_of_day(local: datetime) -> float:
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


def in_windows(
    windows: tuple[HourWindow, ...] | None,
    days: frozenset[int] | None,
    local: datetime,
) -> bool:
    """Whether a local time falls in one of the windows on an allowed ISO weekday.

    A window that crosses midnight belongs to the day it starts on: with days=[5] and
    "22:00-02:00", Saturday 01:00 is inside (Friday night's window), Friday 01:00 is not.
    """
    today = local.isoweekday()
    yesterday = (today - 2) % 7 + 1

    def day_ok(weekday: int) -> bool:
        return days is None or weekday in days

    if not windows:
        return day_ok(today)
    s = seconds_of_day(local)
    for w in windows:
        if w.crosses_midnight:
            if (s >= w.start and day_ok(today)) or (s < w.end and day_ok(yesterday)):
                return True
        elif w.start <= s < w.end and day_ok(today):
            return True
    return False


def window_boundaries(
    windows: tuple[HourWindow, ...] | None,
    days: frozenset[int] | None,
    after: datetime,
    tz: tzinfo,
    span_days: int = 8,
) -> list[datetime]:
    """Every local moment in the next span_days at which in_windows may flip."""
    if windows is None and days is None:
        return []
    first = after.astimezone(tz).date() - timedelta(days=1)
    offsets = {0}
    for w in windows or ():
        offsets.add(w.start)
        offsets.add(w.end)
    out = []
    for n in range(span_days + 2):
        midnight = datetime.combine(first + timedelta(days=n), time(0), tzinfo=tz)
        out.extend(midnight + timedelta(seconds=o) for o in offsets)
    return out

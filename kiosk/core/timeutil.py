"""Time values of the wire format: RFC 3339 instants and daily hour windows.

Pure functions: nothing here reads the clock.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kiosk.core.textrules import shown

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


WEEK_SECONDS = 7 * DAY_SECONDS


def week_second(local: datetime) -> float:
    """Seconds since the local Monday's midnight."""
    return (local.isoweekday() - 1) * DAY_SECONDS + seconds_of_day(local)


@dataclass(frozen=True)
class WeekMask:
    """When hours and days let an item show, as merged intervals of the week (Monday 00:00
    is 0), so that "is it on?" and "when does that next change?" are a binary search
    whatever the windows: the schedule's cost must not grow with what an author wrote."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    edges: tuple[int, ...]  # the moments of the week at which it turns on or off

    def contains(self, local: datetime) -> bool:
        s = week_second(local)
        i = bisect.bisect_right(self.starts, s) - 1
        return i >= 0 and s < self.ends[i]

    def next_edge(self, local: datetime) -> datetime | None:
        """The first local moment after `local` at which contains() flips."""
        if not self.edges:
            return None
        s = week_second(local)
        i = bisect.bisect_right(self.edges, s)
        edge = self.edges[i] if i < len(self.edges) else self.edges[0] + WEEK_SECONDS
        return local + timedelta(seconds=edge - s)


def week_mask(windows: tuple[HourWindow, ...] | None, days: frozenset[int] | None) -> WeekMask:
    """in_windows() as a WeekMask (the same answers, tested against it)."""
    pieces: list[tuple[int, int]] = []
    for day in range(7):
        if days is not None and day + 1 not in days:
            continue
        base = day * DAY_SECONDS
        for w in windows or (HourWindow(0, DAY_SECONDS),):
            if not w.crosses_midnight:
                pieces.append((base + w.start, base + w.end))
                continue
            pieces.append((base + w.start, base + DAY_SECONDS))
            after = (base + DAY_SECONDS) % WEEK_SECONDS  # Sunday's night runs into Monday
            if w.end:
                pieces.append((after, after + w.end))
    merged: list[list[int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    edges = {e % WEEK_SECONDS for interval in merged for e in interval}
    if merged and merged[0][0] == 0 and merged[-1][1] == WEEK_SECONDS:
        edges.discard(0)  # on across the week's turn: no flip there
    return WeekMask(tuple(m[0] for m in merged), tuple(m[1] for m in merged), tuple(sorted(edges)))

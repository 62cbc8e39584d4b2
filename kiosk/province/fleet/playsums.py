"""Proof of play summed as it arrives, the pure part: which plays of a heartbeat are new,
and their sums per item and day.

Every report reads the daily sums, so a play must be added to them exactly once, also when
a board sends a batch again because the reply to the first sending was lost. Raw plays are
kept only plays_raw_days, keyed by themselves: a resend of a recent play is told by that key.
A resend of an older play cannot be, once its raw row is gone; but a board delivers its plays
in the order it showed them (SPEC 1.6), so a play older than the raw window that is not later
than the latest play the board delivered was delivered before. That latest moment is kept
per board (Board.plays_through).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kiosk.province.fleet.heartbeatdoc import Play

DaySums = dict[tuple[str, str, date], tuple[int, float]]  # (channel, item, day) -> n, seconds


@dataclass
class Arrival:
    """A heartbeat's plays, sorted by what tells whether each is new."""

    recent: list[Play] = field(default_factory=list)  # kept raw: the raw key tells a resend
    unseen: list[Play] = field(default_factory=list)  # older, and later than any delivered
    resent: int = 0  # older, and not later than the latest delivered: counted before


def sort_arrival(plays: Iterable[Play], raw_from: datetime, through: datetime | None) -> Arrival:
    """raw_from: the oldest moment whose plays are kept raw; through: Board.plays_through."""
    arrival, seen = Arrival(), set()
    for p in plays:
        key = (p.channel, p.item, p.started_at)
        if key in seen:  # twice in one batch: once
            continue
        seen.add(key)
        if p.started_at >= raw_from:
            arrival.recent.append(p)
        elif through is None or p.started_at > through:
            arrival.unseen.append(p)
        else:
            arrival.resent += 1
    return arrival


def latest(through: datetime | None, plays: Iterable[Play]) -> datetime | None:
    """Board.plays_through after these plays were delivered."""
    moments = [p.started_at for p in plays] + ([through] if through is not None else [])
    return max(moments, default=None)


def day_sums(plays: Iterable[Play], tz: ZoneInfo) -> DaySums:
    """Plays and seconds per channel, item and day in the province's time zone."""
    sums: DaySums = {}
    for p in plays:
        key = (p.channel, p.item, p.started_at.astimezone(tz).date())
        n, seconds = sums.get(key, (0, 0.0))
        sums[key] = (n + 1, seconds + p.duration_s)
    return sums

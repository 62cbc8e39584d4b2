"""The board's idea of the time (SPEC 2.4): its own clock, unless the source says it is off.

A Raspberry Pi has no real-time clock: after a power cut without network it may believe it
is 1970 or last week. Each good response's `Date` header tells how far off it is; beyond
300 s the board reports clock_unsynced and schedules by the source's time instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

UNSYNCED_S = 300.0


def system_now() -> datetime:
    return datetime.now(UTC)


class SourceClock:
    """Written by the sync thread (observe), read by the player and health (now, skew_s)."""

    def __init__(self, wall: Callable[[], datetime] = system_now) -> None:
        self.wall = wall
        self._lock = threading.Lock()
        self._skew: float | None = None  # source minus wall, seconds; None: never seen

    def observe(self, server_time: datetime) -> None:
        skew = (server_time - self.wall()).total_seconds()
        with self._lock:
            self._skew = skew

    @property
    def skew_s(self) -> float | None:
        with self._lock:
            return self._skew

    @property
    def unsynced(self) -> bool:
        skew = self.skew_s
        return skew is not None and abs(skew) > UNSYNCED_S

    def now(self) -> datetime:
        skew = self.skew_s
        if skew is not None and abs(skew) > UNSYNCED_S:
            return self.wall() + timedelta(seconds=skew)
        return self.wall()

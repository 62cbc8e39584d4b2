"""The board's idea of the time (SPEC 2.4).

A Raspberry Pi has no real-time clock: after a power cut without network it may believe it
is 1970 or last week. But the source's `Date` header is not signed: an on-path attacker can
send any `Date`, to revive an expired emergency or to push the board into the year 9999.
So, in order:

1. A system clock that NTP has synchronised wins; `Date` is then only reported.
2. Otherwise, a `Date` more than 300 s from the system clock is scheduled by.
3. Never earlier than the `issued_at` of the newest manifest the board has accepted: a
   signed lower bound on the time.

A `Date` that cannot be parsed, or lies outside the years 2000 to 2999, is ignored.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

UNSYNCED_S = 300.0
PLAUSIBLE_YEARS = (2000, 2999)
_TIME_ERROR = 5  # adjtimex(2): "the clock is not synchronised"


def system_now() -> datetime:
    return datetime.now(UTC)


def kernel_clock_synchronized() -> bool:
    """Whether NTP (systemd-timesyncd, chrony, ntpd) has synchronised the system clock, as
    `timedatectl` shows it: the kernel's adjtimex() answers TIME_ERROR until it has. False
    where it cannot be asked (not Linux): then the source's Date is used, as before NTP."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        timex = ctypes.create_string_buffer(512)  # struct timex (208 bytes); modes 0: read only
        state = libc.adjtimex(timex)
    except (OSError, AttributeError):
        return False
    return state not in (-1, _TIME_ERROR)


def plausible(moment: datetime) -> bool:
    return PLAUSIBLE_YEARS[0] <= moment.year <= PLAUSIBLE_YEARS[1]


class SourceClock:
    """Written by the sync thread (observe, observe_issued), read by the player and health
    (now, skew_s)."""

    def __init__(
        self,
        wall: Callable[[], datetime] = system_now,
        synchronized: Callable[[], bool] = kernel_clock_synchronized,
    ) -> None:
        self.wall, self.synchronized = wall, synchronized
        self._lock = threading.Lock()
        self._skew: float | None = None  # source minus wall, seconds; None: never seen
        self._floor: datetime | None = None  # the newest accepted manifest's issued_at
        self._lifted: tuple[datetime, datetime] | None = None  # (floor, wall) when it bit

    def observe(self, server_time: datetime) -> None:
        """A response's Date. An implausible one is ignored."""
        if not plausible(server_time):
            log.debug("ignoring an implausible Date: %s", server_time.isoformat())
            return
        skew = (server_time - self.wall()).total_seconds()
        with self._lock:
            self._skew = skew

    def observe_issued(self, issued_at: datetime) -> None:
        """A manifest was accepted (or read from the cache): the time is at least this."""
        if not plausible(issued_at):
            return
        with self._lock:
            if self._floor is None or issued_at > self._floor:
                self._floor = issued_at

    @property
    def skew_s(self) -> float | None:
        with self._lock:
            return self._skew

    @property
    def unsynced(self) -> bool:
        """More than 300 s from the source's Date: reported (clock_unsynced) either way."""
        return self._far(self.skew_s)

    def now(self) -> datetime:
        wall = self.wall()
        if self.synchronized():
            return wall
        with self._lock:
            skew, floor = self._skew, self._floor
            moment = wall + timedelta(seconds=skew) if self._far(skew) else wall
            if floor is None or moment >= floor:
                return moment
            # Earlier than signed content says it can be: go on from the floor, at the
            # wall clock's pace, so the header's clock and the schedule still move.
            if self._lifted is None or self._lifted[0] != floor or wall < self._lifted[1]:
                self._lifted = (floor, wall)
            return floor + (wall - self._lifted[1])

    @staticmethod
    def _far(skew: float | None) -> bool:
        return skew is not None and abs(skew) > UNSYNCED_S

"""The sync thread of `kiosk run`: sync every poll_seconds, publish new content at once,
back off with jitter when the source is away.

Jitter matters at scale: a thousand boards that lost the network together must not all
come back in the same second.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.board.content import ContentBox
from kiosk.board.store import Store, StoreBusy
from kiosk.board.sync import Syncer, SyncReport
from kiosk.core.health import Problem

log = logging.getLogger(__name__)

FIRST_RETRY_S = 10.0
LOCK_WAIT_S = 30.0


def next_delay(poll_s: float, failures: int, rng: random.Random) -> float:
    """Seconds to the next sync: the poll interval (±10%) after a success; after failures,
    10 s doubling up to the poll interval, each spread over half to one and a half times."""
    if failures == 0:
        return poll_s * rng.uniform(0.9, 1.1)
    base = min(poll_s, FIRST_RETRY_S * 2 ** min(failures - 1, 20))
    return max(1.0, base * rng.uniform(0.5, 1.5))


@dataclass(frozen=True)
class SyncStatus:
    """A snapshot for health reports; replaced whole, never mutated."""

    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    report: SyncReport | None = None
    error: Problem | None = None  # a sync that could not run at all


class SyncLoop:
    def __init__(
        self,
        syncer: Syncer,
        store: Store,
        box: ContentBox,
        poll_s: float,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        garbage_every_s: float = 3600.0,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.syncer, self.store, self.box = syncer, store, box
        self.poll_s, self.clock = poll_s, clock
        # The clean-up counts its hours on the monotonic clock: a wall clock set forward by
        # days (a board without a battery clock meeting NTP) must not delete anything early.
        self.mono = mono
        self.rng = rng or random.Random()
        self.garbage_every_s = garbage_every_s
        self.status = SyncStatus()
        self._wake = threading.Event()
        self._stopping = False
        self._last_garbage = -float("inf")
        self._logged: set[Problem] = set()
        self.thread = threading.Thread(target=self._run, name="sync", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def sync_now(self) -> None:
        """Ask for a sync at once (the service button's long press, a push, the province)."""
        self._wake.set()

    def held(self, channel: str) -> int:
        """The sequence of channel the last sync left the board holding (0: none known)."""
        report = self.status.report
        for c in report.channels if report else ():
            if c.channel == channel:
                return c.sequence or 0
        return 0

    def _run(self) -> None:
        while not self._stopping:
            delay = self.run_once()
            self._wake.wait(delay)
            self._wake.clear()

    def run_once(self) -> float:
        """One sync and, when the content changed, its hand-over to the player. Never raises:
        a failure is logged, counted and retried later."""
        started = self.clock()
        report: SyncReport | None = None
        error: Problem | None = None
        try:
            with self.store.locked(LOCK_WAIT_S):
                # an emergency shows once its manifest is in, not after the photos
                report = self.syncer.sync(on_manifests=self._hand_over)
                self._hand_over()  # and the photos that came, before the clean-up
                if self.mono() - self._last_garbage >= self.garbage_every_s:
                    self._last_garbage = self.mono()
                    gone = self.store.collect_garbage(self.syncer.keep_set(), self.mono())
                    if gone:
                        log.info("removed %d unreferenced cache files", gone)
        except StoreBusy as exc:
            error = Problem("sync_failing", str(exc))
        except Exception as exc:  # a bug must not end the board's syncing for good
            log.exception("sync failed unexpectedly")
            error = Problem("sync_failing", f"unexpected error: {exc!r}")
        self._log_changes(report, error)
        good = error is None and report is not None and report.reachable
        previous = self.status
        self.status = SyncStatus(
            last_attempt_at=started,
            last_success_at=started if good else previous.last_success_at,
            consecutive_failures=0 if good else previous.consecutive_failures + 1,
            report=report,
            error=error,
        )
        return next_delay(self.poll_s, self.status.consecutive_failures, self.rng)

    def _hand_over(self) -> None:
        content = self.syncer.load_content()
        if content != self.box.current()[0]:
            self.box.publish(content)

    def _log_changes(self, report: SyncReport | None, error: Problem | None) -> None:
        """Each problem once when it appears and once when it clears: a board polling every
        five minutes must not write the same line to its log 288 times a day."""
        now = {p for c in report.channels for p in c.problems} if report else set()
        now |= set(report.problems) if report else set()
        if error is not None:
            now.add(error)
        for problem in sorted(now - self._logged, key=lambda p: (p.code, p.message)):
            log.warning("%s: %s", problem.code, problem.message)
        for problem in sorted(self._logged - now, key=lambda p: (p.code, p.message)):
            log.info("cleared: %s: %s", problem.code, problem.message)
        self._logged = now
